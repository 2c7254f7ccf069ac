//! SMCCC_ARCH_SOC_ID values (Arm DEN0028, "SMCCC_ARCH_SOC_ID").
//!
//! The SoC version is `bank[30:24] | JEP-106 identification code[23:16] | SoC id[15:0]` and the
//! revision a 31-bit number. A board whose facts name its SoC should answer with them; until
//! boards do, Bulkhead answers with the boot CPU's MIDR: the implementer's JEP-106 code, the
//! part number as the SoC id and `variant << 4 | revision` as the revision. That is a policy
//! choice (QEMU `virt` has no SoC of its own), documented in `docs/guest-abi.md`.

/// MIDR_EL1.Implementer, bits [31:24].
const MIDR_IMPLEMENTER_SHIFT: u32 = 24;
/// MIDR_EL1.Variant, bits [23:20].
const MIDR_VARIANT_SHIFT: u32 = 20;
/// MIDR_EL1.PartNum, bits [15:4].
const MIDR_PART_SHIFT: u32 = 4;
/// MIDR_EL1.Implementer for Arm Limited ('A').
const IMPLEMENTER_ARM: u64 = 0x41;
/// Arm Limited in JEP-106: bank 5 (4 continuation codes), identification code 0x3b.
const JEP106_ARM: (u32, u32) = (4, 0x3b);

/// The two SMC32 answers of SMCCC_ARCH_SOC_ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SocId {
    /// SoC_ID_type 0: the SoC version.
    pub version: u32,
    /// SoC_ID_type 1: the SoC revision.
    pub revision: u32,
}

impl SocId {
    /// The SoC identification Bulkhead derives from a CPU's MIDR_EL1; `None` for implementers
    /// whose JEP-106 code it does not know (the call is then NOT_SUPPORTED).
    pub fn from_midr(midr: u64) -> Option<SocId> {
        let (bank, code) = match (midr >> MIDR_IMPLEMENTER_SHIFT) & 0xff {
            IMPLEMENTER_ARM => JEP106_ARM,
            _ => return None,
        };
        let part = ((midr >> MIDR_PART_SHIFT) & 0xfff) as u32;
        let variant = ((midr >> MIDR_VARIANT_SHIFT) & 0xf) as u32;
        let revision = (midr & 0xf) as u32;
        Some(SocId {
            version: bank << 24 | code << 16 | part,
            revision: variant << 4 | revision,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cortex_a72_r0p3_is_arm_jep106_with_its_part_number() {
        // MIDR of QEMU's cortex-a72: implementer 0x41, variant 0, part 0xd08, revision 3.
        let id = SocId::from_midr(0x410f_d083).unwrap();
        assert_eq!(id.version, 0x043b_0d08);
        assert_eq!(id.revision, 0x03);
        assert_eq!(id.version >> 31, 0, "bit 31 must be zero");
    }

    #[test]
    fn unknown_implementers_have_no_soc_id() {
        assert_eq!(SocId::from_midr(0x510f_8000), None);
    }
}
