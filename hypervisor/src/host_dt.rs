//! What the hypervisor learns from the host device tree the boot loader passed in x0.
//!
//! Nothing the device tree says is hard-coded: RAM, CPUs, the GIC, the console UART, the PSCI
//! conduit and the hardware RNG all come from here.
// Panic guards: boot loader input (the host device tree) reaches this module.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use bulkhead_config::fdt_scan;
use bulkhead_config::range::Range;
use heapless::Vec;

/// Which GIC the board has, with its register frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gic {
    /// GICv2 (GIC-400): distributor, CPU interface, hypervisor control and vCPU interface.
    V2 {
        distributor: Range,
        cpu: Range,
        hyp: Option<Range>,
        vcpu: Option<Range>,
    },
    /// GICv3: distributor and redistributor region.
    V3 {
        distributor: Range,
        redistributors: Range,
    },
}

impl Gic {
    /// The architecture version (2 or 3).
    pub fn version(&self) -> u8 {
        match self {
            Gic::V2 { .. } => 2,
            Gic::V3 { .. } => 3,
        }
    }
}

/// How the firmware's PSCI is called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PsciConduit {
    /// `smc #0`.
    Smc,
    /// `hvc #0` (only meaningful below a higher hypervisor; not used at EL2).
    Hvc,
}

/// A UART the hypervisor can print on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UartKind {
    /// Arm PL011.
    Pl011,
    /// The BCM2835/BCM2711 auxiliary mini UART (the Raspberry Pi's default console).
    MiniUart,
}

/// The host facts Bulkhead needs.
#[derive(Clone, Debug)]
pub struct HostInfo<'a> {
    /// The root node's `model` (or first `compatible`).
    pub model: &'a str,
    /// RAM ranges.
    pub ram: Vec<Range, 8>,
    /// Ranges reserved by `/memreserve/` and `/reserved-memory`.
    pub reserved: Vec<Range, 16>,
    /// CPUs by MPIDR affinity (`reg` of each `/cpus/cpu@*`).
    pub cpus: Vec<u64, { crate::MAX_CPUS }>,
    /// Each CPU's spin-table release address (`cpu-release-addr`), 0 if it has none; same
    /// order as `cpus`.
    pub release_addresses: Vec<u64, { crate::MAX_CPUS }>,
    /// The interrupt controller.
    pub gic: Option<Gic>,
    /// The console: `/chosen/stdout-path`, else the first PL011.
    pub uart: Option<(UartKind, Range)>,
    /// The console UART's interrupt as a GIC INTID (its `interrupts`, a three-cell GIC SPI),
    /// if it has one: the hypervisor keeps it (console input).
    pub uart_interrupt: Option<u32>,
    /// The PSCI conduit, if the firmware has PSCI.
    pub psci: Option<PsciConduit>,
    /// The BCM2835-family power management block (its watchdog resets the board), if any.
    pub pm_watchdog: Option<Range>,
    /// The device tree's own size in bytes.
    pub size: usize,
    /// `/chosen/rng-seed`: random bytes from the boot loader (QEMU `virt` gives 32), seeding
    /// the entropy pool when the CPU has no RNDR.
    pub rng_seed: Option<&'a [u8]>,
    /// The Broadcom RNG200 (`brcm,bcm2711-rng200` or `brcm,iproc-rng200`, status "okay"; the
    /// first one): the hypervisor's own hardware RNG, never a partition's.
    pub rng200: Option<Range>,
    /// The SMMUv3 (`arm,smmu-v3`, status "okay"; the first one): the hypervisor's own, which
    /// translates passthrough devices' DMA through their partitions' stage 2.
    pub smmu: Option<Range>,
}

/// Why the host device tree could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostDtError {
    /// x0 does not point at a valid flattened device tree.
    Invalid,
}

/// What the walker keeps of each open node.
#[derive(Clone, Copy, Default)]
struct OpenNode<'a> {
    name: &'a [u8],
    /// `#address-cells` / `#size-cells` for this node's children.
    address_cells: usize,
    size_cells: usize,
    reg: Option<&'a [u8]>,
    interrupts: Option<&'a [u8]>,
    release_address: Option<&'a [u8]>,
    ranges: Option<&'a [u8]>,
    compatible: &'a [u8],
    kind: DeviceKind,
    /// The first string of `status` (empty if the node has none).
    status: &'a [u8],
    device_type: &'a [u8],
    method: &'a [u8],
    model: &'a [u8],
}

const MAX_DEPTH: usize = 12;
const MAX_PATH: usize = 256;

/// Translates a bus address of a child of `stack[level]` to a CPU physical address through the
/// `ranges` of `stack[level]` and its ancestors (devicetree spec 2.3.8).
fn translate(stack: &[OpenNode<'_>], mut level: usize, mut address: u64) -> Option<u64> {
    while level > 0 {
        let bus = stack.get(level)?;
        let parent_level = level.checked_sub(1)?;
        let parent = stack.get(parent_level)?;
        if let Some(ranges) = bus.ranges.filter(|r| !r.is_empty()) {
            let parent_at = bus.address_cells.checked_add(parent.address_cells)?;
            let entry_cells = parent_at.checked_add(bus.size_cells)?;
            let entries = (ranges.len() / 4).checked_div(entry_cells).unwrap_or(0);
            let mut mapped = None;
            for entry in 0..entries {
                let base = entry.checked_mul(entry_cells)?;
                let child = fdt_scan::cells(ranges, base, bus.address_cells)?;
                let parent_address = fdt_scan::cells(
                    ranges,
                    base.checked_add(bus.address_cells)?,
                    parent.address_cells,
                )?;
                let size = fdt_scan::cells(ranges, base.checked_add(parent_at)?, bus.size_cells)?;
                if let Some(offset) = address.checked_sub(child).filter(|&o| o < size) {
                    // A window past 2^64 maps nothing.
                    mapped = parent_address.checked_add(offset);
                    break;
                }
            }
            address = mapped?;
        }
        level = parent_level;
    }
    Some(address)
}

/// The `index`th (address, size) pair of a node's `reg`, translated to a CPU physical address.
fn reg_entry(stack: &[OpenNode<'_>], node: &OpenNode<'_>, index: usize) -> Option<Range> {
    let parent_level = stack.len().checked_sub(1)?;
    let parent = stack.get(parent_level)?;
    let (ac, sc) = (parent.address_cells, parent.size_cells);
    let reg = node.reg?;
    let at = index.checked_mul(ac.checked_add(sc)?)?;
    let address = fdt_scan::cells(reg, at, ac)?;
    let size = if sc == 0 {
        0
    } else {
        fdt_scan::cells(reg, at.checked_add(ac)?, sc)?
    };
    Some(Range {
        start: translate(stack, parent_level, address)?,
        size,
    })
}

/// The GIC INTID of an `interrupts` property's first specifier if it is a three-cell GIC SPI
/// (`<0 N flags>`: INTID N + 32, below 1020).
fn gic_spi(interrupts: Option<&[u8]>) -> Option<u32> {
    let value = interrupts?;
    if value.len() < 12 || fdt_scan::cells(value, 0, 1)? != 0 {
        return None;
    }
    let spi = u32::try_from(fdt_scan::cells(value, 1, 1)?).ok()?;
    spi.checked_add(32).filter(|&intid| intid < 1020)
}

/// The devices the hypervisor looks for, recognised once from `compatible`.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum DeviceKind {
    #[default]
    Other,
    GicV3,
    GicV2,
    Pl011,
    MiniUart,
    PmWatchdog,
    Rng200,
    SmmuV3,
}

impl DeviceKind {
    fn from_compatible(compatible: &[u8]) -> Self {
        fdt_scan::strings(compatible)
            .find_map(|c| match c {
                b"arm,gic-v3" => Some(DeviceKind::GicV3),
                b"arm,gic-400" | b"arm,cortex-a15-gic" => Some(DeviceKind::GicV2),
                b"arm,pl011" => Some(DeviceKind::Pl011),
                b"brcm,bcm2835-aux-uart" => Some(DeviceKind::MiniUart),
                b"brcm,bcm2835-pm-wdt" => Some(DeviceKind::PmWatchdog),
                b"brcm,bcm2711-rng200" | b"brcm,iproc-rng200" => Some(DeviceKind::Rng200),
                b"arm,smmu-v3" => Some(DeviceKind::SmmuV3),
                _ => None,
            })
            .unwrap_or_default()
    }
}

impl<'a> HostInfo<'a> {
    /// Parses the host device tree in one pass.
    pub fn parse(blob: &'a [u8]) -> Result<Self, HostDtError> {
        let mut info = Self::empty();
        info.parse_into(blob)?;
        Ok(info)
    }

    /// What [`HostInfo::parse_into`] starts from: an unknown board with nothing on it.
    pub const fn empty() -> Self {
        HostInfo {
            model: "unknown board",
            ram: Vec::new(),
            reserved: Vec::new(),
            cpus: Vec::new(),
            release_addresses: Vec::new(),
            gic: None,
            uart: None,
            uart_interrupt: None,
            psci: None,
            pm_watchdog: None,
            size: 0,
            rng_seed: None,
            rng200: None,
            smmu: None,
        }
    }

    /// [`HostInfo::parse`] into `self`, which must be [`HostInfo::empty`], where it lies (boot
    /// keeps it in the boot CPU's first frame instead of moving it through each return).
    pub fn parse_into(&mut self, blob: &'a [u8]) -> Result<(), HostDtError> {
        let info = self;
        let mut stack: Vec<OpenNode<'a>, MAX_DEPTH> = Vec::new();
        let mut stdout_path: &'a [u8] = b"";
        let mut serial_aliases: Vec<(&'a [u8], &'a [u8]), 4> = Vec::new();
        let mut uarts: Vec<(Vec<u8, MAX_PATH>, UartKind, Range, Option<u32>), 8> = Vec::new();

        fdt_scan::walk(blob, |event| match event {
            fdt_scan::Event::Begin { name, .. } => {
                let _ = stack.push(OpenNode {
                    name,
                    address_cells: 2,
                    size_cells: 1,
                    ..Default::default()
                });
            }
            fdt_scan::Event::Property { name, value } => {
                let depth = stack.len();
                let Some(node) = stack.last_mut() else { return };
                let text = || fdt_scan::strings(value).next().unwrap_or(b"");
                match name {
                    b"#address-cells" => {
                        node.address_cells = fdt_scan::cells(value, 0, 1).unwrap_or(2) as usize
                    }
                    b"#size-cells" => {
                        node.size_cells = fdt_scan::cells(value, 0, 1).unwrap_or(1) as usize
                    }
                    b"reg" => node.reg = Some(value),
                    b"interrupts" => node.interrupts = Some(value),
                    b"cpu-release-addr" => node.release_address = Some(value),
                    b"ranges" => node.ranges = Some(value),
                    b"compatible" => {
                        node.compatible = value;
                        node.kind = DeviceKind::from_compatible(value);
                    }
                    b"device_type" => node.device_type = text(),
                    b"method" => node.method = text(),
                    b"model" => node.model = text(),
                    b"status" => node.status = text(),
                    b"stdout-path" if depth == 2 && node.name == b"chosen" => stdout_path = text(),
                    b"rng-seed" if depth == 2 && node.name == b"chosen" => {
                        info.rng_seed = Some(value)
                    }
                    alias
                        if depth == 2
                            && node.name == b"aliases"
                            && alias.starts_with(b"serial") =>
                    {
                        let _ = serial_aliases.push((alias, text()));
                    }
                    _ => {}
                }
            }
            fdt_scan::Event::End => {
                let Some(node) = stack.pop() else { return };
                let depth = stack.len();
                let parent_name: &[u8] = stack.last().map_or(b"", |p| p.name);
                if depth == 0 {
                    let model = if node.model.is_empty() {
                        node.compatible
                    } else {
                        node.model
                    };
                    info.model = fdt_scan::text(model).unwrap_or("unknown board");
                } else if node.device_type == b"memory" {
                    for index in 0..8 {
                        match reg_entry(&stack, &node, index) {
                            Some(range) if range.size > 0 => {
                                let _ = info.ram.push(range);
                            }
                            Some(_) => {}
                            None => break,
                        }
                    }
                } else if node.device_type == b"cpu" && parent_name == b"cpus" {
                    if let Some(mpidr) = node.reg.and_then(|reg| {
                        fdt_scan::cells(reg, 0, stack.last().map_or(1, |p| p.address_cells))
                    }) {
                        if info.cpus.push(mpidr).is_ok() {
                            let release = node
                                .release_address
                                .and_then(|v| fdt_scan::cells(v, 0, 2))
                                .unwrap_or(0);
                            let _ = info.release_addresses.push(release);
                        }
                    }
                } else if parent_name == b"reserved-memory" && depth == 2 {
                    if let Some(range) = reg_entry(&stack, &node, 0) {
                        let _ = info.reserved.push(range);
                    }
                } else if depth == 1 && node.name == b"psci" {
                    info.psci = match node.method {
                        b"smc" => Some(PsciConduit::Smc),
                        b"hvc" => Some(PsciConduit::Hvc),
                        _ => None,
                    };
                } else if node.kind == DeviceKind::GicV3 {
                    if let (Some(distributor), Some(redistributors)) =
                        (reg_entry(&stack, &node, 0), reg_entry(&stack, &node, 1))
                    {
                        info.gic = Some(Gic::V3 {
                            distributor,
                            redistributors,
                        });
                    }
                } else if node.kind == DeviceKind::GicV2 {
                    if let (Some(distributor), Some(cpu)) =
                        (reg_entry(&stack, &node, 0), reg_entry(&stack, &node, 1))
                    {
                        info.gic = Some(Gic::V2 {
                            distributor,
                            cpu,
                            hyp: reg_entry(&stack, &node, 2),
                            vcpu: reg_entry(&stack, &node, 3),
                        });
                    }
                } else if node.kind == DeviceKind::PmWatchdog {
                    info.pm_watchdog = reg_entry(&stack, &node, 0);
                } else if node.kind == DeviceKind::SmmuV3 {
                    if info.smmu.is_none() && fdt_scan::status_okay(node.status) {
                        info.smmu = reg_entry(&stack, &node, 0);
                    }
                } else if node.kind == DeviceKind::Rng200 {
                    if info.rng200.is_none() && fdt_scan::status_okay(node.status) {
                        info.rng200 = reg_entry(&stack, &node, 0);
                    }
                } else if matches!(node.kind, DeviceKind::Pl011 | DeviceKind::MiniUart) {
                    if let Some(range) = reg_entry(&stack, &node, 0) {
                        // Its path, built only here: most nodes are not UARTs.
                        let mut node_path: Vec<u8, MAX_PATH> = Vec::new();
                        for name in stack.iter().skip(1).map(|n| n.name).chain([node.name]) {
                            let _ = node_path.push(b'/');
                            let _ = node_path.extend_from_slice(name);
                        }
                        let kind = if node.kind == DeviceKind::Pl011 {
                            UartKind::Pl011
                        } else {
                            UartKind::MiniUart
                        };
                        let _ = uarts.push((node_path, kind, range, gic_spi(node.interrupts)));
                    }
                }
            }
        })
        .map_err(|_| HostDtError::Invalid)?;

        for (address, size) in fdt_scan::reservations(blob) {
            let _ = info.reserved.push(Range {
                start: address,
                size,
            });
        }
        // stdout-path is a path or an alias, optionally followed by ":options".
        let stdout = stdout_path.split(|&b| b == b':').next().unwrap_or(b"");
        let stdout = serial_aliases
            .iter()
            .find(|(alias, _)| *alias == stdout)
            .map_or(stdout, |(_, p)| *p);
        // The console is the stdout-path UART if we can drive it, else the first PL011.
        let console = uarts
            .iter()
            .find(|(node_path, _, _, _)| node_path.as_slice() == stdout)
            .or_else(|| {
                uarts
                    .iter()
                    .find(|(_, kind, _, _)| *kind == UartKind::Pl011)
            });
        info.uart = console.map(|(_, kind, range, _)| (*kind, *range));
        info.uart_interrupt = console.and_then(|(_, _, _, intid)| *intid);
        // As far as the walk read: a header may claim more than the blob holds.
        info.size = (fdt_scan::cells(blob, 1, 1).unwrap_or(0) as usize).min(blob.len());
        Ok(())
    }

    /// Moves the CPU with MPIDR `mpidr` (bits [31:24] ignored) to logical index 0.
    pub fn put_first(&mut self, mpidr: u64) {
        let affinity = (mpidr & 0x00ff_ffff) | ((mpidr >> 32) & 0xff) << 32;
        if let Some(index) = self.cpus.iter().position(|&m| m == affinity) {
            self.cpus.swap(0, index);
            if index < self.release_addresses.len() {
                self.release_addresses.swap(0, index);
            }
        }
    }

    /// Total RAM in bytes (`u64::MAX` if the device tree claims more).
    pub fn ram_bytes(&self) -> u64 {
        self.ram
            .iter()
            .fold(0u64, |total, r| total.saturating_add(r.size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VIRT_GICV3: &[u8] = include_bytes!("../tests/fixtures/qemu-virt-gicv3.dtb");
    const VIRT_GICV2: &[u8] = include_bytes!("../tests/fixtures/qemu-virt-gicv2.dtb");

    #[test]
    fn ram_total_saturates() {
        // `sum()` escapes the overflow lint: two huge memory nodes overflowed it (a panic in a
        // debug build, a wrong RAM size in the boot line in release).
        let mut info = HostInfo::parse(VIRT_GICV3).unwrap();
        info.ram
            .push(Range {
                start: 0x1_0000_0000,
                size: u64::MAX,
            })
            .unwrap();
        assert_eq!(info.ram_bytes(), u64::MAX);
    }

    #[test]
    fn size_is_never_past_the_blob() {
        // Found by the host_dt fuzz target: a header whose totalsize exceeds the blob was
        // reported as the tree's size, although the walk stopped at the blob's end.
        let mut blob = VIRT_GICV3.to_vec();
        blob[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(HostInfo::parse(&blob).unwrap().size, VIRT_GICV3.len());
        assert_eq!(HostInfo::parse(VIRT_GICV3).unwrap().size, VIRT_GICV3.len());
    }

    #[test]
    fn qemu_virt_gicv3_facts_are_read_from_the_tree() {
        let info = HostInfo::parse(VIRT_GICV3).unwrap();
        assert_eq!(
            info.ram.as_slice(),
            &[Range {
                start: 0x4000_0000,
                size: 2 << 30
            }]
        );
        assert_eq!(info.cpus.as_slice(), &[0, 1, 2, 3]);
        assert_eq!(
            info.gic,
            Some(Gic::V3 {
                distributor: Range {
                    start: 0x0800_0000,
                    size: 0x1_0000
                },
                redistributors: Range {
                    start: 0x080a_0000,
                    size: 0xf6_0000
                },
            })
        );
        assert_eq!(
            info.uart,
            Some((
                UartKind::Pl011,
                Range {
                    start: 0x0900_0000,
                    size: 0x1000
                }
            ))
        );
        assert_eq!(info.uart_interrupt, Some(33), "the PL011's SPI 1");
        assert_eq!(info.psci, Some(PsciConduit::Smc));
        assert_eq!(info.rng_seed.map(<[u8]>::len), Some(32));
        assert_eq!(info.rng200, None);
    }

    #[test]
    fn qemu_virt_gicv2_has_the_virtualization_frames() {
        let info = HostInfo::parse(VIRT_GICV2).unwrap();
        match info.gic {
            Some(Gic::V2 {
                distributor,
                cpu,
                hyp: Some(hyp),
                vcpu: Some(vcpu),
            }) => {
                assert_eq!(distributor.start, 0x0800_0000);
                assert_eq!(cpu.start, 0x0801_0000);
                assert_eq!(hyp.start, 0x0803_0000);
                assert_eq!(vcpu.start, 0x0804_0000);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    const RPI4: &[u8] = include_bytes!("../tests/fixtures/bcm2711-rpi-4-b.dtb");

    #[test]
    fn raspberry_pi_4_addresses_are_translated_through_the_soc_ranges() {
        let info = HostInfo::parse(RPI4).unwrap();
        assert_eq!(info.cpus.as_slice(), &[0, 1, 2, 3]);
        assert_eq!(info.release_addresses.as_slice(), &[0xd8, 0xe0, 0xe8, 0xf0]);
        assert_eq!(info.psci, None, "the stock firmware has no PSCI");
        // stdout-path = "serial1": the mini UART on GPIO14/15.
        assert_eq!(
            info.uart,
            Some((
                UartKind::MiniUart,
                Range {
                    start: 0xfe21_5040,
                    size: 0x40
                }
            ))
        );
        assert_eq!(info.uart_interrupt, Some(125), "the AUX interrupt, SPI 93");
        match info.gic {
            Some(Gic::V2 {
                distributor,
                cpu,
                hyp: Some(hyp),
                vcpu: Some(vcpu),
            }) => {
                assert_eq!(distributor.start, 0xff84_1000);
                assert_eq!(cpu.start, 0xff84_2000);
                assert_eq!(hyp.start, 0xff84_4000);
                assert_eq!(vcpu.start, 0xff84_6000);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(
            info.reserved.contains(&Range {
                start: 0,
                size: 0x1000
            }),
            "the spin table page"
        );
        assert_eq!(
            info.pm_watchdog,
            Some(Range {
                start: 0xfe10_0000,
                size: 0x114
            })
        );
        // rng@7e104000, no status: the hypervisor's hardware RNG.
        assert_eq!(
            info.rng200,
            Some(Range {
                start: 0xfe10_4000,
                size: 0x28
            })
        );
        assert_eq!(
            info.rng_seed, None,
            "only the firmware adds /chosen/rng-seed"
        );
    }

    #[test]
    fn the_first_okay_rng200_of_either_compatible_is_taken() {
        const TREE: &[u8] = include_bytes!("../tests/fixtures/rng200-status.dtb");
        let info = HostInfo::parse(TREE).unwrap();
        assert_eq!(
            info.rng200,
            Some(Range {
                start: 0xfe00_4000,
                size: 0x28
            }),
            "the disabled one is skipped, the later one ignored"
        );
    }

    #[test]
    fn the_boot_cpu_becomes_logical_cpu_0() {
        let mut info = HostInfo::parse(RPI4).unwrap();
        info.put_first(0x8000_0002);
        assert_eq!(info.cpus.as_slice(), &[2, 1, 0, 3]);
        assert_eq!(info.release_addresses.as_slice(), &[0xe8, 0xe0, 0xd8, 0xf0]);
    }

    #[test]
    fn garbage_is_rejected() {
        assert_eq!(
            HostInfo::parse(&[0u8; 64]).err(),
            Some(HostDtError::Invalid)
        );
    }

    #[test]
    fn qemu_virts_smmuv3_is_the_hypervisors() {
        // `-M virt,iommu=smmuv3`: smmuv3@9050000, compatible "arm,smmu-v3", two 64 KiB pages.
        const TREE: &[u8] = include_bytes!("../tests/fixtures/qemu-virt-smmuv3.dtb");
        let info = HostInfo::parse(TREE).unwrap();
        assert_eq!(info.smmu, Some(Range::new(0x0905_0000, 0x2_0000)));
        let without: &[u8] = include_bytes!("../tests/fixtures/qemu-virt-gicv3.dtb");
        assert_eq!(HostInfo::parse(without).unwrap().smmu, None);
    }
}
