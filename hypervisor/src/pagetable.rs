//! Translation table building for the EL2 stage-1 map and partitions' stage-2 maps.
//!
//! Both regimes use the 4 KiB granule and a 39-bit input address space starting at level 1, so
//! one builder serves both: a level-1 entry maps 1 GiB, level 2 maps 2 MiB, level 3 maps 4 KiB.
//! The builder always takes the largest block that the alignment of both addresses and the
//! remaining size allow, and never replaces an existing mapping.

use core::fmt;

/// Entries per table.
pub const ENTRIES: usize = 512;
/// One translation table (4 KiB).
pub type Table = [u64; ENTRIES];

/// Size of the input address space: 2^39 bytes (T0SZ = 25).
pub const INPUT_BITS: u32 = 39;
/// Bytes mapped by one entry at levels 1, 2 and 3.
pub const LEVEL_SIZE: [u64; 4] = [1 << 39, 1 << 30, 1 << 21, 1 << 12];
/// Page size.
pub const PAGE_SIZE: u64 = 4096;

const DESC_VALID: u64 = 1 << 0;
const DESC_TABLE_OR_PAGE: u64 = 1 << 1;
/// Output address bits [47:12] of a descriptor.
const DESC_ADDR_MASK: u64 = 0x0000_ffff_ffff_f000;
/// The end of the output address space (48 bits): below it, adding an entry's size to a
/// descriptor moves its address and never carries into the attributes.
const OUTPUT_LIMIT: u64 = 1 << 48;

/// The attribute bits of a block or page descriptor (everything except the address and type).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attributes(pub u64);

/// Supplies zeroed 4 KiB tables and gives access to them by physical address.
pub trait TablePool {
    /// Allocates a zeroed table and returns its physical address.
    fn alloc(&mut self) -> Option<u64>;
    /// The table at physical address `pa`, if this pool owns it.
    fn table(&mut self, pa: u64) -> Option<&mut Table>;
    /// The memory of the tables handed out so far, `(start, size)`, for cache maintenance
    /// (empty for a pool that needs none).
    fn used_span(&self) -> (u64, u64) {
        (0, 0)
    }
}

/// Why a mapping could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// The table pool is exhausted.
    OutOfTables,
    /// An address or the size is not 4 KiB aligned.
    Unaligned { va: u64, pa: u64, size: u64 },
    /// The range does not fit in the 39-bit input address space.
    OutOfRange { va: u64, size: u64 },
    /// The output range does not fit in the 48-bit output address space.
    OutputOutOfRange { pa: u64, size: u64 },
    /// Part of the range is already mapped.
    AlreadyMapped { va: u64 },
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapError::OutOfTables => write!(f, "out of translation tables"),
            MapError::Unaligned { va, pa, size } => {
                write!(
                    f,
                    "{va:#x} -> {pa:#x} ({size:#x} bytes) is not 4 KiB aligned"
                )
            }
            MapError::OutOfRange { va, size } => {
                write!(f, "{va:#x} + {size:#x} is beyond the 39-bit address space")
            }
            MapError::OutputOutOfRange { pa, size } => {
                write!(f, "{pa:#x} + {size:#x} is beyond the 48-bit output space")
            }
            MapError::AlreadyMapped { va } => write!(f, "{va:#x} is already mapped"),
        }
    }
}

/// How many entries of each size a mapping used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapStats {
    /// 1 GiB blocks.
    pub gib_blocks: u32,
    /// 2 MiB blocks.
    pub mib2_blocks: u32,
    /// 4 KiB pages.
    pub pages: u32,
}

/// A translation table tree rooted at a level-1 table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageTable {
    root: u64,
}

impl PageTable {
    /// Allocates an empty root table from `pool`.
    pub fn new(pool: &mut dyn TablePool) -> Result<Self, MapError> {
        Ok(PageTable {
            root: pool.alloc().ok_or(MapError::OutOfTables)?,
        })
    }

    /// Physical address of the root (level-1) table.
    pub fn root(&self) -> u64 {
        self.root
    }

    /// Maps `[va, va + size)` to `[pa, pa + size)` with `attrs`, using the largest blocks that
    /// alignment allows.
    pub fn map(
        &mut self,
        pool: &mut dyn TablePool,
        va: u64,
        pa: u64,
        size: u64,
        attrs: Attributes,
    ) -> Result<MapStats, MapError> {
        if !(va | pa | size).is_multiple_of(PAGE_SIZE) {
            return Err(MapError::Unaligned { va, pa, size });
        }
        match va.checked_add(size) {
            Some(end) if end <= 1 << INPUT_BITS => {}
            _ => return Err(MapError::OutOfRange { va, size }),
        }
        match pa.checked_add(size) {
            Some(end) if end <= OUTPUT_LIMIT => {}
            _ => return Err(MapError::OutputOutOfRange { pa, size }),
        }
        let mut stats = MapStats::default();
        map_range(pool, self.root, va, pa, size, attrs, &mut stats)?;
        Ok(stats)
    }

    /// Looks up the leaf descriptor mapping `va`: its output address for `va` and its
    /// attributes, or `None` if `va` is not mapped.
    pub fn lookup(&self, pool: &mut dyn TablePool, va: u64) -> Option<(u64, Attributes, u64)> {
        let mut table = self.root;
        for (level, &size) in LEVEL_SIZE.iter().enumerate().skip(1) {
            let index = ((va / size) % ENTRIES as u64) as usize;
            let desc = *pool.table(table)?.get(index)?;
            if desc & DESC_VALID == 0 {
                return None;
            }
            let is_table = level < 3 && desc & DESC_TABLE_OR_PAGE != 0;
            if !is_table {
                let base = desc & DESC_ADDR_MASK;
                let attrs = Attributes(desc & !DESC_ADDR_MASK & !0b11);
                return Some((base + va % size, attrs, size));
            }
            table = desc & DESC_ADDR_MASK;
        }
        None
    }
}

/// Maps `[va, va + size)` (checked by [`PageTable::map`]) one run at a time, without recursion:
/// each run is the largest entry size that the alignment of both addresses and the remaining
/// size allow, as many entries of it as remain and fit in one table. A run is checked and filled
/// with one borrow of its table, and nothing of it is written if any of it is mapped.
fn map_range(
    pool: &mut dyn TablePool,
    root: u64,
    mut va: u64,
    mut pa: u64,
    mut size: u64,
    attrs: Attributes,
    stats: &mut MapStats,
) -> Result<(), MapError> {
    while size > 0 {
        let level = (1..3)
            .find(|&level| {
                let entry = LEVEL_SIZE[level];
                size >= entry && (va | pa).is_multiple_of(entry)
            })
            .unwrap_or(3);
        let table = walk_to(pool, root, level, va)?;
        let entry_size = LEVEL_SIZE[level];
        let index = ((va / entry_size) % ENTRIES as u64) as usize;
        let run = (size / entry_size).min((ENTRIES - index) as u64);
        let slots = pool
            .table(table)
            .ok_or(MapError::OutOfTables)?
            .get_mut(index..index + run as usize)
            .ok_or(MapError::OutOfTables)?;
        if let Some(mapped) = first_valid(slots) {
            return Err(MapError::AlreadyMapped {
                va: va + mapped as u64 * entry_size,
            });
        }
        let kind = if level == 3 {
            DESC_VALID | DESC_TABLE_OR_PAGE
        } else {
            DESC_VALID
        };
        fill(slots, pa, entry_size, attrs.0 | kind);
        match level {
            1 => stats.gib_blocks += run as u32,
            2 => stats.mib2_blocks += run as u32,
            _ => stats.pages += run as u32,
        }
        va += run * entry_size;
        pa += run * entry_size;
        size -= run * entry_size;
    }
    Ok(())
}

/// The table at `level` (1 to 3) whose entries cover `va`, walking down from `root` and
/// allocating the missing tables on the way; a block on the way means `va` is already mapped.
fn walk_to(pool: &mut dyn TablePool, root: u64, level: usize, va: u64) -> Result<u64, MapError> {
    let mut table = root;
    for &entry_size in LEVEL_SIZE.get(1..level).unwrap_or(&[]) {
        let index = ((va / entry_size) % ENTRIES as u64) as usize;
        let current = *pool
            .table(table)
            .ok_or(MapError::OutOfTables)?
            .get(index)
            .ok_or(MapError::OutOfTables)?;
        table = if current & DESC_VALID == 0 {
            let next = pool.alloc().ok_or(MapError::OutOfTables)?;
            set_entry(pool, table, index, next | DESC_VALID | DESC_TABLE_OR_PAGE)?;
            next
        } else if current & DESC_TABLE_OR_PAGE != 0 {
            current & DESC_ADDR_MASK
        } else {
            return Err(MapError::AlreadyMapped { va });
        };
    }
    Ok(table)
}

/// The index of the first valid descriptor in `slots`, if any. One OR over the run first: it
/// is the common answer (nothing mapped) at a third of the cost of a search.
fn first_valid(slots: &[u64]) -> Option<usize> {
    if slots.iter().fold(0, |acc, &desc| acc | desc) & DESC_VALID == 0 {
        return None;
    }
    slots.iter().position(|&desc| desc & DESC_VALID != 0)
}

/// Fills `slots` with the descriptors of consecutive `step`-sized outputs from `pa`, with
/// `bits` (attributes and type). `map` checked that the outputs end below [`OUTPUT_LIMIT`], so
/// adding `step` moves the address and never carries out of it.
fn fill(slots: &mut [u64], pa: u64, step: u64, bits: u64) {
    let mut desc = (pa & DESC_ADDR_MASK) | (bits & !DESC_ADDR_MASK);
    for slot in slots {
        *slot = desc;
        desc = desc.wrapping_add(step);
    }
}

fn set_entry(
    pool: &mut dyn TablePool,
    table: u64,
    index: usize,
    desc: u64,
) -> Result<(), MapError> {
    let slot = pool
        .table(table)
        .ok_or(MapError::OutOfTables)?
        .get_mut(index)
        .ok_or(MapError::OutOfTables)?;
    *slot = desc;
    Ok(())
}

/// Descriptor attributes for the EL2 stage-1 regime (MAIR_EL2 index 0 = Device-nGnRE,
/// index 1 = Normal write-back).
pub mod el2 {
    use super::Attributes;

    /// MAIR_EL2: attribute 0 Device-nGnRE (0x04), attribute 1 Normal inner/outer write-back
    /// read/write-allocate (0xff).
    pub const MAIR: u64 = 0x04 | (0xff << 8);
    const ATTR_INDEX_DEVICE: u64 = 0 << 2;
    const ATTR_INDEX_NORMAL: u64 = 1 << 2;
    const SH_INNER: u64 = 3 << 8;
    const AF: u64 = 1 << 10;
    const XN: u64 = 1 << 54;
    /// AP[2:1]: AP[1] is RES1 in a regime with one Exception level; AP[2] makes it read-only.
    const AP_RW: u64 = 0b01 << 6;
    const AP_RO: u64 = 0b11 << 6;
    const NORMAL: u64 = ATTR_INDEX_NORMAL | SH_INNER | AF;

    /// The hypervisor's code: normal memory, read-only, executable.
    pub const TEXT: Attributes = Attributes(NORMAL | AP_RO);
    /// Read-only data: normal memory, read-only, never executable.
    pub const READ_ONLY: Attributes = Attributes(NORMAL | AP_RO | XN);
    /// Data, stacks and RAM: normal memory, read/write, never executable.
    pub const READ_WRITE: Attributes = Attributes(NORMAL | AP_RW | XN);
    /// Device memory, read/write, never executable.
    pub const DEVICE: Attributes = Attributes(ATTR_INDEX_DEVICE | AP_RW | AF | XN);

    /// Whether `attrs` forbid execution at EL2.
    pub fn is_execute_never(attrs: Attributes) -> bool {
        attrs.0 & XN != 0
    }

    /// Whether `attrs` forbid writes at EL2.
    pub fn is_read_only(attrs: Attributes) -> bool {
        attrs.0 & AP_RO == AP_RO
    }

    /// TCR_EL2 for a 39-bit identity map with 4 KiB pages, write-back inner-shareable walks and
    /// the physical address size `pa_range` (ID_AA64MMFR0_EL1.PARange).
    pub fn tcr(pa_range: u8) -> u64 {
        let t0sz = 64 - u64::from(super::INPUT_BITS);
        let res1 = (1 << 31) | (1 << 23);
        t0sz | (1 << 8) | (1 << 10) | (3 << 12) | (u64::from(pa_range.min(5)) << 16) | res1
    }

    /// SCTLR_EL2 with the MMU, data and instruction caches, stack alignment checks and WXN
    /// (every writable page is execute-never, whatever its descriptor says) on.
    pub const SCTLR_MMU_ON: u64 =
        0x30c5_0830 | (1 << 0) | (1 << 2) | (1 << 3) | (1 << 12) | (1 << 19);
}

/// Descriptor attributes for the stage-2 regime (Arm ARM D8.5.5, MemAttr with FWB = 0).
pub mod stage2 {
    use super::Attributes;

    const MEMATTR_NORMAL_WB: u64 = 0b1111 << 2;
    const MEMATTR_DEVICE_NGNRE: u64 = 0b0001 << 2;
    const S2AP_RW: u64 = 0b11 << 6;
    const SH_INNER: u64 = 3 << 8;
    const AF: u64 = 1 << 10;
    /// XN[1:0] = 0b10: not executable at EL1 or EL0.
    const XN: u64 = 0b10 << 53;

    /// Guest RAM: normal write-back memory, read/write/execute.
    pub const RAM: Attributes = Attributes(MEMATTR_NORMAL_WB | S2AP_RW | SH_INNER | AF);
    /// Passthrough MMIO: Device-nGnRE, read/write, never executable.
    pub const DEVICE: Attributes = Attributes(MEMATTR_DEVICE_NGNRE | S2AP_RW | AF | XN);
    /// S2AP = 0b01: read-only.
    const S2AP_RO: u64 = 0b01 << 6;
    /// A channel's shared memory, for an end that may write it: normal write-back, inner
    /// shareable (as guest RAM, so both partitions' cacheable mappings agree), never executable.
    pub const SHARED_RW: Attributes = Attributes(MEMATTR_NORMAL_WB | S2AP_RW | SH_INNER | AF | XN);
    /// The same for a read-only end: a write is a stage-2 permission fault.
    pub const SHARED_RO: Attributes = Attributes(MEMATTR_NORMAL_WB | S2AP_RO | SH_INNER | AF | XN);

    /// Whether `attrs` forbid execution.
    pub fn is_execute_never(attrs: Attributes) -> bool {
        attrs.0 & XN != 0
    }

    /// VTCR_EL2 for a 39-bit IPA space starting at level 1 with 4 KiB pages, write-back
    /// inner-shareable walks and the physical address size `pa_range`.
    pub fn vtcr(pa_range: u8) -> u64 {
        let t0sz = 64 - u64::from(super::INPUT_BITS);
        let sl0_level1 = 1 << 6;
        t0sz | sl0_level1
            | (1 << 8)
            | (1 << 10)
            | (3 << 12)
            | (u64::from(pa_range.min(5)) << 16)
            | (1 << 31)
    }

    /// VTTBR_EL2 for a stage-2 root and an 8-bit VMID.
    pub fn vttbr(root: u64, vmid: u8) -> u64 {
        (u64::from(vmid) << 48) | root
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// Tables in a vector; table `i` has the fake physical address `0x1000_0000 + i * 4096`.
    struct VecPool(Vec<Table>);
    const POOL_BASE: u64 = 0x1000_0000;

    impl TablePool for VecPool {
        fn alloc(&mut self) -> Option<u64> {
            self.0.push([0; ENTRIES]);
            Some(POOL_BASE + (self.0.len() as u64 - 1) * PAGE_SIZE)
        }
        fn table(&mut self, pa: u64) -> Option<&mut Table> {
            self.0.get_mut(((pa - POOL_BASE) / PAGE_SIZE) as usize)
        }
    }

    fn setup() -> (VecPool, PageTable) {
        let mut pool = VecPool(Vec::new());
        let table = PageTable::new(&mut pool).unwrap();
        (pool, table)
    }

    const GIB: u64 = 1 << 30;
    const MIB: u64 = 1 << 20;

    #[test]
    fn aligned_gigabyte_uses_one_level1_block() {
        let (mut pool, mut pt) = setup();
        let stats = pt
            .map(&mut pool, 0x4000_0000, 0x8000_0000, GIB, stage2::RAM)
            .unwrap();
        assert_eq!(
            stats,
            MapStats {
                gib_blocks: 1,
                mib2_blocks: 0,
                pages: 0
            }
        );
        assert_eq!(pool.0.len(), 1, "no level-2 table needed");
        let (pa, attrs, size) = pt.lookup(&mut pool, 0x4123_4567).unwrap();
        assert_eq!((pa, attrs, size), (0x8123_4567, stage2::RAM, GIB));
    }

    #[test]
    fn two_mib_aligned_region_uses_2mib_blocks() {
        let (mut pool, mut pt) = setup();
        let stats = pt
            .map(&mut pool, 0x4000_0000, 0x7f00_0000, 6 * MIB, stage2::RAM)
            .unwrap();
        assert_eq!(
            stats,
            MapStats {
                gib_blocks: 0,
                mib2_blocks: 3,
                pages: 0
            }
        );
        assert_eq!(pt.lookup(&mut pool, 0x4050_0000).unwrap().2, 2 * MIB);
    }

    #[test]
    fn mismatched_alignment_of_ipa_and_pa_falls_back_to_pages() {
        let (mut pool, mut pt) = setup();
        // The PA is only 4 KiB aligned, so no block can be used even though the IPA is.
        let stats = pt
            .map(&mut pool, 0x4000_0000, 0x7f00_1000, 2 * MIB, stage2::RAM)
            .unwrap();
        assert_eq!(
            stats,
            MapStats {
                gib_blocks: 0,
                mib2_blocks: 0,
                pages: 512
            }
        );
    }

    #[test]
    fn unaligned_edges_use_pages_and_the_middle_uses_blocks() {
        let (mut pool, mut pt) = setup();
        // 4 KiB before a 2 MiB boundary, then 2 MiB, then 8 KiB.
        let stats = pt
            .map(
                &mut pool,
                0x401f_f000,
                0x801f_f000,
                0x1000 + 2 * MIB + 0x2000,
                stage2::RAM,
            )
            .unwrap();
        assert_eq!(
            stats,
            MapStats {
                gib_blocks: 0,
                mib2_blocks: 1,
                pages: 3
            }
        );
        assert_eq!(pt.lookup(&mut pool, 0x401f_f800).unwrap().0, 0x801f_f800);
        assert_eq!(pt.lookup(&mut pool, 0x4040_1000).unwrap().0, 0x8040_1000);
    }

    #[test]
    fn devices_are_execute_never_and_ram_is_not() {
        assert!(stage2::is_execute_never(stage2::DEVICE));
        assert!(!stage2::is_execute_never(stage2::RAM));
        let (mut pool, mut pt) = setup();
        pt.map(&mut pool, 0x0904_0000, 0x0904_0000, 0x1000, stage2::DEVICE)
            .unwrap();
        let (_, attrs, size) = pt.lookup(&mut pool, 0x0904_0010).unwrap();
        assert_eq!((attrs, size), (stage2::DEVICE, 0x1000));
    }

    #[test]
    fn nothing_outside_the_granted_ranges_is_mapped() {
        let (mut pool, mut pt) = setup();
        pt.map(&mut pool, 0x4000_0000, 0x8000_0000, 2 * MIB, stage2::RAM)
            .unwrap();
        assert!(pt.lookup(&mut pool, 0x3fff_f000).is_none());
        assert!(pt.lookup(&mut pool, 0x4020_0000).is_none());
        assert!(pt.lookup(&mut pool, 0).is_none());
    }

    #[test]
    fn overlapping_mapping_is_refused() {
        let (mut pool, mut pt) = setup();
        pt.map(&mut pool, 0x4000_0000, 0x8000_0000, 2 * MIB, stage2::RAM)
            .unwrap();
        assert_eq!(
            pt.map(&mut pool, 0x4010_0000, 0x9000_0000, 0x1000, stage2::RAM),
            Err(MapError::AlreadyMapped { va: 0x4010_0000 })
        );
        assert_eq!(
            pt.map(&mut pool, 0x4000_0000, 0x9000_0000, 2 * MIB, stage2::RAM),
            Err(MapError::AlreadyMapped { va: 0x4000_0000 })
        );
    }

    #[test]
    fn unaligned_and_out_of_range_requests_are_refused() {
        let (mut pool, mut pt) = setup();
        assert!(matches!(
            pt.map(&mut pool, 0x4000_0800, 0, 0x1000, stage2::RAM),
            Err(MapError::Unaligned { .. })
        ));
        assert!(matches!(
            pt.map(&mut pool, (1 << 39) - 0x1000, 0, 0x2000, stage2::RAM),
            Err(MapError::OutOfRange { .. })
        ));
        assert!(matches!(
            pt.map(&mut pool, u64::MAX - 0xfff, 0, 0x1000, stage2::RAM),
            Err(MapError::OutOfRange { .. })
        ));
        // An output range past 48 bits would carry into the attributes: refused.
        assert!(matches!(
            pt.map(&mut pool, 0, (1 << 48) - 0x1000, 0x2000, stage2::RAM),
            Err(MapError::OutputOutOfRange { .. })
        ));
        assert!(matches!(
            pt.map(&mut pool, 0, u64::MAX - 0xfff, 0x1000, stage2::RAM),
            Err(MapError::OutputOutOfRange { .. })
        ));
        // The last pages below the limit map, with their own addresses.
        pt.map(
            &mut pool,
            0x20_0000,
            (1 << 48) - 0x2000,
            0x2000,
            stage2::RAM,
        )
        .unwrap();
        let (out, attrs, _) = pt.lookup(&mut pool, 0x20_1000).unwrap();
        assert_eq!((out, attrs), ((1 << 48) - 0x1000, stage2::RAM));
    }

    #[test]
    fn a_run_of_blocks_is_refused_whole_when_part_of_it_is_mapped() {
        let (mut pool, mut pt) = setup();
        pt.map(&mut pool, 0x4020_0000, 0x4020_0000, 4 * MIB, stage2::RAM)
            .unwrap();
        assert_eq!(
            pt.map(&mut pool, 0x4000_0000, 0x4000_0000, 8 * MIB, stage2::RAM),
            Err(MapError::AlreadyMapped { va: 0x4020_0000 })
        );
        assert!(
            pt.lookup(&mut pool, 0x4000_0000).is_none(),
            "nothing of the run written"
        );
        let stats = pt
            .map(&mut pool, 0x8000_0000, 0x8000_0000, 3 * GIB, stage2::RAM)
            .unwrap();
        assert_eq!(stats.gib_blocks, 3);
        assert_eq!(
            pt.lookup(&mut pool, 0x1_3fff_f000).unwrap().0,
            0x1_3fff_f000
        );
    }

    #[test]
    fn el2_attributes_are_write_xor_execute() {
        for attrs in [el2::TEXT, el2::READ_ONLY, el2::READ_WRITE, el2::DEVICE] {
            assert!(
                el2::is_read_only(attrs) || el2::is_execute_never(attrs),
                "{attrs:?}"
            );
        }
        assert!(!el2::is_execute_never(el2::TEXT));
        assert!(!el2::is_read_only(el2::READ_WRITE));
        assert_ne!(el2::SCTLR_MMU_ON & (1 << 19), 0, "WXN");
    }

    #[test]
    fn neighbouring_pages_keep_their_own_attributes() {
        let (mut pool, mut pt) = setup();
        pt.map(&mut pool, 0x4020_0000, 0x4020_0000, 0x3000, el2::TEXT)
            .unwrap();
        let stats = pt
            .map(&mut pool, 0x4020_4000, 0x4020_4000, 0x1000, el2::READ_WRITE)
            .unwrap();
        assert_eq!(stats.pages, 1);
        assert_eq!(pt.lookup(&mut pool, 0x4020_2ff8).unwrap().1, el2::TEXT);
        assert!(
            pt.lookup(&mut pool, 0x4020_3000).is_none(),
            "the gap stays unmapped"
        );
        let (_, attrs, size) = pt.lookup(&mut pool, 0x4020_4008).unwrap();
        assert_eq!((attrs, size), (el2::READ_WRITE, 0x1000));
    }

    #[test]
    fn translation_control_values_match_the_arm_encoding() {
        // T0SZ 25, SL0 = 1 (level 1), inner/outer WB, inner shareable, 44-bit PA, RES1 bit 31.
        assert_eq!(
            stage2::vtcr(4),
            25 | 1 << 6 | 1 << 8 | 1 << 10 | 3 << 12 | 4 << 16 | 1 << 31
        );
        assert_eq!(stage2::vttbr(0x4010_0000, 3), 0x0003_0000_4010_0000);
        assert_eq!(el2::tcr(4) & 0x3f, 25);
    }
}
