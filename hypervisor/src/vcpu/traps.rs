//! What EL2 traps for a partition, computed in pure code: MDCR_EL2 in full, the trap bits of
//! HCR_EL2 this module owns (TSW, TID3), the ID registers a partition reads, and the filter on
//! the PMU event types a partition writes.
//!
//! Why each is trapped (docs/architecture.md, "What EL2 traps"): a partition runs on physical
//! CPUs of its own, but caches, the PMU's view of EL2 and the debug logic reach past it.
//! - Set/way cache maintenance acts on whole cache lines by position, not address: on a shared
//!   cache it cleans or (worse) discards other partitions' and the hypervisor's dirty lines.
//!   HCR_EL2.TSW traps it; the policy cleans the partition's own RAM by address instead.
//! - The PMU counts at EL2 when a guest sets PMEVTYPER/PMCCFILTR.NSH: a cycle-accurate view of
//!   the hypervisor's work (other partitions' traps included). MDCR_EL2.TPM traps every PMU
//!   access; the partition gets no PMU, or its own with NSH forced clear.
//! - Debug registers, the OS lock and the debug communications channel (DCC, a channel to an
//!   external debugger that every partition would share) are trapped by TDA/TDOSA/TDRA and read
//!   as zero; MDSCR_EL1 stays the vCPU's own (software step), as debug exceptions target EL1
//!   only (TDE clear), and none is ever taken at EL2.
//! - HCR_EL2.TID3 traps the ID registers, so ID_AA64DFR0_EL1 says what the partition has.

use bulkhead_config::model::Pmu;

use crate::trap::sysreg::{ID_AA64DFR0, ID_AA64DFR1, ID_AA64PFR0, ID_DFR0, ID_DFR1};

/// HCR_EL2.TSW, bit 22: trap data cache maintenance by set/way.
pub const HCR_TSW: u64 = 1 << 22;
/// HCR_EL2.TID3, bit 18: trap the ID group 3 registers (ID_AA64*, ID_* and MVFR*).
pub const HCR_TID3: u64 = 1 << 18;

/// The HCR_EL2 trap bits of this module (OR-ed into the rest of HCR_EL2 by `arch`).
pub const fn hcr_trap_bits() -> u64 {
    HCR_TSW | HCR_TID3
}

/// The debug and PMU features of the CPU, read at EL2 (ID_AA64DFR0_EL1, ID_AA64MMFR0_EL1,
/// PMCR_EL0.N).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DebugFeatures {
    /// ID_AA64DFR0_EL1 as the hardware has it.
    pub dfr0: u64,
    /// ID_AA64MMFR0_EL1.FGT ([59:56]) is not zero: fine-grained traps, and MDCR_EL2.TDCC.
    pub fine_grained_traps: bool,
    /// PMCR_EL0.N: the event counters the CPU implements (0 without a PMU).
    pub counters: u8,
}

impl DebugFeatures {
    /// ID_AA64DFR0_EL1.PMUVer ([11:8]): 0 none, 1 PMUv3, 4 PMUv3p1, ... 6 PMUv3p5, 0xf IMPDEF.
    fn pmu_version(&self) -> u64 {
        field(self.dfr0, 8)
    }

    /// An architected PMUv3 of at least version `version`.
    fn pmu_at_least(&self, version: u64) -> bool {
        let v = self.pmu_version();
        v != 0xf && v >= version
    }

    /// FEAT_TRF (ID_AA64DFR0_EL1.TraceFilt, [43:40]).
    fn trace_filter(&self) -> bool {
        field(self.dfr0, 40) != 0
    }
}

/// A 4-bit ID register field at `shift`.
const fn field(value: u64, shift: u32) -> u64 {
    (value >> shift) & 0xf
}

/// `value` with the 4-bit field at `shift` set to `to`.
const fn with_field(value: u64, shift: u32, to: u64) -> u64 {
    (value & !(0xf << shift)) | ((to & 0xf) << shift)
}

/// MDCR_EL2 bits (Arm ARM D23.2.108).
mod mdcr {
    /// [4:0] HPMN: event counters EL1 and EL0 may use (all of them; EL2 uses none).
    pub const HPMN_MASK: u64 = 0x1f;
    /// [5] TPMCR: trap PMCR_EL0 (implied by TPM; set for clarity).
    pub const TPMCR: u64 = 1 << 5;
    /// [6] TPM: trap every PMU register access from EL0 and EL1.
    pub const TPM: u64 = 1 << 6;
    /// [8] TDE: route debug exceptions to EL2 (clear: they go to the guest's EL1).
    pub const TDE: u64 = 1 << 8;
    /// [9] TDA: trap debug register accesses (breakpoints, watchpoints, claim tags, DCC).
    pub const TDA: u64 = 1 << 9;
    /// [10] TDOSA: trap the OS lock, OS double lock and power-down registers.
    pub const TDOSA: u64 = 1 << 10;
    /// [11] TDRA: trap the debug ROM address register.
    pub const TDRA: u64 = 1 << 11;
    /// [14] TPMS: trap the statistical profiling registers (FEAT_SPE).
    pub const TPMS: u64 = 1 << 14;
    /// [17] HPMD: no event counting at EL2 (FEAT_PMUv3p1).
    pub const HPMD: u64 = 1 << 17;
    /// [19] TTRF: trap the trace filter controls (FEAT_TRF).
    pub const TTRF: u64 = 1 << 19;
    /// [23] HCCD: no cycle counting at EL2 (FEAT_PMUv3p5).
    pub const HCCD: u64 = 1 << 23;
    /// [27] TDCC: trap the debug communications channel (FEAT_FGT).
    pub const TDCC: u64 = 1 << 27;
}

/// MDCR_EL2 for running a partition whose PMU setting is `pmu` on a CPU with `features`.
///
/// Written in full (every field not named here is 0):
/// - HPMN = every counter: none is reserved for EL2 (whose software never counts), so a guest
///   with a virtual PMU sees them all in PMCR_EL0.N.
/// - TPMCR, TPM = 1: every PMU access traps, for both PMU settings (the policy filters).
/// - HPME = 0: the counters EL2 could reserve (none) stay disabled.
/// - TDE = 0: debug exceptions go to the guest's own EL1, so none is ever taken at EL2.
/// - TDA, TDOSA, TDRA = 1: debug, OS lock and debug ROM registers trap.
/// - E2PB = 0b00, TPMS = 1: the profiling buffer is EL2's (unused) and EL1 access traps.
/// - HPMD, HCCD = 1 where implemented: no counting at EL2 even if a filter slipped through.
/// - TTRF = 1 where FEAT_TRF is: the trace filter controls trap.
/// - E2TB = 0b00: the trace buffer (FEAT_TRBE) is EL2's, so EL1 access traps.
/// - TDCC = 1 where FEAT_FGT is: the DCC traps even from EL0.
/// - HLP, SCCD, MTPME, HPMFZO, HPMFZS, PMSSE, PMEE: 0 (their features unused).
pub fn mdcr_el2(features: &DebugFeatures, _pmu: Pmu) -> u64 {
    let mut value = u64::from(features.counters) & mdcr::HPMN_MASK;
    value |= mdcr::TPMCR | mdcr::TPM | mdcr::TDA | mdcr::TDOSA | mdcr::TDRA | mdcr::TPMS;
    if features.pmu_at_least(4) {
        value |= mdcr::HPMD;
    }
    if features.pmu_at_least(6) {
        value |= mdcr::HCCD;
    }
    if features.trace_filter() {
        value |= mdcr::TTRF;
    }
    if features.fine_grained_traps {
        value |= mdcr::TDCC;
    }
    debug_assert!(value & mdcr::TDE == 0);
    value
}

/// What a partition whose PMU setting is `pmu` reads from the ID register at (`crm`, `op2`)
/// (op0 3, op1 0, CRn 0), given the hardware's `raw` value.
///
/// - ID_AA64DFR0_EL1: PMUVer 0 when the PMU is denied; one breakpoint, one watchpoint, one
///   context comparator (the architecture's minimum: their registers read as zero and ignore
///   writes); no trace unit, trace filter, trace buffer, profiling, branch records, OS double
///   lock (0xf: not implemented) or multi-threaded PMU. DebugVer stays.
/// - ID_AA64DFR1_EL1: 0 (no extended debug features).
/// - ID_DFR0_EL1 (AArch32 view): no PMU when denied, no trace.
/// - ID_DFR1_EL1: no multi-threaded PMU.
/// - ID_AA64PFR0_EL1: no activity monitors (AMU counters count cycles at every EL).
/// - Every other: as the hardware has it.
pub fn id_register(crm: u8, op2: u8, raw: u64, pmu: Pmu) -> u64 {
    let denied = pmu == Pmu::Deny;
    match (crm, op2) {
        ID_AA64DFR0 => {
            let mut v = raw;
            if denied {
                v = with_field(v, 8, 0); // PMUVer
            }
            v = with_field(v, 4, 0); // TraceVer
            v = with_field(v, 12, 0); // BRPs: 1
            v = with_field(v, 20, 0); // WRPs: 1
            v = with_field(v, 28, 0); // CTX_CMPs: 1
            v = with_field(v, 32, 0); // PMSVer
            v = with_field(v, 36, 0xf); // DoubleLock: not implemented
            v = with_field(v, 40, 0); // TraceFilt
            v = with_field(v, 44, 0); // TraceBuffer
            v = with_field(v, 48, 0); // MTPMU
            v = with_field(v, 52, 0); // BRBE
            v = with_field(v, 56, 0); // ExtTrcBuff
            with_field(v, 60, 0) // HPMN0
        }
        ID_AA64DFR1 => 0,
        ID_DFR0 => {
            let mut v = raw;
            if denied {
                v = with_field(v, 24, 0); // PerfMon
            }
            v = with_field(v, 4, 0); // CopTrc
            v = with_field(v, 8, 0); // MMapTrc
            with_field(v, 28, 0) // TraceFilt
        }
        ID_DFR1 => with_field(raw, 0, 0),      // MTPMU
        ID_AA64PFR0 => with_field(raw, 44, 0), // AMU
        _ => raw,
    }
}

/// PMEVTYPER<n>_EL0 / PMCCFILTR_EL0 bits a partition may set: P [31], U [30], NSK [29],
/// NSU [28] (its own EL1/EL0 filters) and the event number [15:0].
const EVENT_TYPE_ALLOWED: u64 = 0xf000_ffff;
/// PMEVTYPER.M, bit 26: Secure EL3 filtering (counted when M differs from P).
const EVENT_TYPE_M: u64 = 1 << 26;
/// PMEVTYPER.P, bit 31.
const EVENT_TYPE_P: u64 = 1 << 31;

/// The event type a partition's write of `value` becomes: NSH (EL2) and SH (Secure EL2) clear,
/// so nothing counts at EL2; M equal to P, so nothing counts at EL3.
pub fn event_type(value: u64) -> u64 {
    let kept = value & EVENT_TYPE_ALLOWED;
    if kept & EVENT_TYPE_P != 0 {
        kept | EVENT_TYPE_M
    } else {
        kept
    }
}

/// PMCR_EL0 bits a partition may write: E, P, C, D, X, DP, LC, LP ([7:0]).
pub const PMCR_WRITABLE: u64 = 0xff;

#[cfg(test)]
mod tests {
    use super::*;

    /// QEMU's Cortex-A72: PMUv3 (8.0), DebugVer 8.0, 6 breakpoints, 4 watchpoints, 2 context
    /// comparators; 6 counters; no FGT.
    const A72: DebugFeatures = DebugFeatures {
        dfr0: 0x1030_5106,
        fine_grained_traps: false,
        counters: 6,
    };

    #[test]
    fn mdcr_traps_pmu_debug_and_profiling_and_never_routes_debug_to_el2() {
        let value = mdcr_el2(&A72, Pmu::Deny);
        assert_eq!(value & 0x1f, 6, "every counter is the guest's");
        for bit in [5, 6, 9, 10, 11, 14] {
            assert_ne!(value & (1 << bit), 0, "bit {bit}");
        }
        assert_eq!(value & (1 << 8), 0, "TDE clear");
        assert_eq!(value & (1 << 7), 0, "HPME clear");
        // PMUv3 (8.0) has no HPMD or HCCD: RES0 bits stay 0.
        assert_eq!(
            value & (mdcr::HPMD | mdcr::HCCD | mdcr::TTRF | mdcr::TDCC),
            0
        );
        assert_eq!(value, mdcr_el2(&A72, Pmu::Virtual));
    }

    #[test]
    fn newer_pmus_also_stop_counting_at_el2() {
        let v8_5 = DebugFeatures {
            dfr0: with_field(with_field(A72.dfr0, 8, 6), 40, 1),
            fine_grained_traps: true,
            counters: 31,
        };
        let value = mdcr_el2(&v8_5, Pmu::Virtual);
        assert_ne!(value & mdcr::HPMD, 0);
        assert_ne!(value & mdcr::HCCD, 0);
        assert_ne!(value & mdcr::TTRF, 0);
        assert_ne!(value & mdcr::TDCC, 0);
        assert_eq!(value & 0x1f, 31);
        // An IMPLEMENTATION DEFINED PMU (0xf) is no PMUv3p1.
        let impdef = DebugFeatures {
            dfr0: with_field(A72.dfr0, 8, 0xf),
            ..A72
        };
        assert_eq!(mdcr_el2(&impdef, Pmu::Virtual) & mdcr::HPMD, 0);
    }

    #[test]
    fn a_denied_pmu_is_not_in_the_id_registers_and_a_virtual_one_is() {
        let denied = id_register(5, 0, A72.dfr0, Pmu::Deny);
        assert_eq!(field(denied, 8), 0, "PMUVer");
        assert_eq!(field(denied, 0), 6, "DebugVer stays");
        assert_eq!(field(denied, 12), 0, "one breakpoint");
        assert_eq!(field(denied, 20), 0, "one watchpoint");
        assert_eq!(field(denied, 36), 0xf, "no double lock");
        let virtual_pmu = id_register(5, 0, A72.dfr0, Pmu::Virtual);
        assert_eq!(field(virtual_pmu, 8), 1);
        assert_eq!(field(id_register(1, 2, 0x0301_0066, Pmu::Deny), 24), 0);
        assert_eq!(field(id_register(1, 2, 0x0301_0066, Pmu::Virtual), 24), 3);
        assert_eq!(id_register(5, 1, u64::MAX, Pmu::Virtual), 0);
        assert_eq!(field(id_register(4, 0, u64::MAX, Pmu::Virtual), 44), 0);
        // Others pass through.
        assert_eq!(id_register(7, 0, 0x1124, Pmu::Deny), 0x1124);
        assert_eq!(id_register(6, 0, 0x1_0000, Pmu::Deny), 0x1_0000);
    }

    #[test]
    fn event_types_never_count_at_el2_or_el3() {
        // NSH (27) and SH (24) set by the guest: cleared.
        assert_eq!(event_type((1 << 27) | (1 << 24) | 0x11), 0x11);
        // P set (do not count EL1): M follows, so EL3 is not counted either.
        assert_eq!(
            event_type(EVENT_TYPE_P | 0x8),
            EVENT_TYPE_P | EVENT_TYPE_M | 0x8
        );
        // A guest's own M without P is dropped (M != P would count EL3).
        assert_eq!(event_type(EVENT_TYPE_M), 0);
        assert_eq!(event_type(u64::MAX) & (1 << 27), 0);
    }

    #[test]
    fn hcr_traps_set_way_and_id_registers() {
        assert_eq!(hcr_trap_bits(), (1 << 22) | (1 << 18));
    }
}
