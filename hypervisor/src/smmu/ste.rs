//! Stream table entries (Arm IHI 0070, 5.2 "Stream Table Entry"): 64 bytes, eight 64-bit
//! words, of which the hypervisor writes the first four.

/// STE.V, STE[0]: the entry is valid (IHI 0070 5.2).
const V: u64 = 1 << 0;
/// STE.Config, STE[3:1] (IHI 0070 5.2, "Config"): 0b000 aborts every transaction without
/// recording an event, 0b110 translates through stage 2 only.
const CONFIG_SHIFT: u32 = 1;
const CONFIG_ABORT: u64 = 0b000;
const CONFIG_STAGE2: u64 = 0b110;
/// STE.SHCFG, STE[109:108] (word 1 bits [45:44]): 0b01 uses the incoming shareability.
const SHCFG_INCOMING: u64 = 0b01 << 44;

/// Word 2 bits [50:32] (STE[178:160]) hold S2T0SZ, S2SL0, S2IR0, S2OR0, S2SH0, S2TG and S2PS
/// in the very layout of VTCR_EL2[18:0] (IHI 0070 5.2; Arm ARM D19.2 VTCR_EL2).
const VTCR_FIELDS_SHIFT: u32 = 32;
const VTCR_FIELDS_MASK: u64 = (1 << 19) - 1;
/// VTCR_EL2.PS, bits [18:16]: the physical address size.
const VTCR_PS_SHIFT: u32 = 16;
const VTCR_PS_MASK: u64 = 0b111 << VTCR_PS_SHIFT;
/// VTCR_EL2.TG0, bits [15:14]: 0b00 is the 4 KiB granule (the only one the tables use).
const VTCR_TG0_MASK: u64 = 0b11 << 14;
/// STE.S2AA64, STE[179]: the stage-2 tables are AArch64 ones.
const S2AA64: u64 = 1 << 51;
/// STE.S2AFFD, STE[181]: an access-flag fault never happens (the tables set AF anyway).
const S2AFFD: u64 = 1 << 53;
/// STE.S2PTW, STE[182]: a stage-1 walk to Device memory faults (no stage 1 here; kept 0).
/// STE.S2R, STE[186]: stage-2 faults are recorded in the event queue.
const S2R: u64 = 1 << 58;
/// STE.S2TTB, STE[243:196] (word 3 bits [51:4]): the stage-2 table's physical address.
const S2TTB_MASK: u64 = ((1 << 52) - 1) & !0xf;
/// VMIDs are STE[143:128] (word 2 bits [15:0]).
const S2VMID_MASK: u64 = 0xffff;

/// One stream table entry, as the SMMU reads it (little-endian words).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ste(pub [u64; 8]);

/// The size of an STE in bytes (IHI 0070 5.2).
pub const STE_BYTES: usize = 64;

/// A partition's stage-2 translation as an STE needs it: the values its CPUs' VTTBR_EL2 and
/// VTCR_EL2 hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stage2 {
    /// The physical address of the stage-2 table's root (VTTBR_EL2.BADDR).
    pub root: u64,
    /// The partition's VMID (VTTBR_EL2.VMID).
    pub vmid: u16,
    /// VTCR_EL2 as the partition's CPUs run with it.
    pub vtcr: u64,
}

/// Why an STE cannot be built for a stage-2 translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SteError {
    /// VTCR_EL2.TG0 is not the 4 KiB granule.
    Granule,
    /// The root is not 4 KiB aligned or lies beyond the SMMU's output address size.
    Root(u64),
}

impl Ste {
    /// An entry that aborts every transaction of its stream: `V = 1, Config = abort` (IHI
    /// 0070 5.2: "Report abort to device, no event recorded").
    pub const fn abort() -> Ste {
        Ste([V | (CONFIG_ABORT << CONFIG_SHIFT), 0, 0, 0, 0, 0, 0, 0])
    }

    /// An invalid entry (V = 0): the SMMU records C_BAD_STE and terminates the transaction.
    pub const fn invalid() -> Ste {
        Ste([0; 8])
    }

    /// A stage-2-only entry that walks `s2`: the partition's own tables and VMID, with its
    /// VTCR's size, level, cacheability, shareability and granule, S2PS capped at the SMMU's
    /// output address size `oas` (SMMU_IDR5.OAS encoding, the same as VTCR_EL2.PS), AArch64
    /// tables, access-flag faults off and stage-2 faults recorded (IHI 0070 5.2, S2* fields).
    pub fn stage2(s2: Stage2, oas: u8) -> Result<Ste, SteError> {
        if s2.vtcr & VTCR_TG0_MASK != 0 {
            return Err(SteError::Granule);
        }
        let oas = u64::from(oas.min(5));
        if s2.root & 0xfff != 0 || s2.root >> oas_bits(oas) != 0 {
            return Err(SteError::Root(s2.root));
        }
        let ps = ((s2.vtcr & VTCR_PS_MASK) >> VTCR_PS_SHIFT).min(oas);
        let vtcr = (s2.vtcr & VTCR_FIELDS_MASK & !VTCR_PS_MASK) | (ps << VTCR_PS_SHIFT);
        let word0 = V | (CONFIG_STAGE2 << CONFIG_SHIFT);
        let word2 = (u64::from(s2.vmid) & S2VMID_MASK)
            | (vtcr << VTCR_FIELDS_SHIFT)
            | S2AA64
            | S2AFFD
            | S2R;
        let word3 = s2.root & S2TTB_MASK;
        Ok(Ste([word0, SHCFG_INCOMING, word2, word3, 0, 0, 0, 0]))
    }

    /// Whether V is set.
    pub fn valid(&self) -> bool {
        self.0[0] & V != 0
    }

    /// STE.Config.
    pub fn config(&self) -> u64 {
        (self.0[0] >> CONFIG_SHIFT) & 0b111
    }

    /// Whether the entry translates through stage 2.
    pub fn is_stage2(&self) -> bool {
        self.valid() && self.config() == CONFIG_STAGE2
    }

    /// Whether the entry aborts its stream's transactions (V = 1 with an abort Config).
    pub fn is_abort(&self) -> bool {
        self.valid() && self.config() & 0b100 == 0
    }

    /// STE.S2VMID.
    pub fn vmid(&self) -> u16 {
        (self.0[2] & S2VMID_MASK) as u16
    }

    /// STE.S2TTB.
    pub fn s2ttb(&self) -> u64 {
        self.0[3] & S2TTB_MASK
    }

    /// The little-endian bytes the SMMU reads.
    pub fn to_bytes(&self) -> [u8; STE_BYTES] {
        let mut bytes = [0; STE_BYTES];
        for (chunk, word) in bytes.chunks_exact_mut(8).zip(self.0) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        bytes
    }
}

/// The bits an SMMU_IDR5.OAS (or VTCR_EL2.PS) encoding stands for (IHI 0070 6.3.6).
pub fn oas_bits(oas: u64) -> u32 {
    match oas {
        0 => 32,
        1 => 36,
        2 => 40,
        3 => 42,
        4 => 44,
        5 => 48,
        _ => 52,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pagetable::stage2;

    fn s2(vtcr: u64) -> Stage2 {
        Stage2 {
            root: 0x4123_4000,
            vmid: 3,
            vtcr,
        }
    }

    #[test]
    fn abort_entry_is_valid_with_config_abort() {
        // IHI 0070 5.2: V = 1, Config = 0b000 "Abort"; no event is recorded for it.
        let ste = Ste::abort();
        assert_eq!(ste.0[0], 0b0001);
        assert!(ste.valid() && ste.is_abort() && !ste.is_stage2());
        assert!(!Ste::invalid().valid());
    }

    #[test]
    fn stage2_entry_carries_vtcr_fields_vmid_and_root() {
        // VTCR_EL2 as the partitions run: T0SZ 25, SL0 1, WB/WB, inner shareable, 4 KiB, PS 2.
        let vtcr = stage2::vtcr(2);
        let ste = Ste::stage2(s2(vtcr), 4).unwrap();
        // IHI 0070 5.2: Config = 0b110 "Stage 1 bypass, stage 2 translate".
        assert_eq!(ste.0[0], 0b1101);
        assert!(ste.is_stage2());
        assert_eq!(ste.vmid(), 3);
        assert_eq!(ste.s2ttb(), 0x4123_4000);
        let w2 = ste.0[2];
        assert_eq!((w2 >> 32) & 0x3f, 25, "S2T0SZ, STE[165:160]");
        assert_eq!(
            (w2 >> 38) & 0b11,
            1,
            "S2SL0, STE[167:166]: start at level 1"
        );
        assert_eq!((w2 >> 40) & 0b11, 1, "S2IR0, STE[169:168]: write-back");
        assert_eq!((w2 >> 42) & 0b11, 1, "S2OR0, STE[171:170]: write-back");
        assert_eq!((w2 >> 44) & 0b11, 3, "S2SH0, STE[173:172]: inner shareable");
        assert_eq!((w2 >> 46) & 0b11, 0, "S2TG, STE[175:174]: 4 KiB");
        assert_eq!((w2 >> 48) & 0b111, 2, "S2PS, STE[178:176]");
        assert_eq!((w2 >> 51) & 1, 1, "S2AA64, STE[179]");
        assert_eq!((w2 >> 52) & 1, 0, "S2ENDI, STE[180]: little-endian walks");
        assert_eq!((w2 >> 53) & 1, 1, "S2AFFD, STE[181]");
        assert_eq!(
            (w2 >> 55) & 0b111,
            0,
            "S2HD, S2HA, S2S: no hardware updates, no stall"
        );
        assert_eq!((w2 >> 58) & 1, 1, "S2R, STE[186]: faults are recorded");
        assert_eq!(
            ste.0[1],
            1 << 44,
            "SHCFG, STE[109:108]: incoming shareability"
        );
        assert_eq!(ste.0[4..], [0; 4]);
    }

    #[test]
    fn stage2_entry_caps_s2ps_at_the_smmu_output_size() {
        let ste = Ste::stage2(s2(stage2::vtcr(5)), 2).unwrap();
        assert_eq!((ste.0[2] >> 48) & 0b111, 2);
    }

    #[test]
    fn stage2_entry_refuses_other_granules_and_bad_roots() {
        let vtcr = stage2::vtcr(2);
        assert_eq!(
            Ste::stage2(s2(vtcr | (0b10 << 14)), 4),
            Err(SteError::Granule)
        );
        let mut bad = s2(vtcr);
        bad.root = 0x4123_4800;
        assert_eq!(Ste::stage2(bad, 4), Err(SteError::Root(0x4123_4800)));
        bad.root = 1 << 44;
        assert_eq!(Ste::stage2(bad, 4), Err(SteError::Root(1 << 44)));
    }

    #[test]
    fn bytes_are_little_endian_words() {
        let bytes = Ste::abort().to_bytes();
        assert_eq!(bytes[0], 1);
        assert!(bytes[1..].iter().all(|&b| b == 0));
    }
}
