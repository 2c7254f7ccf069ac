//! The EL2 controls every CPU writes in full before it enters a guest, as pure values: `arch`
//! (`arch::vcpu::prepare_el2_for_guests`) only writes them. A register the firmware left as it
//! was (the armstub writes few, and its reset values are UNKNOWN) would make a partition's
//! behaviour depend on the board's firmware; each value here says why it is what it is.
//!
//! Written elsewhere, each in full as well:
//! - `SCTLR_EL2`: [`crate::pagetable::el2::SCTLR_MMU_ON`] (MMU, caches, SA, WXN), with the EL2
//!   map, before any Rust code that takes a lock (`arch::set_mmu_state`, `entry.S`).
//! - `VTCR_EL2`/`VTTBR_EL2`: the partition's stage 2 (`pagetable::stage2`).
//! - `VMPIDR_EL2` and the guest's EL1 reset state: per vCPU, at every (re)start
//!   (`arch::vcpu::reset_el1_state`).
//! - The GIC's virtual interface: GICv2 `GICH_HCR` (En), `GICH_VMCR` = 0, every `GICH_LR` = 0
//!   in `arch::gic_v2::init_cpu` and `GICH_APR` = 0 at every vCPU reset; GICv3 `ICH_HCR_EL2`,
//!   `ICH_VMCR_EL2`, `ICH_LR<n>_EL2`, `ICH_AP0R/AP1R<n>_EL2` in `arch::gic_v3` likewise, and
//!   `ICC_SRE_EL2` in `prepare_el2_for_guests`.
//! - `HCR_EL2` and `MDCR_EL2`: their trap bits are set by the vCPU trap configuration (per
//!   partition), not here.

/// The EL2 controls that are the same for every partition on this CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct El2Controls {
    /// HSTR_EL2.
    pub hstr: u64,
    /// CPTR_EL2 (HCR_EL2.E2H = 0 layout).
    pub cptr: u64,
    /// CNTHCTL_EL2 (HCR_EL2.E2H = 0 layout).
    pub cnthctl: u64,
    /// CNTVOFF_EL2.
    pub cntvoff: u64,
    /// CNTHP_CTL_EL2.
    pub cnthp_ctl: u64,
    /// HACR_EL2.
    pub hacr: u64,
    /// VPIDR_EL2.
    pub vpidr: u64,
}

/// CPTR_EL2.TFP, bit 10: trap FP/SIMD.
pub const CPTR_TFP: u64 = 1 << 10;
/// CPTR_EL2.TTA, bit 20: trap trace system register accesses.
pub const CPTR_TTA: u64 = 1 << 20;
/// CPTR_EL2.TCPAC, bit 31: trap CPACR_EL1 accesses.
pub const CPTR_TCPAC: u64 = 1 << 31;
/// CPTR_EL2's RES1 bits with E2H = 0: [13:12] and [9:0]; bit 8 (TZ, trap SVE) is among them
/// when SVE is not implemented (the Cortex-A72) and traps SVE when it is.
pub const CPTR_RES1: u64 = 0x33ff;
/// CNTHCTL_EL2.EL1PCTEN, bit 0: EL1/EL0 may read the physical counter.
pub const CNTHCTL_EL1PCTEN: u64 = 1 << 0;
/// CNTHCTL_EL2.EL1PCEN, bit 1: EL1/EL0 may use the EL1 physical timer.
pub const CNTHCTL_EL1PCEN: u64 = 1 << 1;
/// CNTHCTL_EL2.EVNTEN, bit 2: the event stream.
pub const CNTHCTL_EVNTEN: u64 = 1 << 2;

/// The controls for running guests on a CPU whose MIDR_EL1 is `midr`.
pub fn for_guests(midr: u64) -> El2Controls {
    El2Controls {
        // No trap of AArch32 CP15 accesses: every partition is AArch64 only (HCR_EL2.RW), so
        // the register only matters if that ever changes; its reset value is UNKNOWN.
        hstr: 0,
        // FP/SIMD not trapped (TFP = 0): each guest owns its FP state and EL2 never touches
        // FP. CPACR_EL1 not trapped (TCPAC = 0): the guest enables its own FP. Trace registers
        // not trapped (TTA = 0): the Cortex-A72's trace unit is reached through memory-mapped
        // CoreSight, which no partition is given; a trap would stop a guest that merely probes.
        // SVE trapped where it exists (TZ, inside the RES1 bits): not context-switched.
        cptr: CPTR_RES1,
        // The physical counter readable (EL1PCTEN): CNTPCT is the same for everyone and Linux
        // reads it. The EL1 physical timer trapped (EL1PCEN = 0): partitions use the virtual
        // timer, which EL2 context-switches; the physical one belongs to no partition. No event
        // stream (EVNTEN = 0): WFE wakeups are the guest's own business.
        cnthctl: CNTHCTL_EL1PCTEN,
        // No offset: a partition's virtual counter equals the physical one, so timestamps agree
        // across partitions and with the hypervisor's console.
        cntvoff: 0,
        // The EL2 physical timer off and masked: the hypervisor runs no timer of its own, and
        // a firmware leftover must not fire into it.
        cnthp_ctl: 0,
        // No implementation-defined traps.
        hacr: 0,
        // The guest reads the real MIDR: Linux picks its errata workarounds from it.
        vpidr: midr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CORTEX_A72_R0P3: u64 = 0x410f_d083;

    #[test]
    fn guests_own_fp_but_not_the_physical_timer() {
        let controls = for_guests(CORTEX_A72_R0P3);
        assert_eq!(controls.cptr & (CPTR_TFP | CPTR_TCPAC | CPTR_TTA), 0);
        assert_eq!(controls.cptr & CPTR_RES1, CPTR_RES1, "RES1 bits set");
        assert_eq!(controls.cnthctl & CNTHCTL_EL1PCTEN, CNTHCTL_EL1PCTEN);
        assert_eq!(controls.cnthctl & (CNTHCTL_EL1PCEN | CNTHCTL_EVNTEN), 0);
    }

    #[test]
    fn nothing_is_left_to_the_firmware() {
        let controls = for_guests(CORTEX_A72_R0P3);
        assert_eq!(
            controls,
            El2Controls {
                hstr: 0,
                cptr: 0x33ff,
                cnthctl: 1,
                cntvoff: 0,
                cnthp_ctl: 0,
                hacr: 0,
                vpidr: CORTEX_A72_R0P3,
            }
        );
    }
}
