//! ESR_EL2 decoding (Arm ARM D19.2.46, "ESR_EL2, Exception Syndrome Register (EL2)").

use super::exit::{Conduit, Exit, MmioAccess, SysRegId};
use super::width::AccessWidth;
use super::{Snapshot, VectorKind};

/// Exception classes (ESR_EL2.EC) the hypervisor handles.
mod ec {
    pub const WFX: u8 = 0x01;
    pub const SYSREG: u8 = 0x18;
    pub const HVC32: u8 = 0x12;
    pub const SMC32: u8 = 0x13;
    pub const HVC64: u8 = 0x16;
    pub const SMC64: u8 = 0x17;
    pub const IABT_LOWER: u8 = 0x20;
    pub const DABT_LOWER: u8 = 0x24;
}

const ESR_EC_SHIFT: u64 = 26;
const ISS_MASK: u64 = 0x01ff_ffff;
/// Data abort ISS fields.
const ISS_ISV: u64 = 1 << 24;
const ISS_SAS_SHIFT: u64 = 22;
const ISS_SSE: u64 = 1 << 21;
const ISS_SRT_SHIFT: u64 = 16;
const ISS_SF: u64 = 1 << 15;
const ISS_S1PTW: u64 = 1 << 7;
const ISS_WNR: u64 = 1 << 6;
/// WFx ISS: TI bit 0 = WFE.
const ISS_WFX_WFE: u64 = 1;
/// HPFAR_EL2.FIPA holds IPA bits [51:12] in bits [43:4].
const HPFAR_FIPA_MASK: u64 = 0x0000_0fff_ffff_fff0;

impl Exit {
    /// Decodes a trap. Never panics: syndromes it does not handle become [`Exit::Unknown`].
    pub fn decode(snapshot: &Snapshot) -> Exit {
        let esr = snapshot.esr;
        let ec = ((esr >> ESR_EC_SHIFT) & 0x3f) as u8;
        let ipa = ((snapshot.hpfar & HPFAR_FIPA_MASK) << 8) | (snapshot.far & 0xfff);
        // The most frequent trap first (an emulated device access), so it takes two tests
        // rather than a walk down the class tree.
        if snapshot.kind == VectorKind::Sync && ec == ec::DABT_LOWER {
            return data_abort(esr & ISS_MASK, ipa, snapshot.far);
        }
        match snapshot.kind {
            VectorKind::Irq | VectorKind::Fiq => return Exit::Irq,
            VectorKind::SError => return Exit::SError,
            VectorKind::Aarch32 if !matches!(ec, ec::HVC32 | ec::SMC32) => {
                return Exit::Unknown { ec, esr }
            }
            _ => {}
        }
        let iss = esr & ISS_MASK;
        match ec {
            ec::HVC64 | ec::HVC32 => Exit::Call {
                conduit: Conduit::Hvc,
                aarch32: ec == ec::HVC32,
                imm: iss as u16,
            },
            ec::SMC64 | ec::SMC32 => Exit::Call {
                conduit: Conduit::Smc,
                aarch32: ec == ec::SMC32,
                imm: iss as u16,
            },
            ec::DABT_LOWER => data_abort(iss, ipa, snapshot.far),
            ec::IABT_LOWER => Exit::InstructionAbort {
                ipa,
                far: snapshot.far,
            },
            ec::WFX => Exit::Wfx {
                wfe: iss & ISS_WFX_WFE != 0,
            },
            // ISS for EC 0x18: Op0 [21:20], Op2 [19:17], Op1 [16:14], CRn [13:10], Rt [9:5],
            // CRm [4:1], Direction [0] (1 = read).
            ec::SYSREG => Exit::SysReg {
                register: SysRegId {
                    op0: ((iss >> 20) & 3) as u8,
                    op2: ((iss >> 17) & 7) as u8,
                    op1: ((iss >> 14) & 7) as u8,
                    crn: ((iss >> 10) & 0xf) as u8,
                    crm: ((iss >> 1) & 0xf) as u8,
                },
                rt: ((iss >> 5) & 0x1f) as u8,
                read: iss & 1 != 0,
            },
            _ => Exit::Unknown { ec, esr },
        }
    }
}

/// A stage-2 data abort with syndrome `iss` at `ipa` (guest VA `far`).
#[inline(always)]
fn data_abort(iss: u64, ipa: u64, far: u64) -> Exit {
    Exit::DataAbort {
        ipa,
        far,
        access: (iss & ISS_ISV != 0).then(|| MmioAccess {
            write: iss & ISS_WNR != 0,
            width: AccessWidth::from_sas(iss >> ISS_SAS_SHIFT),
            register: ((iss >> ISS_SRT_SHIFT) & 0x1f) as u8,
            sign_extend: iss & ISS_SSE != 0,
            sixty_four: iss & ISS_SF != 0,
        }),
        write: iss & ISS_WNR != 0,
        stage1_walk: iss & ISS_S1PTW != 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sync(esr: u64, far: u64, hpfar: u64) -> Snapshot {
        Snapshot {
            kind: VectorKind::Sync,
            esr,
            far,
            hpfar,
        }
    }

    #[test]
    fn hvc64_decodes_to_a_call_with_its_immediate() {
        let exit = Exit::decode(&sync(0x5a00_0000, 0, 0));
        assert_eq!(
            exit,
            Exit::Call {
                conduit: Conduit::Hvc,
                aarch32: false,
                imm: 0
            }
        );
        let exit = Exit::decode(&sync(0x5a00_0000 | 0x1234, 0, 0));
        assert_eq!(
            exit,
            Exit::Call {
                conduit: Conduit::Hvc,
                aarch32: false,
                imm: 0x1234
            }
        );
    }

    #[test]
    fn smc_from_aarch32_is_marked_as_such() {
        let exit = Exit::decode(&Snapshot {
            kind: VectorKind::Aarch32,
            esr: 0x4e00_0000,
            far: 0,
            hpfar: 0,
        });
        assert_eq!(
            exit,
            Exit::Call {
                conduit: Conduit::Smc,
                aarch32: true,
                imm: 0
            }
        );
    }

    #[test]
    fn aarch32_exceptions_other_than_calls_are_unknown() {
        let exit = Exit::decode(&Snapshot {
            kind: VectorKind::Aarch32,
            esr: 0x9200_0046,
            far: 0,
            hpfar: 0,
        });
        assert!(matches!(exit, Exit::Unknown { ec: 0x24, .. }));
    }

    #[test]
    fn data_abort_with_valid_syndrome_describes_the_access() {
        // EC 0x24, IL, ISV, SAS = word, SRT = x3, WnR: `str w3, [x1]` to IPA 0x0900_0000.
        let esr = (0x24 << 26) | (1 << 25) | (1 << 24) | (2 << 22) | (3 << 16) | (1 << 6) | 0x07;
        let exit = Exit::decode(&sync(
            esr,
            0xffff_0000_0900_0000,
            (0x0900_0000u64 >> 12) << 4,
        ));
        match exit {
            Exit::DataAbort {
                ipa,
                access: Some(access),
                write: true,
                ..
            } => {
                assert_eq!(ipa, 0x0900_0000);
                assert_eq!(
                    access,
                    MmioAccess {
                        write: true,
                        width: AccessWidth::Word,
                        register: 3,
                        sign_extend: false,
                        sixty_four: false
                    }
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn data_abort_ipa_combines_hpfar_page_and_far_offset() {
        let esr = (0x24 << 26) | (1 << 25);
        // HPFAR.FIPA = IPA >> 12 placed at bit 4.
        let hpfar = (0x8_0000_1000u64 >> 12) << 4;
        match Exit::decode(&sync(esr, 0x1234_5abc, hpfar)) {
            Exit::DataAbort {
                ipa, access: None, ..
            } => assert_eq!(ipa, 0x8_0000_1abc),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn instruction_abort_and_wfx_decode() {
        let hpfar = (0x5000_0000u64 >> 12) << 4;
        assert_eq!(
            Exit::decode(&sync(0x8200_0006, 0x5000_0010, hpfar)),
            Exit::InstructionAbort {
                ipa: 0x5000_0010,
                far: 0x5000_0010
            }
        );
        assert_eq!(
            Exit::decode(&sync(0x0600_0001, 0, 0)),
            Exit::Wfx { wfe: true }
        );
        assert_eq!(
            Exit::decode(&sync(0x0600_0000, 0, 0)),
            Exit::Wfx { wfe: false }
        );
    }

    #[test]
    fn msr_icc_sgi1r_el1_decodes_to_its_register_and_source() {
        // MSR ICC_SGI1R_EL1, x5: Op0 3, Op2 5, Op1 0, CRn 12, Rt 5, CRm 11, write.
        let iss = (3 << 20) | (5 << 17) | (12 << 10) | (5 << 5) | (11 << 1);
        let exit = Exit::decode(&sync((0x18 << 26) | (1 << 25) | iss, 0, 0));
        assert_eq!(
            exit,
            Exit::SysReg {
                register: SysRegId::ICC_SGI1R_EL1,
                rt: 5,
                read: false
            }
        );
    }

    #[test]
    fn unknown_classes_and_interrupts_never_panic() {
        for ec in 0..64u64 {
            let _ = Exit::decode(&sync(ec << 26 | 0x1ff_ffff, u64::MAX, u64::MAX));
        }
        assert_eq!(
            Exit::decode(&Snapshot {
                kind: VectorKind::Irq,
                esr: 0,
                far: 0,
                hpfar: 0
            }),
            Exit::Irq
        );
        assert!(matches!(
            Exit::decode(&sync(0x8c00_0000, 0, 0)),
            Exit::Unknown { ec: 0x23, .. }
        ));
    }
}
