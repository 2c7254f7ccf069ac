//! What the RTOS learns from its device tree (x0 at entry): the console UART, the GIC and its
//! frames, the virtual timer's interrupt, the Raspberry Pi 4's GPIO block and its interrupt, an SBSA generic
//! watchdog, the CPUs and the boot arguments. Bulkhead gives a partition its own device tree; bare on QEMU it is QEMU's.
#![forbid(unsafe_code)]

use fdt::node::FdtNode;
use fdt::Fdt;

/// The GIC and where its frames are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GicFrames {
    /// GICv2: distributor and CPU interface.
    V2 {
        /// GICD.
        distributor: u64,
        /// GICC (under Bulkhead: the hardware virtual CPU interface, GICV).
        cpu_interface: u64,
    },
    /// GICv3: distributor and the redistributor region (one 128 KiB frame pair per CPU).
    V3 {
        /// GICD.
        distributor: u64,
        /// The first redistributor frame.
        redistributors: u64,
    },
}

/// The virtual timer's PPI when the device tree does not say (PPI 11, INTID 27).
pub const DEFAULT_VTIMER_INTID: u32 = 27;
/// The first SPI's INTID.
const SPI_BASE: u32 = 32;
/// The first PPI's INTID.
const PPI_BASE: u32 = 16;
/// In the `arm,armv8-timer` binding, the virtual timer is the third interrupt.
const VTIMER_INDEX: usize = 2;

/// The facts the RTOS needs from its device tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform<'a> {
    /// `/chosen/bootargs`.
    pub bootargs: &'a str,
    /// The console PL011 (`/chosen/stdout-path`, else the first `arm,pl011`).
    pub console: Option<u64>,
    /// The console PL011's interrupt (an SPI's INTID), if its node has one.
    pub console_intid: Option<u32>,
    /// The interrupt controller.
    pub gic: Option<GicFrames>,
    /// The virtual timer's INTID.
    pub vtimer_intid: u32,
    /// The BCM2711 GPIO block (`brcm,bcm2711-gpio`), on a Raspberry Pi 4.
    pub gpio: Option<u64>,
    /// The GPIO block's first interrupt, bank 0's (GPIO0..27), if its node names one (an SPI's
    /// INTID: 145 on the Pi 4).
    pub gpio_intid: Option<u32>,
    /// The number of CPUs described.
    pub cpus: usize,
    /// Their MPIDR affinity values (`reg`), in device-tree order (the first eight).
    pub cpu_ids: heapless::Vec<u64, 8>,
    /// Whether PSCI (and so SMCCC) is reached with `hvc` (rather than `smc` or not at all).
    pub psci_hvc: bool,
    /// The SBSA generic watchdog (`arm,sbsa-gwdt`): its control and refresh frames.
    pub watchdog: Option<WatchdogFrames>,
}

/// Where an SBSA generic watchdog's two frames are (`reg` 0 and 1 of `arm,sbsa-gwdt`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WatchdogFrames {
    /// The control frame (WCS, WOR, WCV).
    pub control: u64,
    /// The refresh frame (WRR).
    pub refresh: u64,
}

impl<'a> Platform<'a> {
    /// Reads the device tree in `blob`; `None` if it is not one.
    pub fn parse(blob: &'a [u8]) -> Option<Self> {
        let fdt = Fdt::new(blob).ok()?;
        // The `fdt` crate panics on a missing /chosen or /cpus: look first.
        let chosen = fdt.find_node("/chosen").map(|_| fdt.chosen());
        let bootargs = chosen
            .and_then(|c| c.bootargs())
            .and_then(|s| reborrow(blob, s))
            .unwrap_or("");
        let console_node = chosen
            .and_then(|c| c.stdout())
            .or_else(|| find(&fdt, &["arm,pl011"]));
        let console = console_node.and_then(|node| first_reg(&fdt, node));
        let console_intid = console_node.and_then(spi_intid);
        let mut cpu_ids = heapless::Vec::new();
        for cpu in fdt
            .find_node("/cpus")
            .into_iter()
            .flat_map(|c| c.children())
        {
            let is_cpu = cpu.property("device_type").and_then(|p| p.as_str()) == Some("cpu");
            let id = cpu.property("reg").map(|p| {
                p.value.chunks_exact(4).fold(0u64, |acc, c| {
                    acc << 32 | u64::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                })
            });
            if let (true, Some(id)) = (is_cpu, id) {
                let _ = cpu_ids.push(id);
            }
        }
        Some(Platform {
            bootargs,
            console,
            console_intid,
            gic: gic(&fdt),
            vtimer_intid: vtimer_intid(&fdt).unwrap_or(DEFAULT_VTIMER_INTID),
            gpio: base_of(&fdt, &["brcm,bcm2711-gpio"]),
            gpio_intid: find(&fdt, &["brcm,bcm2711-gpio"]).and_then(spi_intid),
            cpus: cpu_ids.len(),
            cpu_ids,
            psci_hvc: fdt
                .find_compatible(&["arm,psci-1.0", "arm,psci-0.2", "arm,psci"])
                .and_then(|n| n.property("method"))
                .and_then(|p| p.as_str())
                == Some("hvc"),
            watchdog: watchdog(&fdt),
        })
    }

    /// The value of `key=value` in the boot arguments.
    pub fn arg(&self, key: &str) -> Option<&'a str> {
        self.bootargs.split_ascii_whitespace().find_map(|word| {
            let (k, v) = word.split_once('=')?;
            (k == key).then_some(v)
        })
    }
}

/// Finds `s` (a slice of `blob`) again with `blob`'s lifetime.
fn reborrow<'a>(blob: &'a [u8], s: &str) -> Option<&'a str> {
    let start = (s.as_ptr() as usize).checked_sub(blob.as_ptr() as usize)?;
    core::str::from_utf8(blob.get(start..start.checked_add(s.len())?)?).ok()
}

fn gic(fdt: &Fdt<'_>) -> Option<GicFrames> {
    if let Some(node) = find(fdt, &["arm,gic-v3"]) {
        let mut regs = regs(fdt, node);
        return Some(GicFrames::V3 {
            distributor: regs.next()?,
            redistributors: regs.next()?,
        });
    }
    let node = find(
        fdt,
        &["arm,gic-400", "arm,cortex-a15-gic", "arm,cortex-a7-gic"],
    )?;
    let mut regs = regs(fdt, node);
    Some(GicFrames::V2 {
        distributor: regs.next()?,
        cpu_interface: regs.next()?,
    })
}

fn watchdog(fdt: &Fdt<'_>) -> Option<WatchdogFrames> {
    let node = find(fdt, &["arm,sbsa-gwdt"])?;
    let mut regs = regs(fdt, node);
    Some(WatchdogFrames {
        control: regs.next()?,
        refresh: regs.next()?,
    })
}

fn vtimer_intid(fdt: &Fdt<'_>) -> Option<u32> {
    let node = fdt.find_compatible(&["arm,armv8-timer", "arm,armv7-timer"])?;
    let cells: heapless::Vec<u32, 16> = node
        .property("interrupts")?
        .value
        .chunks_exact(4)
        .filter_map(|c| Some(u32::from_be_bytes(c.try_into().ok()?)))
        .collect();
    // GIC specifier: <type number flags>, type 1 = PPI.
    let entry = cells.chunks_exact(3).nth(VTIMER_INDEX)?;
    (entry.first() == Some(&1)).then_some(PPI_BASE + *entry.get(1)?)
}

/// The INTID of `node`'s first interrupt if it is an SPI (GIC specifier <0 number flags>).
fn spi_intid(node: FdtNode<'_, '_>) -> Option<u32> {
    let value = node.property("interrupts")?.value;
    let cell = |i: usize| {
        let bytes = value.get(i * 4..i * 4 + 4)?;
        Some(u32::from_be_bytes(bytes.try_into().ok()?))
    };
    (cell(0)? == 0).then_some(SPI_BASE + cell(1)?)
}

/// A node with one of `compatible`, looked for under `/soc` first (where a Raspberry Pi puts
/// its devices), then anywhere.
fn find<'b, 'a>(fdt: &'b Fdt<'a>, compatible: &[&str]) -> Option<FdtNode<'b, 'a>> {
    let matches = |node: &FdtNode<'_, '_>| {
        node.compatible()
            .is_some_and(|c| c.all().any(|name| compatible.contains(&name)))
    };
    fdt.find_node("/soc")
        .and_then(|soc| soc.children().find(matches))
        .or_else(|| fdt.find_compatible(compatible))
}

fn base_of(fdt: &Fdt<'_>, compatible: &[&str]) -> Option<u64> {
    first_reg(fdt, find(fdt, compatible)?)
}

fn first_reg(fdt: &Fdt<'_>, node: FdtNode<'_, '_>) -> Option<u64> {
    regs(fdt, node).next()
}

/// The CPU addresses of `node`'s `reg` entries (translated through `/soc/ranges` for a child
/// of `/soc`).
fn regs<'b, 'a: 'b>(fdt: &'b Fdt<'a>, node: FdtNode<'b, 'a>) -> impl Iterator<Item = u64> + 'b {
    let in_soc = fdt
        .find_node("/soc")
        .is_some_and(|soc| soc.children().any(|c| c.name == node.name));
    let soc = if in_soc { fdt.find_node("/soc") } else { None };
    node.reg().into_iter().flatten().filter_map(move |region| {
        let address = region.starting_address as u64;
        match soc {
            Some(soc) => translate(fdt, soc, address),
            None => Some(address),
        }
    })
}

/// Translates `address` on the bus of `bus` (e.g. `/soc`) through its `ranges`.
fn translate(fdt: &Fdt<'_>, bus: FdtNode<'_, '_>, address: u64) -> Option<u64> {
    let Some(ranges) = bus.property("ranges") else {
        return Some(address);
    };
    if ranges.value.is_empty() {
        return Some(address);
    }
    let child = bus.cell_sizes();
    let parent = fdt.root().cell_sizes().address_cells;
    let entry_cells = child.address_cells + parent + child.size_cells;
    let cells: heapless::Vec<u32, 64> = ranges
        .value
        .chunks_exact(4)
        .filter_map(|c| Some(u32::from_be_bytes(c.try_into().ok()?)))
        .collect();
    cells.chunks_exact(entry_cells.max(1)).find_map(|entry| {
        let (child_base, rest) = entry.split_at(child.address_cells);
        let (parent_base, size) = rest.split_at(parent);
        let (child_base, parent_base, size) =
            (number(child_base), number(parent_base), number(size));
        let offset = address.checked_sub(child_base)?;
        (offset < size).then(|| parent_base + offset)
    })
}

fn number(cells: &[u32]) -> u64 {
    cells.iter().fold(0, |acc, &c| acc << 32 | u64::from(c))
}

#[cfg(test)]
mod tests;
