//! EL2 system registers that are set once per CPU, and the identification registers policy
//! depends on (through `aarch64-cpu`'s typed registers).

use aarch64_cpu::registers::{
    Readable, ID_AA64MMFR0_EL1, ID_AA64PFR0_EL1, MIDR_EL1, MPIDR_EL1, TPIDR_EL2,
};

/// ID_AA64PFR0_EL1.GIC, bits [27:24] (`aarch64-cpu` does not name this field).
const PFR0_GIC_SHIFT: u64 = 24;

/// This CPU's logical index (TPIDR_EL2, set by `entry.S`).
pub fn current_cpu() -> usize {
    TPIDR_EL2.get() as usize
}

/// Identification registers the hypervisor's policy depends on.
#[derive(Clone, Copy, Debug)]
pub struct CpuFeatures {
    /// MIDR_EL1.
    pub midr: u64,
    /// MPIDR_EL1.
    pub mpidr: u64,
    /// ID_AA64MMFR0_EL1.PARange: the physical address size.
    pub pa_range: u8,
    /// ID_AA64PFR0_EL1.GIC: the GICv3 system register interface is implemented.
    pub gic_sysregs: bool,
}

/// Reads this CPU's identification registers.
pub fn cpu_features() -> CpuFeatures {
    CpuFeatures {
        midr: MIDR_EL1.get(),
        mpidr: MPIDR_EL1.get(),
        pa_range: ID_AA64MMFR0_EL1.read(ID_AA64MMFR0_EL1::PARange) as u8,
        gic_sysregs: (ID_AA64PFR0_EL1.get() >> PFR0_GIC_SHIFT) & 0xf != 0,
    }
}

/// The EL2 stage-1 translation settings, shared by every CPU (`entry.S` reads them on
/// secondaries, in this order).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MmuState {
    /// MAIR_EL2.
    pub mair: u64,
    /// TCR_EL2.
    pub tcr: u64,
    /// TTBR0_EL2.
    pub ttbr0: u64,
    /// SCTLR_EL2 with the MMU and caches on.
    pub sctlr: u64,
}

/// The state `secondary_entry` loads; written by the boot CPU before it starts any secondary.
#[no_mangle]
static mut EL2_MMU_STATE: MmuState = MmuState {
    mair: 0,
    tcr: 0,
    ttbr0: 0,
    sctlr: 0,
};

/// Turns on the EL2 MMU and caches on this CPU with `state`, and publishes `state` for
/// secondary CPUs (cleaned to the point of coherency, as they start with their MMU off).
///
/// # Safety
/// `state.ttbr0` must be a complete identity map of all memory and devices the hypervisor uses,
/// including this code, its stacks and its data, with attributes that agree with their use.
pub unsafe fn set_mmu_state(state: MmuState) {
    let published = core::ptr::addr_of_mut!(EL2_MMU_STATE);
    // SAFETY: only the boot CPU writes EL2_MMU_STATE, before any secondary CPU runs.
    unsafe { published.write_volatile(state) };
    super::clean_dcache_range(published as u64, core::mem::size_of::<MmuState>() as u64);
    // SAFETY: the caller guarantees the tables identity-map everything in use, so enabling the
    // MMU does not move this code or its data. The TLB is invalidated before the switch.
    unsafe {
        core::arch::asm!(
            "msr mair_el2, {mair}",
            "msr tcr_el2, {tcr}",
            "msr ttbr0_el2, {ttbr0}",
            "isb",
            "tlbi alle2",
            "dsb nsh",
            "isb",
            "msr sctlr_el2, {sctlr}",
            "isb",
            mair = in(reg) state.mair,
            tcr = in(reg) state.tcr,
            ttbr0 = in(reg) state.ttbr0,
            sctlr = in(reg) state.sctlr,
            options(nostack),
        );
    }
}

/// Every CPU's MPIDR affinity (as the device tree writes it), by logical index: `entry.S`
/// finds a secondary CPU's index here. Written by the boot CPU before it starts any other.
#[no_mangle]
static mut CPU_MPIDRS: [u64; crate::MAX_CPUS] = [u64::MAX; crate::MAX_CPUS];

/// Publishes the logical CPU numbering for secondary CPUs (cleaned to the point of coherency:
/// they read it with their MMU off).
pub fn publish_cpu_mpidrs(mpidrs: &[u64]) {
    let table = core::ptr::addr_of_mut!(CPU_MPIDRS);
    for (index, &mpidr) in mpidrs.iter().take(crate::MAX_CPUS).enumerate() {
        // SAFETY: only the boot CPU writes the table, before any secondary CPU runs.
        unsafe { (*table)[index] = mpidr };
    }
    super::clean_dcache_range(
        table as u64,
        core::mem::size_of::<[u64; crate::MAX_CPUS]>() as u64,
    );
}
