//! The EL2 physical timer (CNTHP, Arm ARM D12.8): the hypervisor's own alarm, PPI 26 on every
//! CPU. The console uses it to show a partial line after its quiet time and to resume draining
//! once the wire has room, without any vCPU waiting.

use aarch64_cpu::registers::{Writeable, CNTHP_CTL_EL2};

use super::sysreg::CNTHP_CVAL_EL2;

/// The timer's interrupt (the EL2 physical timer PPI, GIC INTID 26, on QEMU virt and BCM2711).
pub const INTID: u32 = 26;

/// Makes this CPU's EL2 timer fire once the physical counter reaches `deadline` (at once if it
/// already has); replaces an earlier deadline.
pub fn arm_at(deadline: u64) {
    CNTHP_CVAL_EL2.set(deadline);
    CNTHP_CTL_EL2.write(CNTHP_CTL_EL2::ENABLE::SET + CNTHP_CTL_EL2::IMASK::CLEAR);
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
}

/// Stops this CPU's EL2 timer (its interrupt is no longer asserted).
pub fn disarm() {
    CNTHP_CTL_EL2.set(0);
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
}
