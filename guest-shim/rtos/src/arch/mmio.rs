//! Device registers at the addresses the device tree gives (the RTOS runs with its MMU off, so
//! an address is its physical address, or its IPA in a partition).

use core::ptr::NonNull;

use arm_pl011_uart::{PL011Registers, Uart};
use safe_mmio::UniqueMmioPointer;

use crate::drivers::bcm2711_gpio;

/// The PL011 at `base`.
///
/// # Safety
/// `base` must be a PL011 (or Bulkhead's virtual one) that nothing else drives.
pub unsafe fn uart(base: u64) -> Option<Uart<'static>> {
    let regs = NonNull::new(base as *mut PL011Registers)?;
    // SAFETY: the caller's promise.
    Some(Uart::new(unsafe { UniqueMmioPointer::new(regs) }))
}

/// The BCM2711 GPIO block at `base`.
///
/// # Safety
/// `base` must be the GPIO block, which nothing else drives.
pub unsafe fn bcm2711_gpio(base: u64) -> Option<UniqueMmioPointer<'static, bcm2711_gpio::Registers>> {
    let regs = NonNull::new(base as *mut bcm2711_gpio::Registers)?;
    // SAFETY: the caller's promise.
    Some(unsafe { UniqueMmioPointer::new(regs) })
}
