//! Resetting a Raspberry Pi through its power-management watchdog (BCM2835 family): the board
//! has no PSCI with the stock firmware, so this is how it restarts when no partition runs.

use core::sync::atomic::AtomicBool;

use tock_registers::interfaces::{ReadWriteable, Writeable};
use tock_registers::register_bitfields;
use tock_registers::register_structs;
use tock_registers::registers::ReadWrite;

register_bitfields! {u32,
    /// PM_RSTC, the reset configuration.
    RSTC [
        /// WRCFG: the reset the watchdog causes.
        WRCFG OFFSET(4) NUMBITS(2) [
            FullReset = 0b10,
        ],
        /// Every write to the PM block carries the password 0x5a here.
        PASSWORD OFFSET(24) NUMBITS(8) [
            Key = 0x5a,
        ],
    ],
    /// PM_WDOG, the watchdog timer.
    WDOG [
        /// The timeout, in 16 µs ticks.
        TIME OFFSET(0) NUMBITS(20) [],
        /// Every write to the PM block carries the password 0x5a here.
        PASSWORD OFFSET(24) NUMBITS(8) [
            Key = 0x5a,
        ],
    ],
}

register_structs! {
    /// The PM block registers the reset uses.
    pub Registers {
        (0x00 => _reserved0),
        /// PM_RSTC.
        (0x1c => rstc: ReadWrite<u32, RSTC::Register>),
        (0x20 => _reserved1),
        /// PM_WDOG.
        (0x24 => wdog: ReadWrite<u32, WDOG::Register>),
        (0x28 => @END),
    }
}

const _: () = assert!(core::mem::size_of::<Registers>() == 0x28);

/// A short timeout: 10 ticks.
const WATCHDOG_TICKS: u32 = 10;

/// Arms the watchdog of the PM block at `base` for a full reset in a few microseconds and waits
/// for it; returns only if the block cannot be claimed (not mapped as device memory at EL2, or
/// claimed before).
pub fn reset_through(base: u64) {
    static CLAIMED: AtomicBool = AtomicBool::new(false);
    if let Some(pm) = super::mmio::claim::<Registers>(base, &CLAIMED) {
        arm(pm);
    }
}

/// Arms the watchdog for a full reset in a few microseconds and waits for it.
///
/// # Safety
/// `base` must be the PM block the device tree names, mapped as device memory at EL2, and no
/// partition may be using it.
pub unsafe fn reset(base: u64) -> ! {
    // SAFETY: guaranteed by the caller; the cells only do volatile accesses.
    arm(unsafe { &*(base as *const Registers) })
}

fn arm(pm: &Registers) -> ! {
    pm.wdog
        .write(WDOG::PASSWORD::Key + WDOG::TIME.val(WATCHDOG_TICKS));
    // Read-modify-write: only the password and WRCFG change.
    pm.rstc.modify(RSTC::PASSWORD::Key + RSTC::WRCFG::FullReset);
    super::park()
}
