//! Checking a parsed configuration against a board.

use crate::board::Board;
use crate::error::{ConfigError, ErrorKind};
use crate::limits::MAX_ERRORS;
use crate::model::{Config, ConsoleMode, PartitionConfig};
use crate::range::Range;
use crate::report::Report;
use crate::text::bounded;
use heapless::Vec;

/// Alignment of every memory region, device and console: the 4 KiB stage-2
/// page size.
pub const PAGE_SIZE: u64 = 0x1000;

/// Lowest and highest shared peripheral interrupt INTID.
const SPI_INTIDS: core::ops::RangeInclusive<u32> = 32..=1019;

/// Checks `config` against `board` and returns every error found (empty means
/// valid): each partition in turn, then the channels between them.
///
/// `image_size` returns the size in bytes of an image file named in the
/// configuration, or `None` if it does not exist. Conflicts between two
/// partitions are reported on the later one in configuration order, naming the
/// earlier one. At most [`MAX_ERRORS`] errors are returned; if there were more,
/// the last is [`ErrorKind::MoreErrors`].
pub fn validate(
    config: &Config<'_>,
    board: &Board,
    image_size: &dyn Fn(&str) -> Option<u64>,
) -> Vec<ConfigError, MAX_ERRORS> {
    let mut report = Report::default();
    if config.board != board.name.as_str() {
        report.push(ConfigError::at(
            None,
            &[],
            ErrorKind::BoardMismatch {
                config: bounded(config.board),
                board: bounded(board.name.as_str()),
            },
        ));
    }
    for (index, partition) in config.partitions.iter().enumerate() {
        let earlier = config.partitions.get(..index).unwrap_or_default();
        let check = Check {
            index,
            partition,
            earlier,
            board,
        };
        check.memory(&mut report);
        check.cpus(&mut report);
        check.images(image_size, &mut report);
        check.devices(&mut report);
        check.console(&mut report);
        check.smc_allow(&mut report);
        watchdog::check(config, index, partition, &mut report);
        management::check(index, partition, &mut report);
        vsock::check(config, index, partition, &mut report);
        check.privileged(&mut report);
        dma::check(index, partition, earlier, board, &mut report);
        stream_ids::check(index, partition, &mut report);
    }
    channel::check(config, &mut report);
    shared_memory::check(config, board, &mut report);
    virtio_channel::check(config, &mut report);
    if let Some(focus) = config.console.focus {
        let virtual_console = config
            .partition(focus)
            .is_some_and(|p| p.console_mode == ConsoleMode::Virtual);
        if !virtual_console {
            report.push(ConfigError::at(
                None,
                &[],
                ErrorKind::ConsoleFocus {
                    name: bounded(focus),
                },
            ));
        }
    }
    report.into_errors()
}

/// The checks of one partition, with what they compare against.
struct Check<'c, 'a> {
    index: usize,
    partition: &'c PartitionConfig<'a>,
    /// Partitions before this one in configuration order.
    earlier: &'c [PartitionConfig<'a>],
    board: &'c Board,
}

impl Check<'_, '_> {
    fn error(&self, node: &str, kind: ErrorKind) -> ConfigError {
        let name = self.partition.name;
        let path: &[&str] = if node.is_empty() {
            &["partitions", name]
        } else {
            &["partitions", name, node]
        };
        ConfigError::at(Some(self.index), path, kind)
    }

    fn aligned(&self, node: &str, what: &'static str, addr: u64, report: &mut Report) {
        if !addr.is_multiple_of(PAGE_SIZE) {
            report.push(self.error(
                node,
                ErrorKind::Unaligned {
                    what,
                    addr,
                    align: PAGE_SIZE,
                },
            ));
        }
    }

    fn memory(&self, report: &mut Report) {
        let p = self.partition;
        for (i, region) in p.memory.iter().enumerate() {
            let node = region.node;
            self.aligned(node, "IPA", region.ipa.start, report);
            self.aligned(node, "size", region.ipa.size, report);
            let before = p.memory.get(..i).unwrap_or_default();
            for other in before.iter().filter(|o| o.ipa.overlaps(&region.ipa)) {
                report.push(self.error(
                    node,
                    ErrorKind::RegionsOverlap {
                        other: bounded(other.node),
                        range: other.ipa,
                    },
                ));
            }
            let Some(pa) = region.phys_range() else {
                continue;
            };
            let direct = p.direct_map;
            if !direct {
                // A direct-mapped region's IPA, checked above, is its PA.
                self.aligned(node, "physical address", pa.start, report);
            }
            if !self.board.ram.iter().any(|ram| ram.contains(&pa)) {
                report.push(self.error(
                    node,
                    if direct {
                        ErrorKind::DirectMapNotInRam { range: pa }
                    } else {
                        ErrorKind::NotInRam { range: pa }
                    },
                ));
            }
            for reserved in self.board.reserved.iter().filter(|r| r.range.overlaps(&pa)) {
                let (why, range) = (reserved.why, reserved.range);
                report.push(self.error(
                    node,
                    if direct {
                        ErrorKind::DirectMapOverlapsReserved { why, range }
                    } else {
                        ErrorKind::OverlapsReserved { why, range }
                    },
                ));
            }
            let earlier_fixed = self
                .earlier
                .iter()
                .flat_map(|o| o.memory.iter().map(move |r| (o.name, r)))
                .chain(before.iter().map(|r| (p.name, r)));
            for (owner, other) in earlier_fixed {
                if let Some(other_pa) = other.phys_range().filter(|o| o.overlaps(&pa)) {
                    let (other, range) = (bounded(owner), other_pa);
                    report.push(self.error(
                        node,
                        if direct {
                            ErrorKind::DirectMapOverlap { other, range }
                        } else {
                            ErrorKind::MemoryOverlap { other, range }
                        },
                    ));
                }
            }
        }
    }

    fn cpus(&self, report: &mut Report) {
        let p = self.partition;
        for (i, &mpidr) in p.cpus.iter().enumerate() {
            let kind = if mpidr >> 24 != 0 {
                ErrorKind::InvalidMpidr { mpidr }
            } else if !self.board.cpus.contains(&mpidr) {
                ErrorKind::NoSuchCpu { mpidr }
            } else if let Some(owner) = self
                .earlier
                .iter()
                .find(|o| o.cpus.contains(&mpidr))
                .map(|o| o.name)
                .or_else(|| p.cpus.get(..i)?.contains(&mpidr).then_some(p.name))
            {
                ErrorKind::CpuTwice {
                    mpidr,
                    other: bounded(owner),
                }
            } else {
                continue;
            };
            report.push(self.error("", kind));
        }
    }

    fn images(&self, image_size: &dyn Fn(&str) -> Option<u64>, report: &mut Report) {
        let p = self.partition;
        let images = [
            ("kernel", Some(p.kernel)),
            ("dtb", p.dtb),
            ("initrd", p.initrd),
        ];
        let mut placed: [Option<(&'static str, Range)>; 3] = [None; 3];
        for (slot, (label, image)) in images.into_iter().enumerate() {
            let Some(image) = image else { continue };
            let size = image_size(image.file);
            if size.is_none() {
                report.push(self.error(
                    label,
                    ErrorKind::MissingImage {
                        file: bounded(image.file),
                    },
                ));
            }
            let Some(region) = p.ipa_to_region(image.load) else {
                report.push(self.error(
                    label,
                    ErrorKind::ImageOutsideMemory {
                        file: bounded(image.file),
                        load: image.load,
                    },
                ));
                continue;
            };
            let Some(size) = size else { continue };
            let region_end =
                u128::from(region.ipa.start).saturating_add(u128::from(region.ipa.size));
            // `load` lies in the region, so this never saturates.
            let room = u64::try_from(region_end.saturating_sub(u128::from(image.load)))
                .unwrap_or(u64::MAX);
            if size > room {
                report.push(self.error(
                    label,
                    ErrorKind::ImageTooLarge {
                        file: bounded(image.file),
                        size,
                        room,
                    },
                ));
            }
            let range = Range::new(image.load, size);
            for (other, other_range) in placed.iter().flatten() {
                if other_range.overlaps(&range) {
                    report.push(self.error(
                        label,
                        ErrorKind::ImagesOverlap {
                            other,
                            range: *other_range,
                        },
                    ));
                }
            }
            if let Some(entry) = placed.get_mut(slot) {
                *entry = Some((label, range));
            }
        }
        if p.ipa_to_region(p.entry).is_none() {
            report.push(self.error("kernel", ErrorKind::EntryOutside { entry: p.entry }));
        }
    }

    fn devices(&self, report: &mut Report) {
        let p = self.partition;
        for (i, device) in p.devices.iter().enumerate() {
            let node = device.node;
            let pa = device.phys;
            let ipa = device.ipa_range();
            self.aligned(node, "physical address", pa.start, report);
            self.aligned(node, "size", pa.size, report);
            self.aligned(node, "IPA", ipa.start, report);
            let hosts = self.board.host_devices.iter();
            for host in hosts.filter(|h| h.range.overlaps(&pa)) {
                report.push(self.error(
                    node,
                    ErrorKind::DeviceOverlapsHost {
                        range: host.range,
                        what: host.what,
                    },
                ));
            }
            for ram in self.board.ram.iter().filter(|r| r.overlaps(&pa)) {
                report.push(self.error(node, ErrorKind::DeviceInRam { range: *ram }));
            }
            let before = p.devices.get(..i).unwrap_or_default();
            let earlier_devices = self
                .earlier
                .iter()
                .flat_map(|o| o.devices.iter().map(move |d| (o.name, d)))
                .chain(before.iter().map(|d| (p.name, d)));
            for (owner, other) in earlier_devices.filter(|(_, d)| d.phys.overlaps(&pa)) {
                report.push(self.error(
                    node,
                    ErrorKind::DeviceTwice {
                        range: other.phys,
                        other: bounded(owner),
                    },
                ));
            }
            for region in p.memory.iter().filter(|r| r.ipa.overlaps(&ipa)) {
                report
                    .push(self.error(node, ErrorKind::DeviceOverlapsMemory { range: region.ipa }));
            }
            let ipa_clashes = before
                .iter()
                .filter(|d| d.ipa_range().overlaps(&ipa) && !d.phys.overlaps(&pa));
            for other in ipa_clashes {
                report.push(self.error(
                    node,
                    ErrorKind::DevicesOverlap {
                        other: bounded(other.node),
                        range: other.ipa_range(),
                    },
                ));
            }
            for (j, &intid) in device.interrupts.iter().enumerate() {
                self.interrupt(i, j, intid, report);
            }
        }
    }

    /// Checks interrupt `j` of device `i`.
    fn interrupt(&self, i: usize, j: usize, intid: u32, report: &mut Report) {
        let p = self.partition;
        let node = p.devices.get(i).map(|d| d.node).unwrap_or("");
        if !SPI_INTIDS.contains(&intid) {
            report.push(self.error(node, ErrorKind::BadIrq { intid }));
            return;
        }
        // The partition's virtual distributor models INTIDs up to MAX_DOORBELL_INTID; the
        // board's GIC may have fewer.
        let limits = [
            Some((crate::limits::MAX_DOORBELL_INTID, "the virtual GIC")),
            self.board.max_intid.map(|max| (max, "the board's GIC")),
        ];
        if let Some((max, what)) = limits.into_iter().flatten().find(|&(max, _)| intid > max) {
            report.push(self.error(node, ErrorKind::IrqBeyond { intid, max, what }));
            return;
        }
        let has = |d: &crate::model::Device<'_>| d.interrupts.contains(&intid);
        let in_this = p.devices.get(..i).unwrap_or_default().iter().any(has)
            || p.devices
                .get(i)
                .and_then(|d| d.interrupts.get(..j))
                .is_some_and(|irqs| irqs.contains(&intid));
        let owner = self
            .earlier
            .iter()
            .find(|o| o.devices.iter().any(has))
            .map(|o| o.name)
            .or(in_this.then_some(p.name));
        if let Some(owner) = owner {
            report.push(self.error(
                node,
                ErrorKind::IrqTwice {
                    intid,
                    other: bounded(owner),
                },
            ));
        }
    }

    fn console(&self, report: &mut Report) {
        let p = self.partition;
        let why = match (p.console_mode, p.console.is_some()) {
            (ConsoleMode::Virtual, false) => Some("\"virtual\" needs a `console` node (its IPA window)"),
            (ConsoleMode::None, true) => Some("\"none\", but the partition has a `console` node; remove one"),
            (ConsoleMode::Passthrough, true) => Some(
                "\"passthrough\" gives the partition a UART of its own, not the virtual one; remove \
                 the `console` node",
            ),
            (ConsoleMode::Passthrough, false) if p.devices.is_empty() => Some(
                "\"passthrough\" needs the UART as a `device` node",
            ),
            _ => None,
        };
        if let Some(why) = why {
            report.push(self.error("", ErrorKind::ConsoleMode { why }));
        }
        let Some(console) = p.console else { return };
        self.aligned("console", "IPA", console.start, report);
        self.aligned("console", "size", console.size, report);
        let memory = p.memory.iter().map(|r| r.ipa);
        let devices = p.devices.iter().map(|d| d.ipa_range());
        for range in memory.chain(devices).filter(|r| r.overlaps(&console)) {
            report.push(self.error("console", ErrorKind::ConsoleOverlaps { range }));
        }
    }

    /// Checks that no earlier partition is `privileged` too.
    fn privileged(&self, report: &mut Report) {
        if !self.partition.privileged {
            return;
        }
        if let Some(first) = self.earlier.iter().find(|p| p.privileged) {
            let other = bounded(first.name);
            report.push(self.error("", ErrorKind::PrivilegedTwice { other }));
        }
    }

    /// Checks that every `smc-allow` entry may go to the firmware, once.
    fn smc_allow(&self, report: &mut Report) {
        let list = &self.partition.smc_allow;
        for (i, &function) in list.iter().enumerate() {
            let kind = if let Err(why) = smc::check_forwardable(function) {
                ErrorKind::BadSmc { function, why }
            } else if list.get(..i).unwrap_or_default().contains(&function) {
                ErrorKind::SmcTwice { function }
            } else {
                continue;
            };
            report.push(self.error("", kind));
        }
    }
}

mod channel;
mod dma;
mod management;
mod shared_memory;
mod smc;
mod stream_ids;
#[cfg(test)]
mod tests;
mod virtio_channel;
mod vsock;
mod watchdog;
