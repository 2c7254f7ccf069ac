//! Device registers at the addresses the device tree gives (the RTOS runs with its MMU off, so
//! an address is its physical address, or its IPA in a partition). Each device is handed out
//! once, so no two drivers alias its registers.

use core::cell::Cell;
use core::ptr::NonNull;

use arm_pl011_uart::{PL011Registers, Uart};
use critical_section::Mutex;
use safe_mmio::UniqueMmioPointer;

use crate::devicetree::Platform;
use crate::drivers::bcm2711_gpio;

/// Devices handed out so far (bit 0: the console UART, bit 1: the GPIO block, bit 2: the
/// watchdog).
static TAKEN: Mutex<Cell<u8>> = Mutex::new(Cell::new(0));

fn take(bit: u8) -> bool {
    critical_section::with(|cs| {
        let taken = TAKEN.borrow(cs);
        let first = taken.get() & bit == 0;
        taken.set(taken.get() | bit);
        first
    })
}

/// The console PL011 of `platform`'s device tree (the first call only).
pub fn console_uart(platform: &Platform<'_>) -> Option<Uart<'static>> {
    let regs = NonNull::new(platform.console? as *mut PL011Registers)?;
    if !take(1 << 0) {
        return None;
    }
    // SAFETY: the device tree names this PL011 as the console (Bulkhead's virtual one in a
    // partition); this is the only pointer to it that is ever made.
    Some(Uart::new(unsafe { UniqueMmioPointer::new(regs) }))
}

/// The BCM2711 GPIO block of `platform`'s device tree (the first call only).
pub fn bcm2711_gpio(
    platform: &Platform<'_>,
) -> Option<UniqueMmioPointer<'static, bcm2711_gpio::Registers>> {
    let regs = NonNull::new(platform.gpio? as *mut bcm2711_gpio::Registers)?;
    if !take(1 << 1) {
        return None;
    }
    // SAFETY: the device tree names this GPIO block; this is the only pointer to it that is
    // ever made.
    Some(unsafe { UniqueMmioPointer::new(regs) })
}

/// The SBSA generic watchdog of `platform`'s device tree (the first call only).
pub fn sbsa_watchdog(platform: &Platform<'_>) -> Option<guest_shim::watchdog::SbsaWatchdog> {
    let frames = platform.watchdog?;
    let (control, refresh) = (
        usize::try_from(frames.control).ok()?,
        usize::try_from(frames.refresh).ok()?,
    );
    if !take(1 << 2) {
        return None;
    }
    // SAFETY: the device tree names these as the `arm,sbsa-gwdt` node's control and refresh
    // frames; this is the only driver of them that is ever made.
    Some(unsafe { guest_shim::watchdog::SbsaWatchdog::new(control, refresh) })
}
