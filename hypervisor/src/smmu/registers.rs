//! The SMMU's register file (Arm IHI 0070, 6.2 "Register overview" and 6.3): offsets from its
//! base, field encodings, and the ID registers decoded into what the driver needs.

/// SMMU_IDR0 (6.3.1).
pub const IDR0: usize = 0x0000;
/// SMMU_IDR1 (6.3.2).
pub const IDR1: usize = 0x0004;
/// SMMU_IDR5 (6.3.6).
pub const IDR5: usize = 0x0014;
/// SMMU_CR0 (6.3.9).
pub const CR0: usize = 0x0020;
/// SMMU_CR0ACK (6.3.10).
pub const CR0ACK: usize = 0x0024;
/// SMMU_CR1 (6.3.11).
pub const CR1: usize = 0x0028;
/// SMMU_CR2 (6.3.12).
pub const CR2: usize = 0x002c;
/// SMMU_GBPA (6.3.14).
pub const GBPA: usize = 0x0044;
/// SMMU_IRQ_CTRL (6.3.16).
pub const IRQ_CTRL: usize = 0x0050;
/// SMMU_IRQ_CTRLACK (6.3.17).
pub const IRQ_CTRLACK: usize = 0x0054;
/// SMMU_GERROR (6.3.18).
pub const GERROR: usize = 0x0060;
/// SMMU_GERRORN (6.3.19).
pub const GERRORN: usize = 0x0064;
/// SMMU_STRTAB_BASE, 64-bit (6.3.23).
pub const STRTAB_BASE: usize = 0x0080;
/// SMMU_STRTAB_BASE_CFG (6.3.24).
pub const STRTAB_BASE_CFG: usize = 0x0088;
/// SMMU_CMDQ_BASE, 64-bit (6.3.25).
pub const CMDQ_BASE: usize = 0x0090;
/// SMMU_CMDQ_PROD (6.3.26).
pub const CMDQ_PROD: usize = 0x0098;
/// SMMU_CMDQ_CONS (6.3.27).
pub const CMDQ_CONS: usize = 0x009c;
/// SMMU_EVENTQ_BASE, 64-bit (6.3.28).
pub const EVENTQ_BASE: usize = 0x00a0;
/// SMMU_EVENTQ_PROD, in register page 1 (6.3.29; 6.2: page 1 is at offset 64 KiB).
pub const EVENTQ_PROD: usize = 0x100a8;
/// SMMU_EVENTQ_CONS, in register page 1 (6.3.30).
pub const EVENTQ_CONS: usize = 0x100ac;
/// The register file's size: two 64 KiB pages (6.2).
pub const REGISTER_BYTES: u64 = 0x20000;

/// SMMU_CR0.SMMUEN, bit 0.
pub const CR0_SMMUEN: u32 = 1 << 0;
/// SMMU_CR0.EVENTQEN, bit 2.
pub const CR0_EVENTQEN: u32 = 1 << 2;
/// SMMU_CR0.CMDQEN, bit 3.
pub const CR0_CMDQEN: u32 = 1 << 3;

/// SMMU_CR1: queues and tables are walked inner and outer write-back cacheable (0b01) and
/// inner shareable (0b11): QUEUE_IC [1:0], QUEUE_OC [3:2], QUEUE_SH [5:4], TABLE_IC [7:6],
/// TABLE_OC [9:8], TABLE_SH [11:10].
pub const CR1_WRITE_BACK_INNER_SHAREABLE: u32 =
    0b01 | (0b01 << 2) | (0b11 << 4) | (0b01 << 6) | (0b01 << 8) | (0b11 << 10);
/// SMMU_CR2.RECINVSID, bit 1: a transaction with an out-of-range StreamID records
/// C_BAD_STREAMID. PTM, bit 2: broadcast TLB maintenance is not needed (the driver invalidates
/// by command).
pub const CR2_RECINVSID_PTM: u32 = (1 << 1) | (1 << 2);

/// SMMU_GBPA.UPDATE, bit 31: set with a new value; cleared by the SMMU once it applies.
pub const GBPA_UPDATE: u32 = 1 << 31;
/// SMMU_GBPA.ABORT, bit 20: with SMMUEN = 0, every transaction is aborted.
pub const GBPA_ABORT: u32 = 1 << 20;

/// SMMU_GERROR.CMDQ_ERR, bit 0.
pub const GERROR_CMDQ_ERR: u32 = 1 << 0;
/// SMMU_GERROR.EVENTQ_ABT_ERR, bit 2.
pub const GERROR_EVENTQ_ABT_ERR: u32 = 1 << 2;

/// SMMU_EVENTQ_PROD.OVFLG, bit 31: records were lost since CONS last mirrored it.
pub const EVENTQ_OVERFLOW: u32 = 1 << 31;

/// The RA/WA bit (62) of the base registers: read- (or write-) allocate in caches.
const BASE_ALLOCATE: u64 = 1 << 62;
/// The address field of STRTAB_BASE ([51:6]).
const STRTAB_ADDR_MASK: u64 = ((1 << 52) - 1) & !0x3f;
/// The address field of CMDQ_BASE and EVENTQ_BASE ([51:5]).
const QUEUE_ADDR_MASK: u64 = ((1 << 52) - 1) & !0x1f;

/// SMMU_STRTAB_BASE for a table at `pa` (6.3.23: RA [62], ADDR [51:6]).
pub fn strtab_base(pa: u64) -> u64 {
    BASE_ALLOCATE | (pa & STRTAB_ADDR_MASK)
}

/// SMMU_STRTAB_BASE_CFG for a linear table of 2^`log2size` entries (6.3.24: FMT [17:16] =
/// 0b00 linear, LOG2SIZE [5:0]).
pub fn strtab_base_cfg_linear(log2size: u8) -> u32 {
    u32::from(log2size & 0x3f)
}

/// SMMU_CMDQ_BASE or SMMU_EVENTQ_BASE for a queue at `pa` of 2^`log2size` entries (6.3.25,
/// 6.3.28: RA/WA [62], ADDR [51:5], LOG2SIZE [4:0]).
pub fn queue_base(pa: u64, log2size: u8) -> u64 {
    BASE_ALLOCATE | (pa & QUEUE_ADDR_MASK) | u64::from(log2size & 0x1f)
}

/// What the ID registers say the driver may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Features {
    /// SMMU_IDR0.S2P: stage-2 translation.
    pub stage2: bool,
    /// SMMU_IDR0.TTF includes AArch64 tables.
    pub aarch64_tables: bool,
    /// SMMU_IDR0.COHACC: table walks and queue accesses are coherent with the CPUs' caches.
    pub coherent: bool,
    /// SMMU_IDR0.VMID16: 16-bit VMIDs.
    pub vmid16: bool,
    /// SMMU_IDR1.SIDSIZE: StreamID bits.
    pub sid_bits: u8,
    /// SMMU_IDR1.CMDQS: log2 of the largest command queue.
    pub cmdq_log2max: u8,
    /// SMMU_IDR1.EVENTQS: log2 of the largest event queue.
    pub eventq_log2max: u8,
    /// SMMU_IDR5.OAS: output address size (VTCR_EL2.PS encoding).
    pub oas: u8,
    /// SMMU_IDR5.GRAN4K: the 4 KiB granule.
    pub granule_4k: bool,
}

/// Why the driver cannot use an SMMU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unsupported {
    /// No stage-2 translation (SMMU_IDR0.S2P = 0: QEMU needs `-global arm-smmuv3.stage=2`
    /// or `nested`).
    NoStage2,
    /// No AArch64 translation tables.
    NoAarch64Tables,
    /// No 4 KiB granule.
    No4kGranule,
}

impl Unsupported {
    /// What the console says.
    pub fn message(self) -> &'static str {
        match self {
            Unsupported::NoStage2 => "it has no stage-2 translation (SMMU_IDR0.S2P = 0)",
            Unsupported::NoAarch64Tables => "it walks no AArch64 tables (SMMU_IDR0.TTF)",
            Unsupported::No4kGranule => "it has no 4 KiB granule (SMMU_IDR5.GRAN4K = 0)",
        }
    }
}

impl Features {
    /// Decodes SMMU_IDR0, SMMU_IDR1 and SMMU_IDR5 (6.3.1, 6.3.2, 6.3.6).
    pub fn decode(idr0: u32, idr1: u32, idr5: u32) -> Features {
        Features {
            stage2: idr0 & 1 != 0,
            aarch64_tables: (idr0 >> 2) & 0b10 != 0,
            coherent: (idr0 >> 4) & 1 != 0,
            vmid16: (idr0 >> 18) & 1 != 0,
            sid_bits: (idr1 & 0x3f) as u8,
            eventq_log2max: ((idr1 >> 16) & 0x1f) as u8,
            cmdq_log2max: ((idr1 >> 21) & 0x1f) as u8,
            oas: (idr5 & 0b111) as u8,
            granule_4k: (idr5 >> 4) & 1 != 0,
        }
    }

    /// Whether the driver can use it: stage 2 over AArch64 tables with 4 KiB pages.
    pub fn check(&self) -> Result<(), Unsupported> {
        if !self.stage2 {
            Err(Unsupported::NoStage2)
        } else if !self.aarch64_tables {
            Err(Unsupported::NoAarch64Tables)
        } else if !self.granule_4k {
            Err(Unsupported::No4kGranule)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qemu_stage2_smmu_is_usable() {
        // QEMU's arm-smmuv3 with stage=2: IDR0.S2P = 1, TTF = 0b10 (AArch64), IDR1.SIDSIZE =
        // 16, CMDQS = EVENTQS = 19, IDR5.OAS = 4 (44 bits), GRAN4K = GRAN16K = GRAN64K = 1.
        let idr0 = 1 | (0b10 << 2) | (1 << 18);
        let idr1 = 16 | (19 << 16) | (19 << 21);
        let idr5 = 4 | (0b111 << 4);
        let features = Features::decode(idr0, idr1, idr5);
        assert!(features.stage2 && features.aarch64_tables && features.vmid16);
        assert_eq!(features.sid_bits, 16);
        assert_eq!(features.cmdq_log2max, 19);
        assert_eq!(features.eventq_log2max, 19);
        assert_eq!(features.oas, 4);
        assert_eq!(features.check(), Ok(()));
    }

    #[test]
    fn stage1_only_smmu_is_refused() {
        // QEMU's default (stage=1): S1P = bit 1, S2P = 0.
        let features = Features::decode(0b10 | (0b10 << 2), 16, 0x10 | 4);
        assert_eq!(features.check(), Err(Unsupported::NoStage2));
        let features = Features::decode(1, 16, 0x10);
        assert_eq!(features.check(), Err(Unsupported::NoAarch64Tables));
        let features = Features::decode(1 | (0b11 << 2), 16, 0x40);
        assert_eq!(features.check(), Err(Unsupported::No4kGranule));
    }

    #[test]
    fn base_registers_place_address_and_size() {
        // IHI 0070 6.3.23/6.3.25: RA bit 62, the address in [51:6] (table) or [51:5] (queue),
        // LOG2SIZE in [4:0] of the queue bases and [5:0] of STRTAB_BASE_CFG (FMT 0 = linear).
        assert_eq!(strtab_base(0x4010_0000), (1 << 62) | 0x4010_0000);
        assert_eq!(strtab_base_cfg_linear(8), 8);
        assert_eq!(queue_base(0x4020_0000, 7), (1 << 62) | 0x4020_0007);
        assert_eq!(queue_base(0x4020_001f, 7) & !(1 << 62), 0x4020_0007);
    }
}
