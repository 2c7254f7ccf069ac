//! Resetting a Raspberry Pi through its power-management watchdog (BCM2835 family): the board
//! has no PSCI with the stock firmware, so this is how it restarts when no partition runs.

use crate::arch;

/// PM_RSTC (0x1c): reset configuration.
const PM_RSTC: u64 = 0x1c;
/// PM_WDOG (0x24): watchdog timer, in 16 µs ticks.
const PM_WDOG: u64 = 0x24;
/// Every write to the PM block carries this password in bits [31:24].
const PM_PASSWORD: u32 = 0x5a00_0000;
/// PM_RSTC.WRCFG: the reset the watchdog causes (bits [5:4]); 0b10 = full reset.
const PM_RSTC_WRCFG_MASK: u32 = 0x30;
const PM_RSTC_WRCFG_FULL_RESET: u32 = 0x20;
/// A short timeout: 10 ticks.
const WATCHDOG_TICKS: u32 = 10;

/// Arms the watchdog for a full reset in a few microseconds and waits for it.
///
/// # Safety
/// `base` must be the PM block the device tree names, mapped as device memory at EL2, and no
/// partition may be using it.
pub unsafe fn reset(base: u64) -> ! {
    // SAFETY: guaranteed by the caller; these writes only arm the watchdog.
    unsafe {
        arch::write32(base + PM_WDOG, PM_PASSWORD | WATCHDOG_TICKS);
        let rstc = arch::read32(base + PM_RSTC) & !PM_RSTC_WRCFG_MASK;
        arch::write32(
            base + PM_RSTC,
            PM_PASSWORD | rstc | PM_RSTC_WRCFG_FULL_RESET,
        );
    }
    arch::park()
}
