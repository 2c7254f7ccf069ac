//! Which family a trapped system register or system instruction (ESR EC 0x18) belongs to, by
//! its encoding alone (Arm ARM C5.3 "A64 system instruction and register encodings", D23
//! "AArch64 System Register Descriptions"): the set/way cache maintenance instructions
//! (HCR_EL2.TSW), the ID registers (HCR_EL2.TID3), the PMU and the statistical profiling
//! extension (MDCR_EL2.TPM/TPMS), and the self-hosted debug registers, the OS lock and the
//! debug communications channel (MDCR_EL2.TDA/TDOSA/TDRA). Pure: the policy decides what each
//! family means for a partition (`vcpu::sysreg`).

use super::exit::SysRegId;

/// A PMU register (PMUv3, Arm ARM D23.7), by what the policy does with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PmuRegister {
    /// PMCR_EL0: control (enable, reset, number of counters).
    Control,
    /// An event type or filter register: PMEVTYPER<n>_EL0 (`Some(n)`), or PMXEVTYPER_EL0 /
    /// PMCCFILTR_EL0 (`None`: the counter PMSELR_EL0 selects, or the cycle counter's filter;
    /// the hardware knows which), whose EL2 filter a guest must never set.
    EventType(Option<u8>),
    /// PMEVCNTR<n>_EL0: event counter `n`.
    EventCounter(u8),
    /// PMINTENSET_EL1 / PMINTENCLR_EL1: overflow interrupt enables (no overflow interrupt is
    /// delivered to a partition).
    InterruptEnable,
    /// Every other PMU register, passed to the vCPU's own PMU as it is: PMCNTENSET/CLR,
    /// PMOVSSET/CLR, PMSWINC, PMSELR, PMCEID0/1, PMCCNTR, PMXEVCNTR, PMUSERENR, PMMIR.
    Plain(SysRegId),
}

/// The family of a trapped system register access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SysRegClass {
    /// `DC ISW`, `DC CSW`, `DC CISW` (or the MTE tag variants): data cache maintenance by set
    /// and way. The operand (Xt) is level [3:1] and set/way [31:4].
    SetWay,
    /// An ID register of the space op0 3, op1 0, CRn 0, CRm 1..=7 (trapped by TID3).
    Id {
        /// CRm (1..=7).
        crm: u8,
        /// op2.
        op2: u8,
    },
    /// A PMU register.
    Pmu(PmuRegister),
    /// A statistical profiling (SPE) register: PMSCR_EL1, PMSICR..PMSIDR, PMBLIMITR..PMBIDR.
    Profiling,
    /// MDSCR_EL1: the monitor debug system control register (software step, debug enables).
    MonitorControl,
    /// OSLSR_EL1: the OS lock status.
    OsLockStatus,
    /// Every other debug register (op0 2, op1 0 or 3): breakpoints, watchpoints, OSLAR,
    /// OSDLR, DBGPRCR, the claim tags, MDRAR, and the debug communications channel.
    Debug,
    /// Something else.
    Other,
}

/// ID_AA64DFR0_EL1's place in the ID space (CRm, op2).
pub const ID_AA64DFR0: (u8, u8) = (5, 0);
/// ID_AA64DFR1_EL1.
pub const ID_AA64DFR1: (u8, u8) = (5, 1);
/// ID_AA64PFR0_EL1.
pub const ID_AA64PFR0: (u8, u8) = (4, 0);
/// ID_DFR0_EL1 (AArch32 debug features).
pub const ID_DFR0: (u8, u8) = (1, 2);
/// ID_DFR1_EL1 (AArch32 debug features 1).
pub const ID_DFR1: (u8, u8) = (3, 5);

impl SysRegClass {
    /// Classifies `register`.
    pub fn of(register: SysRegId) -> SysRegClass {
        let SysRegId {
            op0,
            op1,
            crn,
            crm,
            op2,
        } = register;
        match (op0, op1, crn, crm, op2) {
            // DC IGSW (6,4), DC IGDSW (6,6), DC ISW (6,2), DC CSW (10,2), DC CGSW (10,4),
            // DC CGDSW (10,6), DC CISW (14,2), DC CIGSW (14,4), DC CIGDSW (14,6).
            (1, 0, 7, 6 | 10 | 14, 2 | 4 | 6) => SysRegClass::SetWay,
            (3, 0, 0, 1..=7, _) => SysRegClass::Id { crm, op2 },
            (3, 3, 9, 12, 0) => SysRegClass::Pmu(PmuRegister::Control),
            (3, 3, 9, 13, 1) => SysRegClass::Pmu(PmuRegister::EventType(None)),
            (3, 3, 9, 12..=14, _) => SysRegClass::Pmu(PmuRegister::Plain(register)),
            (3, 0, 9, 14, 1 | 2) => SysRegClass::Pmu(PmuRegister::InterruptEnable),
            (3, 0, 9, 14, 6) => SysRegClass::Pmu(PmuRegister::Plain(register)),
            (3, 3, 14, 8..=15, _) => {
                let n = ((crm & 3) << 3) | op2;
                if crm >= 12 {
                    // PMEVTYPER31 is PMCCFILTR_EL0.
                    SysRegClass::Pmu(PmuRegister::EventType((n != 31).then_some(n)))
                } else {
                    SysRegClass::Pmu(PmuRegister::EventCounter(n))
                }
            }
            (3, 0, 9, 9 | 10, _) => SysRegClass::Profiling,
            (2, 0, 0, 2, 2) => SysRegClass::MonitorControl,
            (2, 0, 1, 1, 4) => SysRegClass::OsLockStatus,
            (2, 0 | 3, _, _, _) => SysRegClass::Debug,
            _ => SysRegClass::Other,
        }
    }
}

/// The level a set/way operand names (0 = L1), and whether it names set 0 and way 0: the one
/// line every whole-cache set/way loop visits exactly once per level, whatever its order.
pub fn set_way_operand(xt: u64) -> (u8, bool) {
    (((xt >> 1) & 7) as u8, xt & 0xffff_fff0 == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(op0: u8, op1: u8, crn: u8, crm: u8, op2: u8) -> SysRegId {
        SysRegId {
            op0,
            op1,
            crn,
            crm,
            op2,
        }
    }

    #[test]
    fn set_way_instructions_are_recognised_and_by_va_ones_are_not() {
        for crm in [6, 10, 14] {
            assert_eq!(SysRegClass::of(id(1, 0, 7, crm, 2)), SysRegClass::SetWay);
        }
        // DC CIVAC (op1 3, CRm 14, op2 1) and DC ZVA are by VA, never trapped by TSW.
        assert_eq!(SysRegClass::of(id(1, 3, 7, 14, 1)), SysRegClass::Other);
        assert_eq!(SysRegClass::of(id(1, 3, 7, 4, 1)), SysRegClass::Other);
    }

    #[test]
    fn pmu_registers_decode_with_their_counter_numbers() {
        assert_eq!(
            SysRegClass::of(id(3, 3, 9, 12, 0)),
            SysRegClass::Pmu(PmuRegister::Control)
        );
        // PMEVTYPER5_EL0: CRm 12, op2 5; PMEVCNTR13_EL0: CRm 9, op2 5.
        assert_eq!(
            SysRegClass::of(id(3, 3, 14, 12, 5)),
            SysRegClass::Pmu(PmuRegister::EventType(Some(5)))
        );
        assert_eq!(
            SysRegClass::of(id(3, 3, 14, 9, 5)),
            SysRegClass::Pmu(PmuRegister::EventCounter(13))
        );
        // PMCCFILTR_EL0 and PMXEVTYPER_EL0.
        assert_eq!(
            SysRegClass::of(id(3, 3, 14, 15, 7)),
            SysRegClass::Pmu(PmuRegister::EventType(None))
        );
        assert_eq!(
            SysRegClass::of(id(3, 3, 9, 13, 1)),
            SysRegClass::Pmu(PmuRegister::EventType(None))
        );
        let pmccntr = id(3, 3, 9, 13, 0);
        assert_eq!(
            SysRegClass::of(pmccntr),
            SysRegClass::Pmu(PmuRegister::Plain(pmccntr))
        );
        assert_eq!(
            SysRegClass::of(id(3, 0, 9, 14, 1)),
            SysRegClass::Pmu(PmuRegister::InterruptEnable)
        );
    }

    #[test]
    fn debug_and_id_registers_are_recognised() {
        assert_eq!(
            SysRegClass::of(id(2, 0, 0, 2, 2)),
            SysRegClass::MonitorControl
        );
        assert_eq!(
            SysRegClass::of(id(2, 0, 1, 1, 4)),
            SysRegClass::OsLockStatus
        );
        // DBGBCR3_EL1, OSLAR_EL1, MDCCSR_EL0, DBGDTR_EL0.
        for register in [
            id(2, 0, 0, 3, 5),
            id(2, 0, 1, 0, 4),
            id(2, 3, 0, 1, 0),
            id(2, 3, 0, 4, 0),
        ] {
            assert_eq!(SysRegClass::of(register), SysRegClass::Debug);
        }
        assert_eq!(
            SysRegClass::of(id(3, 0, 0, 5, 0)),
            SysRegClass::Id { crm: 5, op2: 0 }
        );
        // MIDR_EL1 (CRm 0) is not TID3's, nor is an SGI register.
        assert_eq!(SysRegClass::of(id(3, 0, 0, 0, 0)), SysRegClass::Other);
        assert_eq!(SysRegClass::of(SysRegId::ICC_SGI1R_EL1), SysRegClass::Other);
        assert_eq!(SysRegClass::of(id(3, 0, 9, 9, 0)), SysRegClass::Profiling);
    }

    #[test]
    fn set_way_operand_names_level_and_the_first_line() {
        assert_eq!(set_way_operand(0), (0, true));
        assert_eq!(set_way_operand(0b0010), (1, true));
        assert_eq!(set_way_operand(0x40 | 0b0010), (1, false));
        assert_eq!(set_way_operand(0x8000_0000), (0, false));
        // Bits above 31 are RES0: they do not make it another line.
        assert_eq!(set_way_operand(0xffff_ffff_0000_0000), (0, true));
    }
}
