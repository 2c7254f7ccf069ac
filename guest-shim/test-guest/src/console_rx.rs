//! `console-rx=1` (`gic=GICD,GICR`): the `console_rx` scenario (`hil-tests/test_console_rx.py`).
//! Input enters the partition's own virtual PL011 through the test-hooks call
//! BULKHEAD_TEST_CONSOLE_INPUT (a stand-in for the hypervisor console's receive path); the
//! guest takes it the way a driver does: the UART's receive and receive-timeout interrupts
//! (INTID 33 in its virtual GIC), drained into guest-shim's `InputRing` and read as a line.
//! It checks that nothing interrupts before input arrives, that a line typed in two batches
//! comes out whole, and that the receive FIFO takes 32 bytes and no more.

use core::fmt::Write;

use guest_shim::boot_info::{parse_u64, BootInfo};
use guest_shim::bulkhead::{self, TEST_CONSOLE_INPUT};
use guest_shim::console::{InputRing, Pl011};
use guest_shim::gic::{self, GicV3};
use guest_shim::{smccc, timer};

use crate::guest::Checks;

/// The virtual PL011's interrupt (docs/guest-abi.md, "Virtual console").
const UART_INTID: u32 = 33;
/// Its priority, and the timer's, which ends waits that time out.
const PRIORITY: u8 = 0x80;
const TIMER_PRIORITY: u8 = 0xa0;
/// How long to wait for the UART's interrupt (guest time).
const TIMEOUT_US: u64 = 2_000_000;

/// Runs the scenario on the UART at `base`.
pub fn run(out: &mut Pl011, info: &BootInfo<'_>) {
    let mut checks = Checks {
        out,
        passed: 0,
        failed: 0,
    };
    if bulkhead::detect().is_none() {
        checks.check("rx-detect", false, format_args!("no Bulkhead"));
        return;
    }
    let Some(gic) = gic_from(info) else {
        checks.check("rx-gic", false, format_args!("no gic= argument"));
        return;
    };
    gic.enable_distributor();
    gic.wake_redistributor();
    gic.configure(timer::VIRTUAL_TIMER_INTID, TIMER_PRIORITY, 0);
    gic.set_enabled(timer::VIRTUAL_TIMER_INTID, true);
    gic.configure(UART_INTID, PRIORITY, 0);
    gic.set_enabled(UART_INTID, true);
    gic::enable_cpu_interface();
    // SAFETY: the console node of our own device tree is a PL011 mapped for us; this second
    // handle is used only while the first prints nothing (between the checks' lines).
    let mut uart = unsafe { Pl011::new(info.console.unwrap_or(0x0900_0000)) };
    uart.enable_receive_interrupt();

    let quiet = wait_interrupt(&mut uart, &mut InputRing::new(), 200_000);
    checks.check(
        "rx-quiet",
        quiet == 0,
        format_args!("{quiet} interrupt(s) before any input"),
    );

    let mut ring = InputRing::new();
    let taken = [input(b"ping"), input(b"\r")];
    let mut interrupts = 0;
    let mut line = [0u8; 16];
    let mut length = None;
    while length.is_none() {
        let got = wait_interrupt(&mut uart, &mut ring, TIMEOUT_US);
        if got == 0 {
            break;
        }
        interrupts += got;
        length = ring.read_line(&mut line);
    }
    let text = core::str::from_utf8(line.get(..length.unwrap_or(0)).unwrap_or(&[])).unwrap_or("?");
    checks.check(
        "rx-line",
        taken == [4, 1] && text == "ping",
        format_args!("taken={taken:?} line={text:?} interrupts={interrupts}"),
    );
    let _ = writeln!(checks.out, "HIL:RX line={text} interrupts={interrupts}");

    // Masked at the UART: the FIFO fills to 32 and the 33rd byte is refused.
    // SAFETY: as above.
    let mut masked = unsafe { Pl011::new(info.console.unwrap_or(0x0900_0000)) };
    masked.disable_receive_interrupt();
    let total: u64 = (0..10).map(|_| input(b"abcd")).sum();
    let mut drained = InputRing::new();
    let read = masked.receive_into(&mut drained);
    checks.check(
        "rx-fifo-depth",
        total == 32 && read == 32,
        format_args!("taken={total} read={read}"),
    );
    let (passed, failed) = (checks.passed, checks.failed);
    let _ = writeln!(checks.out, "HIL:CHECKS passed={passed} failed={failed}");
}

/// Feeds `bytes` (at most 4) to our own virtual PL011; how many it took.
fn input(bytes: &[u8]) -> u64 {
    let mut packed = [0u8; 4];
    packed
        .iter_mut()
        .zip(bytes)
        .for_each(|(slot, &byte)| *slot = byte);
    let regs = smccc::call(
        TEST_CONSOLE_INPUT,
        [
            bytes.len() as u64,
            u64::from(u32::from_le_bytes(packed)),
            0,
            0,
            0,
            0,
        ],
    );
    if regs[0] == 0 {
        regs[1]
    } else {
        0
    }
}

/// Waits up to `micros` for the UART's interrupt; each one is drained into `ring` and ended.
/// Returns how many came (it returns at the first, or at the timeout with 0).
fn wait_interrupt(uart: &mut Pl011, ring: &mut InputRing, micros: u64) -> u64 {
    let deadline = timer::counter() + timer::frequency() / 1_000_000 * micros;
    timer::arm_virtual_timer(deadline);
    let got = loop {
        gic::wait_for_interrupt();
        match gic::acknowledge() {
            gic::SPURIOUS => continue,
            timer::VIRTUAL_TIMER_INTID => {
                gic::end_of_interrupt(timer::VIRTUAL_TIMER_INTID);
                break 0;
            }
            UART_INTID => {
                uart.receive_into(ring);
                gic::end_of_interrupt(UART_INTID);
                break 1;
            }
            other => gic::end_of_interrupt(other),
        }
    };
    timer::stop_virtual_timer();
    got
}

/// The GIC named by `gic=<distributor>,<redistributor of vCPU 0>`.
fn gic_from(info: &BootInfo<'_>) -> Option<GicV3> {
    let (distributor, redistributor) = info.arg("gic")?.split_once(',')?;
    let (distributor, redistributor) = (parse_u64(distributor)?, parse_u64(redistributor)?);
    // SAFETY: the boot arguments name this partition's (virtual) GIC; only this code drives it.
    Some(unsafe { GicV3::new(distributor as usize, redistributor as usize) })
}
