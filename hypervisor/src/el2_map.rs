//! The hypervisor's own (EL2 stage-1) memory map, planned as a list of regions in pure code.
//!
//! The map is W^X: the image's text is read-only and executable, its read-only data read-only,
//! its data, bss and stacks read-write and never executable, the rest of RAM (partitions' memory,
//! the bundle, the device tree) read-write and never executable, devices never executable. The
//! guard page below every EL2 stack is left unmapped, so an overflow faults. SCTLR_EL2.WXN is set
//! on top ([`crate::pagetable::el2::SCTLR_MMU_ON`]): whatever is writable is never executable.
//!
//! The one `unsafe` outside `arch` besides `cpu.rs`'s is here, in [`enable`]: only the code
//! that built the map can vouch that it covers everything the hypervisor touches, which is
//! `arch::set_mmu_state`'s contract.

use bulkhead_config::range::Range;

use crate::pagetable::{el2, Attributes, MapError, PageTable, TablePool, PAGE_SIZE};

/// The most regions a plan holds.
pub const MAX_REGIONS: usize = 96;

/// What the hypervisor may do with a region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Read and execute (the image's text).
    ReadExecute,
    /// Read only (the image's read-only data).
    ReadOnly,
    /// Read and write, never executed (data, stacks, RAM).
    ReadWrite,
    /// Device memory, read and write, never executed.
    Device,
}

impl Access {
    /// Whether EL2 may write the region.
    pub fn writable(self) -> bool {
        matches!(self, Access::ReadWrite | Access::Device)
    }

    /// Whether EL2 may execute from the region.
    pub fn executable(self) -> bool {
        self == Access::ReadExecute
    }

    /// The descriptor attributes.
    pub fn attributes(self) -> Attributes {
        match self {
            Access::ReadExecute => el2::TEXT,
            Access::ReadOnly => el2::READ_ONLY,
            Access::ReadWrite => el2::READ_WRITE,
            Access::Device => el2::DEVICE,
        }
    }
}

/// One mapped region (identity-mapped: VA = PA).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    /// The range, page-aligned.
    pub range: Range,
    /// Its permissions.
    pub access: Access,
}

/// Where the image's sections are (page-aligned, from the linker script's symbols).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageLayout {
    /// `.text` (with the vectors).
    pub text: Range,
    /// `.rodata`.
    pub rodata: Range,
    /// `.data` and `.bss`.
    pub data: Range,
    /// The EL2 stacks with their guard pages.
    pub stacks: Range,
}

impl ImageLayout {
    /// All of the image, text to stacks.
    fn span(&self) -> Range {
        let start = self.text.start;
        Range {
            start,
            size: self.stacks.start + self.stacks.size - start,
        }
    }
}

/// Why a plan could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanError {
    /// More regions than [`MAX_REGIONS`].
    TooManyRegions,
    /// The image's sections are not page-aligned, not in order or not inside RAM.
    BadLayout,
}

/// A plan: the regions to map, in the order [`build`] maps them.
pub type Regions = heapless::Vec<Region, MAX_REGIONS>;

fn end(range: Range) -> u64 {
    range.start.saturating_add(range.size)
}

fn push(regions: &mut Regions, start: u64, stop: u64, access: Access) -> Result<(), PlanError> {
    if stop > start {
        regions
            .push(Region {
                range: Range {
                    start,
                    size: stop - start,
                },
                access,
            })
            .map_err(|_| PlanError::TooManyRegions)?;
    }
    Ok(())
}

/// Pushes `[start, stop)` minus the pages in `holes` (page addresses, sorted ascending).
fn push_with_holes(
    regions: &mut Regions,
    start: u64,
    stop: u64,
    access: Access,
    holes: &[u64],
) -> Result<(), PlanError> {
    let mut cursor = start;
    for &hole in holes {
        if hole >= cursor && hole < stop {
            push(regions, cursor, hole, access)?;
            cursor = hole + PAGE_SIZE;
        }
    }
    push(regions, cursor, stop, access)
}

fn aligned(range: Range) -> bool {
    range.start.is_multiple_of(PAGE_SIZE) && range.size.is_multiple_of(PAGE_SIZE)
}

/// Plans the EL2 map into `regions` (emptied first): `ram` (the host's RAM) with the image
/// carved out and given per-section permissions, the stacks' `guard_pages` (in any order) left
/// out, and `devices` (rounded out to pages). The plan is filled in place: a returned plan
/// would be copied twice on the way out, which cost more than building the table from it.
pub fn plan(
    ram: &[Range],
    image: &ImageLayout,
    guard_pages: &[u64],
    devices: &[Range],
    regions: &mut Regions,
) -> Result<(), PlanError> {
    let sections = [image.text, image.rodata, image.data, image.stacks];
    let in_order = sections
        .windows(2)
        .all(|pair| end(pair[0]) == pair[1].start);
    let span = image.span();
    let inside_ram = ram
        .iter()
        .any(|r| r.start <= span.start && end(span) <= end(*r));
    if !sections.iter().all(|&s| aligned(s)) || !in_order || !inside_ram {
        return Err(PlanError::BadLayout);
    }
    let mut holes: heapless::Vec<u64, MAX_REGIONS> = heapless::Vec::new();
    holes
        .extend_from_slice(guard_pages)
        .map_err(|_| PlanError::TooManyRegions)?;
    holes.sort_unstable();
    regions.clear();
    for &r in ram {
        // RAM rounded in to pages, minus the image.
        let start = r.start.next_multiple_of(PAGE_SIZE);
        let stop = end(r) & !(PAGE_SIZE - 1);
        if span.start >= start && end(span) <= stop {
            push(regions, start, span.start, Access::ReadWrite)?;
            push(regions, end(span), stop, Access::ReadWrite)?;
        } else {
            push(regions, start, stop, Access::ReadWrite)?;
        }
    }
    push(
        regions,
        image.text.start,
        end(image.text),
        Access::ReadExecute,
    )?;
    push(
        regions,
        image.rodata.start,
        end(image.rodata),
        Access::ReadOnly,
    )?;
    push(
        regions,
        image.data.start,
        end(image.data),
        Access::ReadWrite,
    )?;
    push_with_holes(
        regions,
        image.stacks.start,
        end(image.stacks),
        Access::ReadWrite,
        &holes,
    )?;
    for &device in devices {
        let start = device.start & !(PAGE_SIZE - 1);
        let stop = end(device).next_multiple_of(PAGE_SIZE);
        push(regions, start, stop, Access::Device)?;
    }
    Ok(())
}

/// Builds the identity map of `regions` in a new table from `pool`.
pub fn build(pool: &mut dyn TablePool, regions: &[Region]) -> Result<PageTable, MapError> {
    let mut table = PageTable::new(pool)?;
    for region in regions {
        table.map(
            pool,
            region.range.start,
            region.range.start,
            region.range.size,
            region.access.attributes(),
        )?;
    }
    Ok(table)
}

/// The devices the hypervisor itself drives: the console UART, the power-management watchdog,
/// the RNG200, the SMMU and the GIC's frames.
pub fn host_devices(host: &crate::host_dt::HostInfo<'_>) -> heapless::Vec<Range, 10> {
    use crate::host_dt::Gic;
    let mut devices = heapless::Vec::new();
    let gic: [Option<Range>; 4] = match host.gic {
        Some(Gic::V3 {
            distributor,
            redistributors,
        }) => [Some(distributor), Some(redistributors), None, None],
        Some(Gic::V2 {
            distributor,
            cpu,
            hyp,
            vcpu,
        }) => [Some(distributor), Some(cpu), hyp, vcpu],
        None => [None; 4],
    };
    for device in [
        host.uart.map(|(_, range)| range),
        host.pm_watchdog,
        host.rng200,
        host.smmu,
    ]
    .into_iter()
    .chain(gic)
    .flatten()
    {
        let _ = devices.push(device);
    }
    devices
}

/// Builds the EL2 map for this board from `pool` and turns on the MMU and caches with it (the
/// boot CPU; secondary CPUs load the same tables in `entry.S`). Parks if the map cannot be
/// built: running without it would mean running without the guard pages. Runs with the MMU off:
/// no lock, and its messages go through the boot console's plain stores.
#[cfg(target_os = "none")]
pub fn enable(host: &crate::host_dt::HostInfo<'_>, pool: &mut dyn TablePool) {
    use crate::arch;
    let [text, rodata, data, stacks] = arch::memory::image_sections().map(|(start, end)| Range {
        start,
        size: end.saturating_sub(start),
    });
    let image = ImageLayout {
        text,
        rodata,
        data,
        stacks,
    };
    let mut guards: heapless::Vec<u64, { 2 * crate::MAX_CPUS }> = heapless::Vec::new();
    for (page, _, _) in arch::stack::guard_pages() {
        let _ = guards.push(page);
    }
    let mut regions = Regions::new();
    let devices = host_devices(host);
    if plan(&host.ram, &image, &guards, &devices, &mut regions).is_err() {
        arch::boot_console::write_str("HIL:PANIC the EL2 memory map cannot be planned\n");
        arch::park()
    }
    let Ok(table) = build(pool, &regions) else {
        arch::boot_console::write_str("HIL:PANIC the EL2 memory map does not fit the table pool\n");
        arch::park()
    };
    let (pool_start, pool_size) = pool.used_span();
    arch::clean_invalidate_dcache_range(pool_start, pool_size);
    let state = arch::MmuState {
        mair: el2::MAIR,
        tcr: el2::tcr(arch::cpu_features().pa_range),
        ttbr0: table.root(),
        sctlr: el2::SCTLR_MMU_ON,
    };
    // SAFETY: the table identity-maps all RAM (this image with per-section permissions, its
    // stacks but for their guard pages, the table pool, the device tree and the bundle) as
    // normal memory and the devices the hypervisor drives as device memory; no code runs from
    // a writable page and no stack in use is in a guard page.
    unsafe { arch::set_mmu_state(state) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pagetable::{Table, ENTRIES};
    use std::vec::Vec;

    const KIB: u64 = 1024;
    const MIB: u64 = 1 << 20;

    fn r(start: u64, size: u64) -> Range {
        Range { start, size }
    }

    /// An image at 0x4020_0000 like the real one: text, rodata, data+bss, stacks with guards.
    fn layout() -> (ImageLayout, Vec<u64>) {
        let base = 0x4020_0000;
        let image = ImageLayout {
            text: r(base, 96 * KIB),
            rodata: r(base + 96 * KIB, 32 * KIB),
            data: r(base + 128 * KIB, 64 * KIB),
            stacks: r(
                base + 192 * KIB,
                4 * KIB + 256 * KIB + 2 * (4 * KIB + 16 * KIB),
            ),
        };
        let stacks = image.stacks.start;
        let guards = vec![stacks, stacks + 260 * KIB, stacks + 260 * KIB + 20 * KIB];
        (image, guards)
    }

    fn planned() -> (Vec<Region>, ImageLayout, Vec<u64>) {
        let (image, guards) = layout();
        let ram = [r(0x4000_0000, 2048 * MIB)];
        let devices = [r(0x0900_0000, 0x1000), r(0x0800_0000, 0x1_0000)];
        let mut regions = Regions::new();
        plan(&ram, &image, &guards, &devices, &mut regions).unwrap();
        (regions.to_vec(), image, guards)
    }

    fn covering(regions: &[Region], address: u64) -> Vec<Region> {
        regions
            .iter()
            .copied()
            .filter(|reg| reg.range.start <= address && address < end(reg.range))
            .collect()
    }

    #[test]
    fn nothing_is_writable_and_executable() {
        let (regions, _, _) = planned();
        for region in &regions {
            assert!(
                !(region.access.writable() && region.access.executable()),
                "{region:?} is RWX"
            );
        }
        let executable: Vec<_> = regions.iter().filter(|r| r.access.executable()).collect();
        assert_eq!(executable.len(), 1, "only the text is executable");
    }

    #[test]
    fn each_section_gets_its_permissions() {
        let (regions, image, _) = planned();
        let access = |a| covering(&regions, a)[0].access;
        assert_eq!(access(image.text.start), Access::ReadExecute);
        assert_eq!(access(end(image.text) - 8), Access::ReadExecute);
        assert_eq!(access(image.rodata.start), Access::ReadOnly);
        assert_eq!(access(image.data.start), Access::ReadWrite);
        assert_eq!(access(image.stacks.start + 4 * KIB), Access::ReadWrite);
        assert_eq!(access(0x0900_0000), Access::Device);
    }

    #[test]
    fn guard_pages_are_unmapped_and_the_stacks_around_them_mapped() {
        let (regions, _, guards) = planned();
        for &guard in &guards {
            for offset in [0, 8, 4095] {
                assert!(covering(&regions, guard + offset).is_empty(), "{guard:#x}");
            }
            assert_eq!(covering(&regions, guard + 4096).len(), 1);
        }
        assert_eq!(covering(&regions, guards[1] - 8).len(), 1);
    }

    #[test]
    fn guard_pages_in_any_order_and_a_reused_plan_give_the_same_regions() {
        let (regions, image, mut guards) = planned();
        guards.reverse();
        guards.push(guards[0]);
        let ram = [r(0x4000_0000, 2048 * MIB)];
        let devices = [r(0x0900_0000, 0x1000), r(0x0800_0000, 0x1_0000)];
        let mut again = Regions::new();
        plan(&ram, &image, &[], &[], &mut again).unwrap();
        plan(&ram, &image, &guards, &devices, &mut again).unwrap();
        assert_eq!(again.as_slice(), regions.as_slice());
    }

    #[test]
    fn partition_ram_is_never_executable_and_regions_never_overlap() {
        let (regions, image, _) = planned();
        for address in [0x4000_0000, 0x4100_0000, 0x7fff_f000, end(image.stacks)] {
            let found = covering(&regions, address);
            assert_eq!(found.len(), 1, "{address:#x}");
            assert!(!found[0].access.executable());
        }
        for (i, a) in regions.iter().enumerate() {
            for b in &regions[i + 1..] {
                assert!(
                    end(a.range) <= b.range.start || end(b.range) <= a.range.start,
                    "{a:?} overlaps {b:?}"
                );
            }
        }
    }

    #[test]
    fn a_bad_layout_is_refused() {
        let (mut image, guards) = layout();
        image.rodata.start += 8;
        let ram = [r(0x4000_0000, 2048 * MIB)];
        let mut regions = Regions::new();
        assert_eq!(
            plan(&ram, &image, &guards, &[], &mut regions),
            Err(PlanError::BadLayout)
        );
        let (image, guards) = layout();
        assert_eq!(
            plan(&[r(0x8000_0000, MIB)], &image, &guards, &[], &mut regions),
            Err(PlanError::BadLayout)
        );
    }

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

    #[test]
    fn the_built_table_has_the_planned_attributes_and_holes() {
        let (regions, image, guards) = planned();
        let mut pool = VecPool(Vec::new());
        let table = build(&mut pool, &regions).unwrap();
        let (_, text, _) = table.lookup(&mut pool, image.text.start).unwrap();
        assert_eq!(text, el2::TEXT);
        assert!(!el2::is_execute_never(text) && el2::is_read_only(text));
        let (_, data, _) = table.lookup(&mut pool, image.data.start).unwrap();
        assert!(el2::is_execute_never(data) && !el2::is_read_only(data));
        let (_, rodata, _) = table.lookup(&mut pool, image.rodata.start).unwrap();
        assert!(el2::is_execute_never(rodata) && el2::is_read_only(rodata));
        let (_, ram, size) = table.lookup(&mut pool, 0x6000_0000).unwrap();
        assert!(el2::is_execute_never(ram));
        assert!(size >= 2 * MIB, "partition RAM still uses blocks");
        for guard in guards {
            assert!(table.lookup(&mut pool, guard).is_none());
        }
    }
}
