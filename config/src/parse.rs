//! Parsing a configuration DTB into a [`Config`].
//!
//! Parsing checks syntax: node and property names, cell counts, required
//! items and capacities. The first problem found is returned. Whether the
//! configuration fits a board is [`crate::validate()`]'s job.

use crate::cells;
use crate::error::{ConfigError, ErrorKind};
use crate::limits::{
    MAX_CPUS, MAX_DEVICES, MAX_FILE_NAME, MAX_IRQS_PER_DEVICE, MAX_NAME, MAX_PARTITIONS,
    MAX_REGIONS,
};
use crate::model::{Config, Device, ImageRef, MemoryRegion, OnStop, PartitionConfig};
use crate::range::Range;
use crate::structure;
use crate::text::bounded;
use fdt::node::FdtNode;
use fdt::Fdt;
use heapless::Vec;

/// The `compatible` string a configuration's root node must carry.
pub const COMPATIBLE: &str = "bulkhead,config";

/// Properties accepted (and ignored) on every node.
const IGNORED: [&str; 5] = [
    "#address-cells",
    "#size-cells",
    "phandle",
    "linux,phandle",
    "name",
];

const ROOT_PROPS: &str = "compatible, board, model";
const ROOT_NODES: &str = "partitions";
const PARTITIONS_PROPS: &str = "#address-cells, #size-cells";
const PARTITION_PROPS: &str = "cpus, on-stop";
const PARTITION_NODES: &str =
    "memory@<ipa>, device@<pa>, kernel, dtb, initrd, console (the last four without @unit)";
const MEMORY_PROPS: &str = "reg, phys";
const KERNEL_PROPS: &str = "file, load, entry";
const IMAGE_PROPS: &str = "file, load";
const CONSOLE_PROPS: &str = "reg";
const DEVICE_PROPS: &str = "reg, interrupts, ipa";
const LEAF_NODES: &str = "none (this node has no children)";

const WHY_RANGE: &str = "must be 4 cells: <addr-hi addr-lo size-hi size-lo>";
const WHY_ADDR: &str = "must be 2 cells: <hi lo>";
const WHY_STRING: &str = "must be a single non-empty string";
const WHY_ZERO: &str = "size must not be zero";
const WHY_WRAP: &str = "range wraps past the end of the 64-bit address space";

/// Where in the tree the parser is, for building errors.
#[derive(Clone, Copy)]
struct At<'p> {
    partition: Option<usize>,
    path: &'p [&'p str],
}

impl At<'_> {
    fn err(&self, kind: ErrorKind) -> ConfigError {
        ConfigError::at(self.partition, self.path, kind)
    }

    fn bad(&self, name: &'static str, why: &'static str) -> ConfigError {
        self.err(ErrorKind::BadProperty { name, why })
    }

    fn child<'q>(&self, path: &'q [&'q str]) -> At<'q> {
        At {
            partition: self.partition,
            path,
        }
    }
}

impl<'a> Config<'a> {
    /// Parses a configuration DTB (compiled from a `.dts` by `dtc`).
    ///
    /// The blob is checked for well-formedness before anything else reads it,
    /// so a malformed blob yields [`ErrorKind::NotADeviceTree`] rather than a
    /// panic. The returned configuration borrows its strings from `dtb`.
    pub fn parse(dtb: &'a [u8]) -> Result<Config<'a>, ConfigError> {
        let root_at = At {
            partition: None,
            path: &[],
        };
        structure::check(dtb).map_err(|kind| root_at.err(kind))?;
        let fdt = Fdt::new(dtb).map_err(|_| {
            root_at.err(ErrorKind::NotADeviceTree {
                why: "rejected by the FDT parser",
                offset: 0,
            })
        })?;
        let root = fdt.find_node("/").ok_or_else(|| {
            root_at.err(ErrorKind::NotADeviceTree {
                why: "no root node",
                offset: 0,
            })
        })?;
        parse_root(root, root_at)
    }
}

fn parse_root<'a>(root: FdtNode<'_, 'a>, at: At<'_>) -> Result<Config<'a>, ConfigError> {
    let mut board = None;
    let mut compatible = false;
    for prop in root.properties() {
        match prop.name {
            "compatible" => {
                compatible = cells::string_list(prop.value)
                    .map(|mut l| l.any(|s| s == COMPATIBLE))
                    .unwrap_or(false);
                if !compatible {
                    return Err(at.bad("compatible", "must be \"bulkhead,config\""));
                }
            }
            "board" => {
                board = Some(cells::string(prop.value).ok_or_else(|| at.bad("board", WHY_STRING))?);
            }
            "model" => {
                cells::string(prop.value).ok_or_else(|| at.bad("model", WHY_STRING))?;
            }
            name => check_ignored(name, prop.value, at, ROOT_PROPS)?,
        }
    }
    if !compatible {
        return Err(at.err(ErrorKind::MissingProperty { name: "compatible" }));
    }
    let board = board.ok_or_else(|| at.err(ErrorKind::MissingProperty { name: "board" }))?;

    let mut partitions_node = None;
    for child in root.children() {
        let path = [child.name];
        let child_at = at.child(&path);
        if child.name != "partitions" {
            return Err(child_at.err(ErrorKind::UnknownNode {
                allowed: ROOT_NODES,
            }));
        }
        if partitions_node.replace(child).is_some() {
            return Err(child_at.err(ErrorKind::DuplicateName));
        }
    }
    let partitions_at = at.child(&["partitions"]);
    let node = partitions_node.ok_or_else(|| partitions_at.err(ErrorKind::MissingNode))?;
    Ok(Config {
        board,
        partitions: parse_partitions(node, partitions_at)?,
    })
}

fn parse_partitions<'a>(
    node: FdtNode<'_, 'a>,
    at: At<'_>,
) -> Result<Vec<PartitionConfig<'a>, MAX_PARTITIONS>, ConfigError> {
    for prop in node.properties() {
        check_ignored(prop.name, prop.value, at, PARTITIONS_PROPS)?;
    }
    let mut partitions: Vec<PartitionConfig<'a>, MAX_PARTITIONS> = Vec::new();
    for (index, child) in node.children().enumerate() {
        let path = ["partitions", child.name];
        let child_at = At {
            partition: Some(index),
            path: &path,
        };
        check_name(child.name, child_at)?;
        if partitions.iter().any(|p| p.name == child.name) {
            return Err(child_at.err(ErrorKind::DuplicateName));
        }
        let partition = parse_partition(child, child_at)?;
        partitions.push(partition).map_err(|_| {
            child_at.err(ErrorKind::TooMany {
                what: "partitions",
                max: MAX_PARTITIONS,
            })
        })?;
    }
    if partitions.is_empty() {
        return Err(at.err(ErrorKind::NoPartitions));
    }
    Ok(partitions)
}

fn check_name(name: &str, at: At<'_>) -> Result<(), ConfigError> {
    let why = if name.is_empty() {
        "must not be empty"
    } else if name.len() > MAX_NAME {
        "longer than 31 bytes"
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        "only a-z, 0-9, '-' and '_' are allowed"
    } else {
        return Ok(());
    };
    Err(at.err(ErrorKind::BadName { why }))
}

/// Accepts the properties every node may carry; anything else is unknown.
fn check_ignored(
    name: &str,
    value: &[u8],
    at: At<'_>,
    allowed: &'static str,
) -> Result<(), ConfigError> {
    match name {
        "#address-cells" | "#size-cells" => {
            if cells::u32_cell(value) != Some(2) {
                let name = if name == "#address-cells" {
                    "#address-cells"
                } else {
                    "#size-cells"
                };
                return Err(at.bad(
                    name,
                    "must be <2>: addresses and sizes are written as two cells",
                ));
            }
            Ok(())
        }
        _ if IGNORED.contains(&name) => Ok(()),
        _ => Err(at.err(ErrorKind::UnknownProperty {
            name: bounded(name),
            allowed,
        })),
    }
}

/// The kinds of node a partition may contain.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Memory,
    Kernel,
    Dtb,
    Initrd,
    Console,
    Device,
}

/// The kind of a partition's child node. `memory` and `device` nodes may carry
/// a unit address (`memory@40000000`); the others are singletons with fixed
/// names, so error paths can name them exactly.
fn kind_of(name: &str) -> Option<Kind> {
    let base = name.split('@').next().unwrap_or(name);
    Some(match (base, base.len() == name.len()) {
        ("memory", _) => Kind::Memory,
        ("device", _) => Kind::Device,
        ("kernel", true) => Kind::Kernel,
        ("dtb", true) => Kind::Dtb,
        ("initrd", true) => Kind::Initrd,
        ("console", true) => Kind::Console,
        _ => return None,
    })
}

/// Most child nodes a partition may have (more than the per-kind limits
/// allow in total, so those limits report first).
const MAX_PARTITION_CHILDREN: usize = 64;

fn parse_partition<'a>(
    node: FdtNode<'_, 'a>,
    at: At<'_>,
) -> Result<PartitionConfig<'a>, ConfigError> {
    let mut cpus = None;
    let mut on_stop = OnStop::Off;
    for prop in node.properties() {
        match prop.name {
            "cpus" => cpus = Some(parse_cpus(prop.value, at)?),
            "on-stop" => {
                on_stop = match cells::string(prop.value) {
                    Some("off") => OnStop::Off,
                    Some("restart") => OnStop::Restart,
                    _ => return Err(at.bad("on-stop", "must be \"off\" or \"restart\"")),
                }
            }
            name => check_ignored(name, prop.value, at, PARTITION_PROPS)?,
        }
    }

    let mut memory: Vec<MemoryRegion<'a>, MAX_REGIONS> = Vec::new();
    let mut devices: Vec<Device<'a>, MAX_DEVICES> = Vec::new();
    let mut kernel = None;
    let mut dtb = None;
    let mut initrd = None;
    let mut console = None;
    let mut seen: Vec<&str, MAX_PARTITION_CHILDREN> = Vec::new();

    for child in node.children() {
        let path = ["partitions", node.name, child.name];
        let child_at = at.child(&path);
        let kind = kind_of(child.name).ok_or_else(|| {
            child_at.err(ErrorKind::UnknownNode {
                allowed: PARTITION_NODES,
            })
        })?;
        // Singleton kinds have fixed names, so this also catches a second
        // `kernel`, `dtb`, `initrd` or `console`.
        if seen.contains(&child.name) {
            return Err(child_at.err(ErrorKind::DuplicateName));
        }
        seen.push(child.name).map_err(|_| {
            child_at.err(ErrorKind::TooMany {
                what: "nodes in a partition",
                max: MAX_PARTITION_CHILDREN,
            })
        })?;
        if let Some(grandchild) = child.children().next() {
            let deeper = ["partitions", node.name, child.name, grandchild.name];
            return Err(at.child(&deeper).err(ErrorKind::UnknownNode {
                allowed: LEAF_NODES,
            }));
        }
        match kind {
            Kind::Memory => {
                let region = parse_memory(child, child_at)?;
                memory.push(region).map_err(|_| {
                    child_at.err(ErrorKind::TooMany {
                        what: "memory regions in a partition",
                        max: MAX_REGIONS,
                    })
                })?;
            }
            Kind::Device => {
                let device = parse_device(child, child_at)?;
                devices.push(device).map_err(|_| {
                    child_at.err(ErrorKind::TooMany {
                        what: "devices in a partition",
                        max: MAX_DEVICES,
                    })
                })?;
            }
            Kind::Kernel => kernel = Some(parse_image(child, child_at, true)?),
            Kind::Dtb => dtb = Some(parse_image(child, child_at, false)?.0),
            Kind::Initrd => initrd = Some(parse_image(child, child_at, false)?.0),
            Kind::Console => console = Some(parse_console(child, child_at)?),
        }
    }

    let cpus = cpus.ok_or_else(|| at.err(ErrorKind::MissingProperty { name: "cpus" }))?;
    let (kernel, entry) = kernel.ok_or_else(|| {
        at.child(&["partitions", node.name, "kernel"])
            .err(ErrorKind::MissingNode)
    })?;
    if memory.is_empty() {
        return Err(at.err(ErrorKind::NoMemory));
    }
    Ok(PartitionConfig {
        name: node.name,
        cpus,
        on_stop,
        memory,
        entry: entry.unwrap_or(kernel.load),
        kernel,
        dtb,
        initrd,
        console,
        devices,
    })
}

fn parse_cpus(value: &[u8], at: At<'_>) -> Result<Vec<u64, MAX_CPUS>, ConfigError> {
    let list = cells::u32_list(value)
        .filter(|_| !value.is_empty())
        .ok_or_else(|| {
            at.bad(
                "cpus",
                "must be a non-empty list of cells, one MPIDR affinity value per CPU",
            )
        })?;
    let mut cpus = Vec::new();
    for mpidr in list {
        cpus.push(u64::from(mpidr)).map_err(|_| {
            at.err(ErrorKind::TooMany {
                what: "CPUs in a partition",
                max: MAX_CPUS,
            })
        })?;
    }
    Ok(cpus)
}

/// Decodes a `reg` property: four cells, non-zero size, no wrap-around.
fn parse_reg(value: &[u8], at: At<'_>) -> Result<Range, ConfigError> {
    let range = cells::range_cells(value).ok_or_else(|| at.bad("reg", WHY_RANGE))?;
    if range.size == 0 {
        return Err(at.bad("reg", WHY_ZERO));
    }
    if range.checked_end().is_none() {
        return Err(at.bad("reg", WHY_WRAP));
    }
    Ok(range)
}

/// Decodes a two-cell address property that starts a range of `size` bytes.
fn parse_start(
    value: &[u8],
    size: u64,
    name: &'static str,
    at: At<'_>,
) -> Result<u64, ConfigError> {
    let start = cells::u64_cells(value).ok_or_else(|| at.bad(name, WHY_ADDR))?;
    if Range::new(start, size).checked_end().is_none() {
        return Err(at.bad(name, WHY_WRAP));
    }
    Ok(start)
}

fn parse_memory<'a>(node: FdtNode<'_, 'a>, at: At<'_>) -> Result<MemoryRegion<'a>, ConfigError> {
    let mut reg = None;
    let mut phys = None;
    for prop in node.properties() {
        match prop.name {
            "reg" => reg = Some(parse_reg(prop.value, at)?),
            "phys" => phys = Some(prop.value),
            name => check_ignored(name, prop.value, at, MEMORY_PROPS)?,
        }
    }
    let ipa = reg.ok_or_else(|| at.err(ErrorKind::MissingProperty { name: "reg" }))?;
    let phys = match phys {
        Some(value) => Some(parse_start(value, ipa.size, "phys", at)?),
        None => None,
    };
    Ok(MemoryRegion {
        node: node.name,
        ipa,
        phys,
    })
}

/// Parses `kernel` (with an optional `entry`), `dtb` or `initrd`.
fn parse_image<'a>(
    node: FdtNode<'_, 'a>,
    at: At<'_>,
    is_kernel: bool,
) -> Result<(ImageRef<'a>, Option<u64>), ConfigError> {
    let allowed = if is_kernel { KERNEL_PROPS } else { IMAGE_PROPS };
    let mut file = None;
    let mut load = None;
    let mut entry = None;
    for prop in node.properties() {
        match prop.name {
            "file" => file = Some(parse_file(prop.value, at)?),
            "load" => {
                load = Some(cells::u64_cells(prop.value).ok_or_else(|| at.bad("load", WHY_ADDR))?)
            }
            "entry" if is_kernel => {
                entry = Some(cells::u64_cells(prop.value).ok_or_else(|| at.bad("entry", WHY_ADDR))?)
            }
            name => check_ignored(name, prop.value, at, allowed)?,
        }
    }
    let file = file.ok_or_else(|| at.err(ErrorKind::MissingProperty { name: "file" }))?;
    let load = load.ok_or_else(|| at.err(ErrorKind::MissingProperty { name: "load" }))?;
    Ok((ImageRef { file, load }, entry))
}

fn parse_file<'a>(value: &'a [u8], at: At<'_>) -> Result<&'a str, ConfigError> {
    let file = cells::string(value).ok_or_else(|| at.bad("file", WHY_STRING))?;
    if file.len() > MAX_FILE_NAME {
        return Err(at.bad(
            "file",
            "longer than 48 bytes, the longest bundle entry name",
        ));
    }
    if file == crate::bundle::CONFIG_ENTRY {
        return Err(at.bad(
            "file",
            "\"config.dtb\" is reserved for the configuration itself",
        ));
    }
    Ok(file)
}

fn parse_console(node: FdtNode<'_, '_>, at: At<'_>) -> Result<Range, ConfigError> {
    let mut reg = None;
    for prop in node.properties() {
        match prop.name {
            "reg" => reg = Some(parse_reg(prop.value, at)?),
            name => check_ignored(name, prop.value, at, CONSOLE_PROPS)?,
        }
    }
    reg.ok_or_else(|| at.err(ErrorKind::MissingProperty { name: "reg" }))
}

fn parse_device<'a>(node: FdtNode<'_, 'a>, at: At<'_>) -> Result<Device<'a>, ConfigError> {
    let mut reg = None;
    let mut ipa = None;
    let mut interrupts = Vec::new();
    for prop in node.properties() {
        match prop.name {
            "reg" => reg = Some(parse_reg(prop.value, at)?),
            "ipa" => ipa = Some(prop.value),
            "interrupts" => {
                let list = cells::u32_list(prop.value).ok_or_else(|| {
                    at.bad("interrupts", "must be a list of cells, one GIC INTID each")
                })?;
                for intid in list {
                    interrupts.push(intid).map_err(|_| {
                        at.err(ErrorKind::TooMany {
                            what: "interrupts on a device",
                            max: MAX_IRQS_PER_DEVICE,
                        })
                    })?;
                }
            }
            name => check_ignored(name, prop.value, at, DEVICE_PROPS)?,
        }
    }
    let phys = reg.ok_or_else(|| at.err(ErrorKind::MissingProperty { name: "reg" }))?;
    let ipa = match ipa {
        Some(value) => parse_start(value, phys.size, "ipa", at)?,
        None => phys.start,
    };
    Ok(Device {
        node: node.name,
        phys,
        ipa,
        interrupts,
    })
}

#[cfg(test)]
mod tests;
