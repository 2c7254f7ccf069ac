//! The EL1 registers the runtime touches: the virtual counter and timer, the interrupt mask,
//! the vector base and the CPU's affinity.

use crate::time::{Frequency, Instant};

/// CNTV_CTL_EL0.ENABLE.
const CNTV_CTL_ENABLE: u64 = 1 << 0;
/// DAIF.I: IRQs masked (bit 7 of DAIF as `mrs` reads it).
const DAIF_I: u64 = 1 << 7;

/// Reads CNTVCT_EL0 (after an `isb`, so it is not read early).
#[inline(always)]
pub fn now() -> Instant {
    let value: u64;
    // SAFETY: reading the virtual counter has no side effects.
    unsafe {
        core::arch::asm!("isb", "mrs {}, cntvct_el0", out(reg) value, options(nomem, nostack))
    };
    Instant(value)
}

/// Whether this CPU runs with its stage-1 MMU and data and instruction caches on
/// (SCTLR_EL1.M, C and I: `arch::boot` turns them on at the first instruction).
pub fn caches_on() -> bool {
    const ON: u64 = (1 << 0) | (1 << 2) | (1 << 12);
    let sctlr: u64;
    // SAFETY: reading SCTLR_EL1 has no side effects.
    unsafe { core::arch::asm!("mrs {}, sctlr_el1", out(reg) sctlr, options(nomem, nostack)) };
    sctlr & ON == ON
}

/// Reads CNTFRQ_EL0.
pub fn frequency() -> Frequency {
    let value: u64;
    // SAFETY: reading the counter frequency has no side effects.
    unsafe { core::arch::asm!("mrs {}, cntfrq_el0", out(reg) value, options(nomem, nostack)) };
    Frequency(value)
}

/// Sets the virtual timer to fire at `at` (CNTV_CVAL_EL0, enabled, unmasked), or stops it.
pub fn set_virtual_timer(at: Option<Instant>) {
    let (cval, ctl) = match at {
        Some(at) => (at.0, CNTV_CTL_ENABLE),
        None => (u64::MAX, 0),
    };
    // SAFETY: the virtual timer belongs to this CPU's EL1; writing it only changes when its
    // interrupt fires. The `isb` makes the new setting take effect before we go on.
    unsafe {
        core::arch::asm!(
            "msr cntv_cval_el0, {cval}",
            "msr cntv_ctl_el0, {ctl}",
            "isb",
            cval = in(reg) cval,
            ctl = in(reg) ctl,
            options(nomem, nostack),
        )
    };
}

/// Whether IRQs are masked (PSTATE.I).
pub fn irqs_masked() -> bool {
    let daif: u64;
    // SAFETY: reading DAIF has no side effects.
    unsafe { core::arch::asm!("mrs {}, daif", out(reg) daif, options(nomem, nostack)) };
    daif & DAIF_I != 0
}

/// Masks IRQs.
#[inline(always)]
pub fn mask_irqs() {
    // SAFETY: masking interrupts only delays them; the compiler may not move memory accesses
    // across it (no `nomem`), so it orders like a lock acquire.
    unsafe { core::arch::asm!("msr daifset, #2", options(nostack)) };
}

/// Unmasks IRQs.
#[inline(always)]
pub fn unmask_irqs() {
    // SAFETY: the vector table is installed before interrupts are first unmasked; no `nomem`,
    // so this orders like a lock release.
    unsafe { core::arch::asm!("msr daifclr, #2", options(nostack)) };
}

/// Waits for an interrupt (`wfi`).
pub fn wait_for_interrupt() {
    // SAFETY: `wfi` only suspends this CPU until an interrupt is pending.
    unsafe { core::arch::asm!("wfi", options(nomem, nostack, preserves_flags)) };
}

/// MPIDR_EL1's affinity fields (Aff3 in bits [39:32], Aff2..Aff0 in [23:0]).
pub fn affinity() -> u64 {
    let mpidr: u64;
    // SAFETY: reading MPIDR_EL1 has no side effects.
    unsafe { core::arch::asm!("mrs {}, mpidr_el1", out(reg) mpidr, options(nomem, nostack)) };
    mpidr & 0xff_00ff_ffff
}

/// Sleeps (`wfi`) until `done()` holds, taking interrupts in between. `done` is checked with
/// IRQs masked and `wfi` runs masked too (it still wakes for a pending interrupt), so an
/// interrupt that makes `done` true between the check and the `wfi` cannot be slept through.
pub fn idle_until(mut done: impl FnMut() -> bool) {
    loop {
        mask_irqs();
        if done() {
            unmask_irqs();
            return;
        }
        wait_for_interrupt();
        unmask_irqs();
    }
}
