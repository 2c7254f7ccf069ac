//! The system registers behind the trap policy's [`crate::vcpu::sysreg::SysRegMachine`] and
//! the EL2 trap controls (MDCR_EL2, HCR_EL2's trap bits) computed by [`crate::vcpu::traps`].
//!
//! A trapped access names its register by encoding at run time; the instructions need it at
//! build time, so each family is one `match` over every encoding it has: the ID space (op0 3,
//! op1 0, CRn 0, CRm 1..=7, all of it architecturally readable: unallocated encodings read as
//! zero), and the PMUv3 registers of Armv8.0 (later additions, such as PMMIR_EL1, are not
//! listed and read as zero). Anything else reads as zero and ignores writes.

use aarch64_cpu::registers::{Readable, Writeable, HCR_EL2, ID_AA64DFR0_EL1, ID_AA64MMFR0_EL1};

/// `mrs` of one register by its encoding.
macro_rules! mrs {
    ($encoding:literal) => {{
        let value: u64;
        // SAFETY: reading an ID, PMU or debug register only reads this CPU's state (a PMU read
        // of PMSWINC or an unimplemented counter is never made: see the callers).
        unsafe {
            core::arch::asm!(concat!("mrs {}, ", $encoding), out(reg) value,
                options(nomem, nostack, preserves_flags))
        };
        value
    }};
}

/// `msr` of one register by its encoding.
macro_rules! msr {
    ($encoding:literal, $value:expr) => {{
        // SAFETY: writing a PMU or debug control register changes only this CPU's PMU or debug
        // state, which belongs to the vCPU running on it; EL2 uses neither, and debug
        // exceptions target EL1 (MDCR_EL2.TDE clear), so none can be taken at EL2.
        unsafe {
            core::arch::asm!(concat!("msr ", $encoding, ", {}"), in(reg) $value,
                options(nomem, nostack, preserves_flags))
        };
    }};
}

/// The hardware's ID register at op0 3, op1 0, CRn 0, (`crm`, `op2`); 0 outside CRm 1..=7.
pub fn id_register(crm: u8, op2: u8) -> u64 {
    match (crm, op2) {
        (1, 0) => mrs!("S3_0_C0_C1_0"),
        (1, 1) => mrs!("S3_0_C0_C1_1"),
        (1, 2) => mrs!("S3_0_C0_C1_2"),
        (1, 3) => mrs!("S3_0_C0_C1_3"),
        (1, 4) => mrs!("S3_0_C0_C1_4"),
        (1, 5) => mrs!("S3_0_C0_C1_5"),
        (1, 6) => mrs!("S3_0_C0_C1_6"),
        (1, 7) => mrs!("S3_0_C0_C1_7"),
        (2, 0) => mrs!("S3_0_C0_C2_0"),
        (2, 1) => mrs!("S3_0_C0_C2_1"),
        (2, 2) => mrs!("S3_0_C0_C2_2"),
        (2, 3) => mrs!("S3_0_C0_C2_3"),
        (2, 4) => mrs!("S3_0_C0_C2_4"),
        (2, 5) => mrs!("S3_0_C0_C2_5"),
        (2, 6) => mrs!("S3_0_C0_C2_6"),
        (2, 7) => mrs!("S3_0_C0_C2_7"),
        (3, 0) => mrs!("S3_0_C0_C3_0"),
        (3, 1) => mrs!("S3_0_C0_C3_1"),
        (3, 2) => mrs!("S3_0_C0_C3_2"),
        (3, 3) => mrs!("S3_0_C0_C3_3"),
        (3, 4) => mrs!("S3_0_C0_C3_4"),
        (3, 5) => mrs!("S3_0_C0_C3_5"),
        (3, 6) => mrs!("S3_0_C0_C3_6"),
        (3, 7) => mrs!("S3_0_C0_C3_7"),
        (4, 0) => mrs!("S3_0_C0_C4_0"),
        (4, 1) => mrs!("S3_0_C0_C4_1"),
        (4, 2) => mrs!("S3_0_C0_C4_2"),
        (4, 3) => mrs!("S3_0_C0_C4_3"),
        (4, 4) => mrs!("S3_0_C0_C4_4"),
        (4, 5) => mrs!("S3_0_C0_C4_5"),
        (4, 6) => mrs!("S3_0_C0_C4_6"),
        (4, 7) => mrs!("S3_0_C0_C4_7"),
        (5, 0) => mrs!("S3_0_C0_C5_0"),
        (5, 1) => mrs!("S3_0_C0_C5_1"),
        (5, 2) => mrs!("S3_0_C0_C5_2"),
        (5, 3) => mrs!("S3_0_C0_C5_3"),
        (5, 4) => mrs!("S3_0_C0_C5_4"),
        (5, 5) => mrs!("S3_0_C0_C5_5"),
        (5, 6) => mrs!("S3_0_C0_C5_6"),
        (5, 7) => mrs!("S3_0_C0_C5_7"),
        (6, 0) => mrs!("S3_0_C0_C6_0"),
        (6, 1) => mrs!("S3_0_C0_C6_1"),
        (6, 2) => mrs!("S3_0_C0_C6_2"),
        (6, 3) => mrs!("S3_0_C0_C6_3"),
        (6, 4) => mrs!("S3_0_C0_C6_4"),
        (6, 5) => mrs!("S3_0_C0_C6_5"),
        (6, 6) => mrs!("S3_0_C0_C6_6"),
        (6, 7) => mrs!("S3_0_C0_C6_7"),
        (7, 0) => mrs!("S3_0_C0_C7_0"),
        (7, 1) => mrs!("S3_0_C0_C7_1"),
        (7, 2) => mrs!("S3_0_C0_C7_2"),
        (7, 3) => mrs!("S3_0_C0_C7_3"),
        (7, 4) => mrs!("S3_0_C0_C7_4"),
        (7, 5) => mrs!("S3_0_C0_C7_5"),
        (7, 6) => mrs!("S3_0_C0_C7_6"),
        (7, 7) => mrs!("S3_0_C0_C7_7"),
        _ => 0,
    }
}

/// ID_AA64DFR0_EL1.PMUVer ([11:8]) names an architected PMUv3.
fn has_pmu() -> bool {
    let version = (ID_AA64DFR0_EL1.get() >> 8) & 0xf;
    version != 0 && version != 0xf
}

/// The debug features of this CPU: (ID_AA64DFR0_EL1, FEAT_FGT, PMCR_EL0.N).
pub fn debug_features() -> (u64, bool, u8) {
    let counters = if has_pmu() {
        ((mrs!("S3_3_C9_C12_0") >> 11) & 0x1f) as u8
    } else {
        0
    };
    let fgt = (ID_AA64MMFR0_EL1.get() >> 56) & 0xf != 0;
    (ID_AA64DFR0_EL1.get(), fgt, counters)
}

/// Reads PMU register (op1, CRn, CRm, op2) of op0 3 on this CPU; 0 for anything else, or
/// without a PMU. The caller keeps event counter numbers below PMCR_EL0.N.
pub fn pmu_read(op1: u8, crn: u8, crm: u8, op2: u8) -> u64 {
    if !has_pmu() {
        return 0;
    }
    match (op1, crn, crm, op2) {
        (3, 9, 12, 0) => mrs!("S3_3_C9_C12_0"),   // PMCR_EL0
        (3, 9, 12, 1) => mrs!("S3_3_C9_C12_1"),   // PMCNTENSET_EL0
        (3, 9, 12, 2) => mrs!("S3_3_C9_C12_2"),   // PMCNTENCLR_EL0
        (3, 9, 12, 3) => mrs!("S3_3_C9_C12_3"),   // PMOVSCLR_EL0
        (3, 9, 12, 5) => mrs!("S3_3_C9_C12_5"),   // PMSELR_EL0
        (3, 9, 12, 6) => mrs!("S3_3_C9_C12_6"),   // PMCEID0_EL0
        (3, 9, 12, 7) => mrs!("S3_3_C9_C12_7"),   // PMCEID1_EL0
        (3, 9, 13, 0) => mrs!("S3_3_C9_C13_0"),   // PMCCNTR_EL0
        (3, 9, 13, 1) => mrs!("S3_3_C9_C13_1"),   // PMXEVTYPER_EL0
        (3, 9, 13, 2) => mrs!("S3_3_C9_C13_2"),   // PMXEVCNTR_EL0
        (3, 9, 14, 0) => mrs!("S3_3_C9_C14_0"),   // PMUSERENR_EL0
        (3, 9, 14, 3) => mrs!("S3_3_C9_C14_3"),   // PMOVSSET_EL0
        (0, 9, 14, 1) => mrs!("S3_0_C9_C14_1"),   // PMINTENSET_EL1
        (0, 9, 14, 2) => mrs!("S3_0_C9_C14_2"),   // PMINTENCLR_EL1
        (3, 14, 8, 0) => mrs!("S3_3_C14_C8_0"),   // PMEVCNTR0_EL0
        (3, 14, 8, 1) => mrs!("S3_3_C14_C8_1"),   // PMEVCNTR1_EL0
        (3, 14, 8, 2) => mrs!("S3_3_C14_C8_2"),   // PMEVCNTR2_EL0
        (3, 14, 8, 3) => mrs!("S3_3_C14_C8_3"),   // PMEVCNTR3_EL0
        (3, 14, 8, 4) => mrs!("S3_3_C14_C8_4"),   // PMEVCNTR4_EL0
        (3, 14, 8, 5) => mrs!("S3_3_C14_C8_5"),   // PMEVCNTR5_EL0
        (3, 14, 8, 6) => mrs!("S3_3_C14_C8_6"),   // PMEVCNTR6_EL0
        (3, 14, 8, 7) => mrs!("S3_3_C14_C8_7"),   // PMEVCNTR7_EL0
        (3, 14, 9, 0) => mrs!("S3_3_C14_C9_0"),   // PMEVCNTR8_EL0
        (3, 14, 9, 1) => mrs!("S3_3_C14_C9_1"),   // PMEVCNTR9_EL0
        (3, 14, 9, 2) => mrs!("S3_3_C14_C9_2"),   // PMEVCNTR10_EL0
        (3, 14, 9, 3) => mrs!("S3_3_C14_C9_3"),   // PMEVCNTR11_EL0
        (3, 14, 9, 4) => mrs!("S3_3_C14_C9_4"),   // PMEVCNTR12_EL0
        (3, 14, 9, 5) => mrs!("S3_3_C14_C9_5"),   // PMEVCNTR13_EL0
        (3, 14, 9, 6) => mrs!("S3_3_C14_C9_6"),   // PMEVCNTR14_EL0
        (3, 14, 9, 7) => mrs!("S3_3_C14_C9_7"),   // PMEVCNTR15_EL0
        (3, 14, 10, 0) => mrs!("S3_3_C14_C10_0"), // PMEVCNTR16_EL0
        (3, 14, 10, 1) => mrs!("S3_3_C14_C10_1"), // PMEVCNTR17_EL0
        (3, 14, 10, 2) => mrs!("S3_3_C14_C10_2"), // PMEVCNTR18_EL0
        (3, 14, 10, 3) => mrs!("S3_3_C14_C10_3"), // PMEVCNTR19_EL0
        (3, 14, 10, 4) => mrs!("S3_3_C14_C10_4"), // PMEVCNTR20_EL0
        (3, 14, 10, 5) => mrs!("S3_3_C14_C10_5"), // PMEVCNTR21_EL0
        (3, 14, 10, 6) => mrs!("S3_3_C14_C10_6"), // PMEVCNTR22_EL0
        (3, 14, 10, 7) => mrs!("S3_3_C14_C10_7"), // PMEVCNTR23_EL0
        (3, 14, 11, 0) => mrs!("S3_3_C14_C11_0"), // PMEVCNTR24_EL0
        (3, 14, 11, 1) => mrs!("S3_3_C14_C11_1"), // PMEVCNTR25_EL0
        (3, 14, 11, 2) => mrs!("S3_3_C14_C11_2"), // PMEVCNTR26_EL0
        (3, 14, 11, 3) => mrs!("S3_3_C14_C11_3"), // PMEVCNTR27_EL0
        (3, 14, 11, 4) => mrs!("S3_3_C14_C11_4"), // PMEVCNTR28_EL0
        (3, 14, 11, 5) => mrs!("S3_3_C14_C11_5"), // PMEVCNTR29_EL0
        (3, 14, 11, 6) => mrs!("S3_3_C14_C11_6"), // PMEVCNTR30_EL0
        (3, 14, 12, 0) => mrs!("S3_3_C14_C12_0"), // PMEVTYPER0_EL0
        (3, 14, 12, 1) => mrs!("S3_3_C14_C12_1"), // PMEVTYPER1_EL0
        (3, 14, 12, 2) => mrs!("S3_3_C14_C12_2"), // PMEVTYPER2_EL0
        (3, 14, 12, 3) => mrs!("S3_3_C14_C12_3"), // PMEVTYPER3_EL0
        (3, 14, 12, 4) => mrs!("S3_3_C14_C12_4"), // PMEVTYPER4_EL0
        (3, 14, 12, 5) => mrs!("S3_3_C14_C12_5"), // PMEVTYPER5_EL0
        (3, 14, 12, 6) => mrs!("S3_3_C14_C12_6"), // PMEVTYPER6_EL0
        (3, 14, 12, 7) => mrs!("S3_3_C14_C12_7"), // PMEVTYPER7_EL0
        (3, 14, 13, 0) => mrs!("S3_3_C14_C13_0"), // PMEVTYPER8_EL0
        (3, 14, 13, 1) => mrs!("S3_3_C14_C13_1"), // PMEVTYPER9_EL0
        (3, 14, 13, 2) => mrs!("S3_3_C14_C13_2"), // PMEVTYPER10_EL0
        (3, 14, 13, 3) => mrs!("S3_3_C14_C13_3"), // PMEVTYPER11_EL0
        (3, 14, 13, 4) => mrs!("S3_3_C14_C13_4"), // PMEVTYPER12_EL0
        (3, 14, 13, 5) => mrs!("S3_3_C14_C13_5"), // PMEVTYPER13_EL0
        (3, 14, 13, 6) => mrs!("S3_3_C14_C13_6"), // PMEVTYPER14_EL0
        (3, 14, 13, 7) => mrs!("S3_3_C14_C13_7"), // PMEVTYPER15_EL0
        (3, 14, 14, 0) => mrs!("S3_3_C14_C14_0"), // PMEVTYPER16_EL0
        (3, 14, 14, 1) => mrs!("S3_3_C14_C14_1"), // PMEVTYPER17_EL0
        (3, 14, 14, 2) => mrs!("S3_3_C14_C14_2"), // PMEVTYPER18_EL0
        (3, 14, 14, 3) => mrs!("S3_3_C14_C14_3"), // PMEVTYPER19_EL0
        (3, 14, 14, 4) => mrs!("S3_3_C14_C14_4"), // PMEVTYPER20_EL0
        (3, 14, 14, 5) => mrs!("S3_3_C14_C14_5"), // PMEVTYPER21_EL0
        (3, 14, 14, 6) => mrs!("S3_3_C14_C14_6"), // PMEVTYPER22_EL0
        (3, 14, 14, 7) => mrs!("S3_3_C14_C14_7"), // PMEVTYPER23_EL0
        (3, 14, 15, 0) => mrs!("S3_3_C14_C15_0"), // PMEVTYPER24_EL0
        (3, 14, 15, 1) => mrs!("S3_3_C14_C15_1"), // PMEVTYPER25_EL0
        (3, 14, 15, 2) => mrs!("S3_3_C14_C15_2"), // PMEVTYPER26_EL0
        (3, 14, 15, 3) => mrs!("S3_3_C14_C15_3"), // PMEVTYPER27_EL0
        (3, 14, 15, 4) => mrs!("S3_3_C14_C15_4"), // PMEVTYPER28_EL0
        (3, 14, 15, 5) => mrs!("S3_3_C14_C15_5"), // PMEVTYPER29_EL0
        (3, 14, 15, 6) => mrs!("S3_3_C14_C15_6"), // PMEVTYPER30_EL0
        (3, 14, 15, 7) => mrs!("S3_3_C14_C15_7"), // PMCCFILTR_EL0
        _ => 0,
    }
}

/// Writes PMU register (op1, CRn, CRm, op2) of op0 3 on this CPU; nothing for anything else
/// (read-only registers included), or without a PMU.
pub fn pmu_write(op1: u8, crn: u8, crm: u8, op2: u8, value: u64) {
    if !has_pmu() {
        return;
    }
    match (op1, crn, crm, op2) {
        (3, 9, 12, 0) => msr!("S3_3_C9_C12_0", value), // PMCR_EL0
        (3, 9, 12, 1) => msr!("S3_3_C9_C12_1", value), // PMCNTENSET_EL0
        (3, 9, 12, 2) => msr!("S3_3_C9_C12_2", value), // PMCNTENCLR_EL0
        (3, 9, 12, 3) => msr!("S3_3_C9_C12_3", value), // PMOVSCLR_EL0
        (3, 9, 12, 4) => msr!("S3_3_C9_C12_4", value), // PMSWINC_EL0
        (3, 9, 12, 5) => msr!("S3_3_C9_C12_5", value), // PMSELR_EL0
        (3, 9, 13, 0) => msr!("S3_3_C9_C13_0", value), // PMCCNTR_EL0
        (3, 9, 13, 1) => msr!("S3_3_C9_C13_1", value), // PMXEVTYPER_EL0
        (3, 9, 13, 2) => msr!("S3_3_C9_C13_2", value), // PMXEVCNTR_EL0
        (3, 9, 14, 0) => msr!("S3_3_C9_C14_0", value), // PMUSERENR_EL0
        (3, 9, 14, 3) => msr!("S3_3_C9_C14_3", value), // PMOVSSET_EL0
        (0, 9, 14, 1) => msr!("S3_0_C9_C14_1", value), // PMINTENSET_EL1
        (0, 9, 14, 2) => msr!("S3_0_C9_C14_2", value), // PMINTENCLR_EL1
        (3, 14, 8, 0) => msr!("S3_3_C14_C8_0", value), // PMEVCNTR0_EL0
        (3, 14, 8, 1) => msr!("S3_3_C14_C8_1", value), // PMEVCNTR1_EL0
        (3, 14, 8, 2) => msr!("S3_3_C14_C8_2", value), // PMEVCNTR2_EL0
        (3, 14, 8, 3) => msr!("S3_3_C14_C8_3", value), // PMEVCNTR3_EL0
        (3, 14, 8, 4) => msr!("S3_3_C14_C8_4", value), // PMEVCNTR4_EL0
        (3, 14, 8, 5) => msr!("S3_3_C14_C8_5", value), // PMEVCNTR5_EL0
        (3, 14, 8, 6) => msr!("S3_3_C14_C8_6", value), // PMEVCNTR6_EL0
        (3, 14, 8, 7) => msr!("S3_3_C14_C8_7", value), // PMEVCNTR7_EL0
        (3, 14, 9, 0) => msr!("S3_3_C14_C9_0", value), // PMEVCNTR8_EL0
        (3, 14, 9, 1) => msr!("S3_3_C14_C9_1", value), // PMEVCNTR9_EL0
        (3, 14, 9, 2) => msr!("S3_3_C14_C9_2", value), // PMEVCNTR10_EL0
        (3, 14, 9, 3) => msr!("S3_3_C14_C9_3", value), // PMEVCNTR11_EL0
        (3, 14, 9, 4) => msr!("S3_3_C14_C9_4", value), // PMEVCNTR12_EL0
        (3, 14, 9, 5) => msr!("S3_3_C14_C9_5", value), // PMEVCNTR13_EL0
        (3, 14, 9, 6) => msr!("S3_3_C14_C9_6", value), // PMEVCNTR14_EL0
        (3, 14, 9, 7) => msr!("S3_3_C14_C9_7", value), // PMEVCNTR15_EL0
        (3, 14, 10, 0) => msr!("S3_3_C14_C10_0", value), // PMEVCNTR16_EL0
        (3, 14, 10, 1) => msr!("S3_3_C14_C10_1", value), // PMEVCNTR17_EL0
        (3, 14, 10, 2) => msr!("S3_3_C14_C10_2", value), // PMEVCNTR18_EL0
        (3, 14, 10, 3) => msr!("S3_3_C14_C10_3", value), // PMEVCNTR19_EL0
        (3, 14, 10, 4) => msr!("S3_3_C14_C10_4", value), // PMEVCNTR20_EL0
        (3, 14, 10, 5) => msr!("S3_3_C14_C10_5", value), // PMEVCNTR21_EL0
        (3, 14, 10, 6) => msr!("S3_3_C14_C10_6", value), // PMEVCNTR22_EL0
        (3, 14, 10, 7) => msr!("S3_3_C14_C10_7", value), // PMEVCNTR23_EL0
        (3, 14, 11, 0) => msr!("S3_3_C14_C11_0", value), // PMEVCNTR24_EL0
        (3, 14, 11, 1) => msr!("S3_3_C14_C11_1", value), // PMEVCNTR25_EL0
        (3, 14, 11, 2) => msr!("S3_3_C14_C11_2", value), // PMEVCNTR26_EL0
        (3, 14, 11, 3) => msr!("S3_3_C14_C11_3", value), // PMEVCNTR27_EL0
        (3, 14, 11, 4) => msr!("S3_3_C14_C11_4", value), // PMEVCNTR28_EL0
        (3, 14, 11, 5) => msr!("S3_3_C14_C11_5", value), // PMEVCNTR29_EL0
        (3, 14, 11, 6) => msr!("S3_3_C14_C11_6", value), // PMEVCNTR30_EL0
        (3, 14, 12, 0) => msr!("S3_3_C14_C12_0", value), // PMEVTYPER0_EL0
        (3, 14, 12, 1) => msr!("S3_3_C14_C12_1", value), // PMEVTYPER1_EL0
        (3, 14, 12, 2) => msr!("S3_3_C14_C12_2", value), // PMEVTYPER2_EL0
        (3, 14, 12, 3) => msr!("S3_3_C14_C12_3", value), // PMEVTYPER3_EL0
        (3, 14, 12, 4) => msr!("S3_3_C14_C12_4", value), // PMEVTYPER4_EL0
        (3, 14, 12, 5) => msr!("S3_3_C14_C12_5", value), // PMEVTYPER5_EL0
        (3, 14, 12, 6) => msr!("S3_3_C14_C12_6", value), // PMEVTYPER6_EL0
        (3, 14, 12, 7) => msr!("S3_3_C14_C12_7", value), // PMEVTYPER7_EL0
        (3, 14, 13, 0) => msr!("S3_3_C14_C13_0", value), // PMEVTYPER8_EL0
        (3, 14, 13, 1) => msr!("S3_3_C14_C13_1", value), // PMEVTYPER9_EL0
        (3, 14, 13, 2) => msr!("S3_3_C14_C13_2", value), // PMEVTYPER10_EL0
        (3, 14, 13, 3) => msr!("S3_3_C14_C13_3", value), // PMEVTYPER11_EL0
        (3, 14, 13, 4) => msr!("S3_3_C14_C13_4", value), // PMEVTYPER12_EL0
        (3, 14, 13, 5) => msr!("S3_3_C14_C13_5", value), // PMEVTYPER13_EL0
        (3, 14, 13, 6) => msr!("S3_3_C14_C13_6", value), // PMEVTYPER14_EL0
        (3, 14, 13, 7) => msr!("S3_3_C14_C13_7", value), // PMEVTYPER15_EL0
        (3, 14, 14, 0) => msr!("S3_3_C14_C14_0", value), // PMEVTYPER16_EL0
        (3, 14, 14, 1) => msr!("S3_3_C14_C14_1", value), // PMEVTYPER17_EL0
        (3, 14, 14, 2) => msr!("S3_3_C14_C14_2", value), // PMEVTYPER18_EL0
        (3, 14, 14, 3) => msr!("S3_3_C14_C14_3", value), // PMEVTYPER19_EL0
        (3, 14, 14, 4) => msr!("S3_3_C14_C14_4", value), // PMEVTYPER20_EL0
        (3, 14, 14, 5) => msr!("S3_3_C14_C14_5", value), // PMEVTYPER21_EL0
        (3, 14, 14, 6) => msr!("S3_3_C14_C14_6", value), // PMEVTYPER22_EL0
        (3, 14, 14, 7) => msr!("S3_3_C14_C14_7", value), // PMEVTYPER23_EL0
        (3, 14, 15, 0) => msr!("S3_3_C14_C15_0", value), // PMEVTYPER24_EL0
        (3, 14, 15, 1) => msr!("S3_3_C14_C15_1", value), // PMEVTYPER25_EL0
        (3, 14, 15, 2) => msr!("S3_3_C14_C15_2", value), // PMEVTYPER26_EL0
        (3, 14, 15, 3) => msr!("S3_3_C14_C15_3", value), // PMEVTYPER27_EL0
        (3, 14, 15, 4) => msr!("S3_3_C14_C15_4", value), // PMEVTYPER28_EL0
        (3, 14, 15, 5) => msr!("S3_3_C14_C15_5", value), // PMEVTYPER29_EL0
        (3, 14, 15, 6) => msr!("S3_3_C14_C15_6", value), // PMEVTYPER30_EL0
        (3, 14, 15, 7) => msr!("S3_3_C14_C15_7", value), // PMCCFILTR_EL0
        _ => {}
    }
}

/// Puts this CPU's PMU back to a state that tells nothing of the previous run: counters
/// stopped, zeroed and unfiltered, no overflow flags or interrupt enables, EL0 access off.
pub fn reset_pmu() {
    if !has_pmu() {
        return;
    }
    msr!("S3_3_C9_C12_2", u64::from(u32::MAX)); // PMCNTENCLR_EL0: all off
    msr!("S3_0_C9_C14_2", u64::from(u32::MAX)); // PMINTENCLR_EL1
    msr!("S3_3_C9_C12_3", u64::from(u32::MAX)); // PMOVSCLR_EL0
    msr!("S3_3_C9_C12_0", 0b110u64); // PMCR_EL0: E off, P and C reset the counters
    msr!("S3_3_C9_C14_0", 0u64); // PMUSERENR_EL0
    msr!("S3_3_C9_C12_5", 0u64); // PMSELR_EL0
    msr!("S3_3_C14_C15_7", 0u64); // PMCCFILTR_EL0
}

/// MDSCR_EL1 of this CPU.
pub fn monitor_control() -> u64 {
    mrs!("S2_0_C0_C2_2")
}

/// Sets MDSCR_EL1 of this CPU.
pub fn set_monitor_control(value: u64) {
    msr!("S2_0_C0_C2_2", value);
}

/// Sets MDCR_EL2 to `mdcr` and ORs `hcr_traps` into HCR_EL2 (after `prepare_el2_for_guests`
/// wrote the rest of it), before this CPU first enters its guest.
pub fn set_trap_controls(mdcr: u64, hcr_traps: u64) {
    // SAFETY: MDCR_EL2 only decides which debug and PMU accesses of EL1 and EL0 trap, and
    // where debug exceptions go; no guest runs on this CPU while it is written.
    unsafe {
        core::arch::asm!("msr mdcr_el2, {}", "isb", in(reg) mdcr, options(nomem, nostack, preserves_flags))
    };
    HCR_EL2.set(HCR_EL2.get() | hcr_traps);
    reset_pmu();
    set_monitor_control(0);
}

/// ESR_ELx.EC of a data abort from a lower EL, and from the same EL.
const EC_DABT_LOWER: u64 = 0x24;
const EC_DABT_SAME: u64 = 0x25;
/// SPSR.M[3:0] of EL1 with SP_EL1 (EL1h), and of EL1 with SP_EL0 (EL1t).
const M_EL1H: u64 = 0b0101;
const M_EL1T: u64 = 0b0100;
/// SPSR with D, A, I and F masked.
const DAIF: u64 = 0xf << 6;

/// Makes the guest trapped on this CPU take a synchronous external abort at VA `far` (a store
/// if `write`) at the instruction at `elr`, as the architecture would take it to EL1 (Arm ARM
/// D1.10): ESR_EL1, FAR_EL1, ELR_EL1 and SPSR_EL1 set, SPSR_EL2 set to EL1h with interrupts
/// masked (the trap's return path never reloads SPSR_EL2, so this is what the `eret` uses).
/// Returns where the guest resumes: its vector (VBAR_EL1 + 0x000 from EL1t, + 0x200 from EL1h,
/// + 0x400 from EL0).
pub fn inject_data_abort(elr: u64, far: u64, write: bool) -> u64 {
    let spsr: u64 = mrs!("spsr_el2");
    let mode = spsr & 0xf;
    let (offset, ec) = match mode {
        M_EL1T => (0x000, EC_DABT_SAME),
        M_EL1H => (0x200, EC_DABT_SAME),
        _ => (0x400, EC_DABT_LOWER),
    };
    // IL (32-bit instruction), WnR, DFSC 0b010000: synchronous external abort, not on a walk.
    let esr = (ec << 26) | (1 << 25) | (u64::from(write) << 6) | 0b01_0000;
    let vbar: u64;
    // SAFETY: the EL1 exception registers and SPSR_EL2 belong to the guest on this CPU, which
    // is at EL2 in its trap: they are written as the hardware would write them when taking the
    // exception.
    unsafe {
        core::arch::asm!(
            "msr esr_el1, {esr}",
            "msr far_el1, {far}",
            "msr elr_el1, {elr}",
            "msr spsr_el1, {spsr}",
            "msr spsr_el2, {new_spsr}",
            "mrs {vbar}, vbar_el1",
            esr = in(reg) esr,
            far = in(reg) far,
            elr = in(reg) elr,
            spsr = in(reg) spsr,
            new_spsr = in(reg) M_EL1H | DAIF,
            vbar = out(reg) vbar,
            options(nomem, nostack, preserves_flags),
        );
    }
    (vbar & !0x7ff).wrapping_add(offset)
}

/// The guest's EL1 exception registers on this CPU: (ESR_EL1, ELR_EL1, FAR_EL1, VBAR_EL1).
pub fn guest_exception() -> (u64, u64, u64, u64) {
    (
        mrs!("esr_el1"),
        mrs!("elr_el1"),
        mrs!("far_el1"),
        mrs!("vbar_el1"),
    )
}
