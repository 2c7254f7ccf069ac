//! Entering guests: the EL2 controls for running a partition's vCPU on this CPU.

use super::frame::TrapFrame;
use super::sysreg::{HACR_EL2, HSTR_EL2, VPIDR_EL2};
use aarch64_cpu::registers::{
    Readable, Writeable, CNTHCTL_EL2, CNTHP_CTL_EL2, CNTKCTL_EL1, CNTVOFF_EL2, CNTV_CTL_EL0,
    CPTR_EL2, HCR_EL2, ICC_SRE_EL2, MIDR_EL1, SCTLR_EL1, VMPIDR_EL2, VTCR_EL2, VTTBR_EL2,
};
/// SCTLR_EL1 at reset for a guest: RES1 bits only; MMU and caches off, little endian.
const SCTLR_EL1_RESET: u64 = 0x30d0_0800;
/// SPSR_EL2 for entering a guest: EL1h with D, A, I and F masked.
const SPSR_EL1H_MASKED: u64 = 0x3c5;

/// What a vCPU starts with (the Linux arm64 boot protocol).
#[derive(Clone, Copy, Debug)]
pub struct GuestEntry {
    /// Entry point (IPA).
    pub entry: u64,
    /// x0: the partition's device tree (IPA), or 0.
    pub x0: u64,
    /// VMPIDR_EL2: the MPIDR the guest reads for this vCPU.
    pub vmpidr: u64,
}

/// Sets the EL2 controls of this CPU for running the partition whose stage-2 root is
/// `vttbr` (VMID in bits [63:48]) with translation control `vtcr`; without GIC system
/// registers (a GICv2), also the vector table whose timer fast path uses the GICv2 interfaces.
///
/// # Safety
/// `vttbr` must point to a complete stage-2 table that maps only memory and devices the
/// partition owns, and that stays valid while the partition runs.
pub unsafe fn prepare_el2_for_guests(vtcr: u64, vttbr: u64, gic_sysregs: bool) {
    VTCR_EL2.set(vtcr);
    VTTBR_EL2.set(vttbr);
    // Arm ARM D19.2.48: stage 2 on; physical interrupts and SErrors go to EL2; guest TLB and
    // cache maintenance broadcast; SMC traps; EL1 is AArch64.
    HCR_EL2.write(
        HCR_EL2::VM::Enable
            + HCR_EL2::SWIO::SET
            + HCR_EL2::FMO::EnableVirtualFIQ
            + HCR_EL2::IMO::EnableVirtualIRQ
            + HCR_EL2::AMO::SET
            + HCR_EL2::FB::SET
            + HCR_EL2::TSC::EnableTrapEl1SmcToEl2
            + HCR_EL2::RW::EL1IsAarch64,
    );
    // The rest of the EL2 controls, in full, with their reasons (`crate::el2_state`).
    let controls = crate::el2_state::for_guests(MIDR_EL1.get());
    HSTR_EL2.set(controls.hstr);
    CPTR_EL2.set(controls.cptr);
    CNTHCTL_EL2.set(controls.cnthctl);
    CNTVOFF_EL2.set(controls.cntvoff);
    CNTHP_CTL_EL2.set(controls.cnthp_ctl);
    HACR_EL2.set(controls.hacr);
    VPIDR_EL2.set(controls.vpidr);
    if gic_sysregs {
        // EL1 may use the GIC system registers.
        ICC_SRE_EL2.write(
            ICC_SRE_EL2::SRE::SET
                + ICC_SRE_EL2::DFB::SET
                + ICC_SRE_EL2::DIB::SET
                + ICC_SRE_EL2::ENABLE::SET,
        );
    } else {
        // SAFETY: `el2_vectors_gicv2` is a complete EL2 vector table (vectors.S), the same as
        // the one in use but for its GICv2 timer fast path; nothing is in flight on this CPU.
        unsafe {
            core::arch::asm!(
                "adrp {t}, el2_vectors_gicv2",
                "add {t}, {t}, :lo12:el2_vectors_gicv2",
                "msr vbar_el2, {t}",
                "isb",
                t = out(reg) _,
                options(nostack),
            );
        }
    }
    // SAFETY: invalidating stage-1 and stage-2 TLB entries of the current VMID only costs walks.
    unsafe {
        core::arch::asm!("isb", "tlbi vmalls12e1", "dsb nsh", "isb", options(nostack));
    }
}

/// Puts this CPU's EL1 state back to its reset values before a guest (re)starts: MMU off, the
/// virtual timer off.
pub fn reset_el1_state(vmpidr: u64) {
    VMPIDR_EL2.set(vmpidr);
    SCTLR_EL1.set(SCTLR_EL1_RESET);
    CNTV_CTL_EL0.set(0);
    CNTKCTL_EL1.set(0);
    // SAFETY: a barrier and a TLB invalidation of this VMID only cost walks.
    unsafe { core::arch::asm!("tlbi vmalls12e1", "dsb nsh", "isb", options(nostack)) };
}

impl TrapFrame {
    /// The frame that starts a vCPU at `entry` with the Linux arm64 boot protocol.
    pub fn boot(entry: &GuestEntry) -> Self {
        let mut frame = TrapFrame {
            elr: entry.entry,
            spsr: SPSR_EL1H_MASKED,
            ..Default::default()
        };
        frame.x[0] = entry.x0;
        frame
    }
}

extern "C" {
    fn enter_guest_asm(frame: *const TrapFrame) -> !;
}

/// Enters the guest at `entry`; this CPU returns to EL2 only through the exception vectors.
/// Everything on this CPU's stack is abandoned: the guest runs with SP_EL2 at the top of this
/// CPU's stack, so however deep the caller is, every entry and trap starts at the same depth.
pub fn enter_guest(entry: &GuestEntry) -> ! {
    if crate::fatal::failed() {
        super::park()
    }
    super::stack::paint_once(super::current_cpu());
    reset_el1_state(entry.vmpidr);
    let frame = TrapFrame::boot(entry);
    // SAFETY: `enter_guest_asm` reads `frame` once, after moving SP to this CPU's stack top
    // (nothing writes the stack in between: interrupts are masked at EL2); the EL2 controls were
    // set by `prepare_el2_for_guests`. The frames it abandons are the caller's loop, which holds
    // no lock guard: the CPU comes back only through the vectors.
    unsafe { enter_guest_asm(&frame) }
}

/// Translates a guest virtual address through the guest's stage-1 and stage-2 tables (AT S12E1R).
/// Returns the physical address, or `None` if the walk faults.
pub fn translate_guest_va(va: u64) -> Option<u64> {
    let par: u64;
    // SAFETY: AT only updates PAR_EL1, which the guest does not expect preserved across a trap
    // that stops it (this is used only for fault reports).
    unsafe {
        core::arch::asm!("at s12e1r, {va}", "isb", "mrs {par}, par_el1",
            va = in(reg) va, par = out(reg) par, options(nostack));
    }
    if par & 1 != 0 {
        return None;
    }
    Some((par & 0x0000_ffff_ffff_f000) | (va & 0xfff))
}
