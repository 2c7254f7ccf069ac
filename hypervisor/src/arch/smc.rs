//! Calls into the platform firmware (EL3) with the SMC conduit.

/// Makes an SMCCC fast call to the firmware and returns x0..x3.
///
/// Only the hypervisor's own calls (PSCI CPU_ON, SYSTEM_OFF) go through here; a guest's SMC is
/// trapped and never forwarded.
pub fn smc_call(function: u32, arg1: u64, arg2: u64, arg3: u64) -> [u64; 4] {
    let (mut x0, mut x1, mut x2, mut x3) = (u64::from(function), arg1, arg2, arg3);
    // SAFETY: an SMCCC fast call changes no memory the caller owns; the registers it may
    // change are declared as outputs.
    unsafe {
        core::arch::asm!(
            "smc #0",
            inout("x0") x0, inout("x1") x1, inout("x2") x2, inout("x3") x3,
            // SMCCC v1.0 firmware may corrupt x4..x17.
            lateout("x4") _, lateout("x5") _, lateout("x6") _, lateout("x7") _,
            lateout("x8") _, lateout("x9") _, lateout("x10") _, lateout("x11") _,
            lateout("x12") _, lateout("x13") _, lateout("x14") _, lateout("x15") _,
            lateout("x16") _, lateout("x17") _,
            options(nostack),
        );
    }
    [x0, x1, x2, x3]
}
