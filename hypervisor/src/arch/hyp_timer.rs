//! This CPU's EL2 physical timer (CNTHP, Arm ARM D11.2.4 "The EL2 physical timer"): the
//! hypervisor's own timer, which interrupts EL2 through PPI 26 whatever the guest does. Partition
//! watchdogs' deadlines are armed on it (`vcpu::watchdog`).

use aarch64_cpu::registers::{Writeable, CNTHP_CTL_EL2};

/// Arms the timer to fire once the physical counter reaches `deadline`, or disarms it (`None`).
pub fn set(deadline: Option<u64>) {
    match deadline {
        Some(deadline) => {
            // SAFETY: CNTHP_CVAL_EL2 is this CPU's EL2 timer compare value; writing it changes
            // only when that timer's interrupt asserts, no memory.
            unsafe {
                core::arch::asm!("msr cnthp_cval_el2, {}", in(reg) deadline,
                    options(nomem, nostack, preserves_flags))
            };
            CNTHP_CTL_EL2.write(CNTHP_CTL_EL2::ENABLE::SET + CNTHP_CTL_EL2::IMASK::CLEAR);
        }
        None => CNTHP_CTL_EL2.write(CNTHP_CTL_EL2::ENABLE::CLEAR),
    }
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
}

/// Masks the timer's interrupt (it fired; the next [`set`] arms it again).
pub fn mask() {
    CNTHP_CTL_EL2.write(CNTHP_CTL_EL2::ENABLE::SET + CNTHP_CTL_EL2::IMASK::SET);
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
}
