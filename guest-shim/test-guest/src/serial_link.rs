//! `serial=ADDR serial-bytes=N`: one end of scenario `ipc_serial_link`
//! (`hil-tests/test_ipc_serial_link.py`). The partition's virtio-console port 0 (the serial
//! channel's device at ADDR, driven by guest-shim's `virtio_port` over the `virtio-drivers`
//! crate) sends N bytes of a known pattern to the other end (Linux, which loops them back),
//! then reads N bytes and checks each against the pattern: none lost, none reordered.

use core::fmt::Write;

use guest_shim::boot_info::{parse_u64, BootInfo};
use guest_shim::console::Pl011;
use guest_shim::virtio_port::{SerialPort, RX_BUFFER};

/// Byte `i` of the pattern (hil-tests computes the same).
pub fn pattern(i: u64) -> u8 {
    (i.wrapping_mul(131) ^ (i >> 11)) as u8
}

/// FNV-1a, 32 bits, over bytes fed one at a time.
struct Fnv(u32);

impl Fnv {
    fn add(&mut self, byte: u8) {
        self.0 = (self.0 ^ u32::from(byte)).wrapping_mul(0x0100_0193);
    }
}

/// Runs the role; returns when the bytes are checked (or the port failed).
pub fn run(out: &mut Pl011, info: &BootInfo<'_>, address: &str) {
    let Some(base) = parse_u64(address) else {
        let _ = writeln!(out, "HIL:SERIAL FAIL bad address {address}");
        return;
    };
    let total = info
        .arg("serial-bytes")
        .and_then(parse_u64)
        .unwrap_or(1 << 20);
    // SAFETY: the address is this partition's virtio device window (its device tree and the
    // scenario's configuration say so), used by nothing else.
    let mut port = match unsafe { SerialPort::new(base as usize) } {
        Ok(port) => port,
        Err(e) => {
            let _ = writeln!(out, "HIL:SERIAL FAIL bring-up {e:?}");
            return;
        }
    };
    let _ = writeln!(
        out,
        "HIL:SERIAL up status={:#x} bytes={total}",
        port.status()
    );
    let mut sent = Fnv(0x811c_9dc5);
    let mut chunk = [0u8; RX_BUFFER];
    let mut at = 0u64;
    while at < total {
        let n = (total - at).min(chunk.len() as u64) as usize;
        for (k, byte) in chunk.iter_mut().take(n).enumerate() {
            *byte = pattern(at + k as u64);
            sent.add(*byte);
        }
        if let Err(e) = port.write(chunk.get(..n).unwrap_or_default()) {
            let _ = writeln!(out, "HIL:SERIAL FAIL write at {at}: {e:?}");
            return;
        }
        at += n as u64;
    }
    let _ = writeln!(out, "HIL:SERIAL sent={at} fnv={:#010x}", sent.0);
    let mut received = Fnv(0x811c_9dc5);
    let mut got = 0u64;
    let mut mismatches = 0u64;
    let mut first_bad: Option<u64> = None;
    while got < total {
        let n = match port.read(&mut chunk) {
            Ok(n) => n,
            Err(e) => {
                let _ = writeln!(out, "HIL:SERIAL FAIL read at {got}: {e:?}");
                return;
            }
        };
        for &byte in chunk.iter().take(n) {
            received.add(byte);
            if byte != pattern(got) {
                mismatches += 1;
                first_bad.get_or_insert(got);
            }
            got += 1;
        }
        if n == 0 {
            core::hint::spin_loop();
        }
    }
    let _ = writeln!(
        out,
        "HIL:SERIAL received={got} fnv={:#010x} mismatches={mismatches} first-bad={first_bad:?} ok={}",
        received.0,
        mismatches == 0 && received.0 == sent.0
    );
}
