//! The console scenarios' roles (issue 12):
//! - `flood=S`: write lines as fast as the virtual PL011 takes them for S seconds of counter
//!   time, then say how many bytes were written (`HIL:FLOOD done lines=N bytes=B`); `flood-ms=M`:
//!   the same for M milliseconds;
//! - `prompt=1` (`prompt-after-ms=M`: after M ms): print a prompt without a newline (`HIL:PROMPT name? `), read a line from the
//!   virtual PL011's receiver (polling UARTFR.RXFE, echoing what arrives), then print
//!   `HIL:PROMPT answer=<line>`.

use core::fmt::Write;

use guest_shim::console::Pl011;
use guest_shim::{mmio, timer};

/// UARTFR (0x018): receive FIFO empty (PL011 TRM 3.3.3).
const FR_RXFE: u32 = 1 << 4;

/// Writes for `ms` milliseconds of counter time, as fast as the UART takes the bytes.
pub fn flood(out: &mut Pl011, ms: u64) {
    if ms.is_multiple_of(1000) {
        let _ = writeln!(out, "HIL:FLOOD start seconds={}", ms / 1000);
    } else {
        let _ = writeln!(out, "HIL:FLOOD start ms={ms}");
    }
    let end = timer::counter() + ms * timer::frequency() / 1000;
    let mut counted = Counted { out, bytes: 0 };
    let mut lines = 0u64;
    while timer::counter() < end {
        let _ = writeln!(
            counted,
            "HIL:FLOOD {lines} the quick brown fox jumps over the lazy dog"
        );
        lines += 1;
    }
    let bytes = counted.bytes;
    let _ = writeln!(out, "HIL:FLOOD done lines={lines} bytes={bytes}");
}

/// Prints a prompt without a newline and waits for a line of input.
pub fn prompt(out: &mut Pl011, base: usize, after_ms: u64) {
    timer::delay_us(after_ms * 1000);
    let _ = out.write_str("HIL:PROMPT name? ");
    let mut answer = [0u8; 64];
    let mut len = 0;
    loop {
        // SAFETY: `base` is this partition's (virtual) PL011; reading UARTFR has no side
        // effect and reading UARTDR takes the byte the FIFO holds.
        let byte = unsafe {
            while mmio::read32(base + 0x18) & FR_RXFE != 0 {
                core::hint::spin_loop();
            }
            mmio::read32(base) as u8
        };
        if byte == b'\r' || byte == b'\n' {
            break;
        }
        out.write_byte(byte);
        if (byte.is_ascii_graphic() || byte == b' ') && len < answer.len() {
            answer[len] = byte;
            len += 1;
        }
    }
    let answer = core::str::from_utf8(&answer[..len]).unwrap_or("?");
    let _ = writeln!(out, "\nHIL:PROMPT answer={answer}");
}

/// The UART, counting the bytes written through it (carriage returns included).
struct Counted<'a> {
    out: &'a mut Pl011,
    bytes: u64,
}

impl Write for Counted<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.bytes += s.len() as u64 + s.bytes().filter(|&b| b == b'\n').count() as u64;
        self.out.write_str(s)
    }
}
