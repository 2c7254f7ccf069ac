//! Checking channels' shared memory (`/channels/<name>/shared-memory`): the physical region is
//! page aligned, inside one board RAM range, clear of what the board reserves (the hypervisor,
//! its bundle, firmware), of every fixed-address partition memory and of every other channel's
//! region; each end's IPA window is page aligned and clashes with none of that partition's
//! memory, devices or other windows. (Memory the hypervisor allocates for partitions without a
//! fixed address is taken around the shared regions at boot, so it cannot overlap them.)
//!
//! A physical-region error names the channel's first end (the partition refused for it); an
//! IPA error names the end whose window it is.

use crate::error::{ConfigError, ErrorKind};
use crate::model::{Channel, Config};
use crate::range::Range;
use crate::report::Report;
use crate::text::bounded;
use crate::Board;

use super::PAGE_SIZE;

/// Checks every channel's shared memory; conflicts between two channels are reported on the later.
pub(super) fn check(config: &Config<'_>, board: &Board, report: &mut Report) {
    for (index, channel) in config.channels.iter().enumerate() {
        let Some(shared) = channel.shared else {
            continue;
        };
        let earlier = config.channels.get(..index).unwrap_or_default();
        let ends = channel
            .ends
            .map(|end| config.partition_index(end.partition));
        let error = |partition: Option<usize>, kind| {
            ConfigError::at(
                partition,
                &["channels", channel.name, "shared-memory"],
                kind,
            )
        };
        let first = ends[0].or(ends[1]);
        let pa = shared.phys;
        for (what, addr) in [("physical address", pa.start), ("size", pa.size)] {
            if !addr.is_multiple_of(PAGE_SIZE) {
                let align = PAGE_SIZE;
                report.push(error(first, ErrorKind::Unaligned { what, addr, align }));
            }
        }
        if !board.ram.iter().any(|ram| ram.contains(&pa)) {
            report.push(error(first, ErrorKind::NotInRam { range: pa }));
        }
        for reserved in board.reserved.iter().filter(|r| r.range.overlaps(&pa)) {
            report.push(error(
                first,
                ErrorKind::OverlapsReserved {
                    why: reserved.why,
                    range: reserved.range,
                },
            ));
        }
        for partition in &config.partitions {
            for region in &partition.memory {
                if let Some(other) = region.phys_range().filter(|r| r.overlaps(&pa)) {
                    report.push(error(
                        first,
                        ErrorKind::MemoryOverlap {
                            other: bounded(partition.name),
                            range: other,
                        },
                    ));
                }
            }
        }
        for other in earlier {
            if let Some(range) = other.shared.map(|s| s.phys).filter(|r| r.overlaps(&pa)) {
                report.push(error(
                    first,
                    ErrorKind::MemoryOverlap {
                        other: bounded(other.name),
                        range,
                    },
                ));
            }
        }
        for (end, partition) in ends.iter().enumerate() {
            let Some(index) = *partition else { continue };
            let window = shared.window(end);
            if !window.start.is_multiple_of(PAGE_SIZE) {
                report.push(error(
                    Some(index),
                    ErrorKind::Unaligned {
                        what: "IPA",
                        addr: window.start,
                        align: PAGE_SIZE,
                    },
                ));
            }
            if window.checked_end().is_none() {
                report.push(error(Some(index), ErrorKind::NotInRam { range: window }));
                continue;
            }
            if let Some((node, range)) = clash(config, index, window, earlier) {
                report.push(error(
                    Some(index),
                    ErrorKind::RegionsOverlap {
                        other: bounded(node),
                        range,
                    },
                ));
            }
        }
    }
}

/// The first of partition `index`'s memory regions, devices or earlier channels' windows that
/// `window` overlaps: its node name and IPA range.
fn clash<'a>(
    config: &Config<'a>,
    index: usize,
    window: Range,
    earlier: &[Channel<'a>],
) -> Option<(&'a str, Range)> {
    let partition = config.partitions.get(index)?;
    let memory = partition.memory.iter().map(|m| (m.node, m.ipa));
    let devices = partition.devices.iter().map(|d| (d.node, d.ipa_range()));
    let windows = earlier.iter().flat_map(|c| {
        let shared = c.shared;
        c.ends
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.partition == partition.name)
            .filter_map(move |(end, _)| shared.map(|s| (c.name, s.window(end))))
    });
    memory
        .chain(devices)
        .chain(windows)
        .find(|(_, range)| range.overlaps(&window))
}

#[cfg(test)]
mod tests {
    extern crate std;

    use crate::error::ErrorKind;
    use crate::test_support::{
        config_with_channels, messages, parse_error, validation_errors, with_parsed, LINUX, RTOS,
    };
    use std::format;
    use std::string::String;

    fn channel(shared: &str) -> String {
        config_with_channels(
            &format!("{LINUX}{RTOS}"),
            &format!(
                r#"bulk {{ partitions = "linux", "rtos"; interrupts = <48 49>;
                   shared-memory {{ {shared} }}; }};"#
            ),
        )
    }

    const GOOD: &str = r#"reg = <0x0 0x70000000 0x0 0x01000000>;
        ipa = <0x0 0xa0000000 0x0 0x20000000>; access = "rw", "ro";"#;

    #[test]
    fn a_channel_s_shared_memory_is_parsed_and_valid() {
        let dts = channel(GOOD);
        with_parsed(&dts, |c| {
            let shared = c.channels[0].shared.expect("shared memory");
            assert_eq!(shared.phys.start, 0x7000_0000);
            assert_eq!(shared.phys.size, 0x0100_0000);
            assert_eq!(shared.ipa, [0xa000_0000, 0x2000_0000]);
            assert_eq!(shared.writable, [true, false]);
        });
        let errors = validation_errors(&dts);
        assert!(errors.is_empty(), "{}", messages(&errors));
    }

    #[test]
    fn a_shared_memory_node_lacking_a_property_or_with_a_bad_access_is_refused() {
        let e = parse_error(&channel(
            r#"reg = <0x0 0x70000000 0x0 0x1000>; access = "rw", "rw";"#,
        ));
        assert_eq!(e.node.as_str(), "/channels/bulk/shared-memory", "{e}");
        assert!(
            matches!(e.kind, ErrorKind::MissingProperty { name: "ipa" }),
            "{e}"
        );
        let e = parse_error(&channel(
            r#"reg = <0x0 0x70000000 0x0 0x1000>; ipa = <0 0 0 0>; access = "rw", "wo";"#,
        ));
        assert!(
            matches!(e.kind, ErrorKind::BadProperty { name: "access", .. }),
            "{e}"
        );
    }

    #[test]
    fn a_region_outside_ram_unaligned_or_on_the_hypervisor_is_refused() {
        for (reg, what) in [
            ("<0x0 0x10000000 0x0 0x1000>", "not in RAM"),
            ("<0x0 0x70000800 0x0 0x1000>", "unaligned"),
            ("<0x0 0x40000000 0x0 0x1000>", "the hypervisor"),
        ] {
            let dts = channel(&format!(
                r#"reg = {reg}; ipa = <0x0 0xa0000000 0x0 0x20000000>; access = "rw", "rw";"#
            ));
            let errors = validation_errors(&dts);
            assert!(!errors.is_empty(), "{what}");
            assert_eq!(
                errors[0].node.as_str(),
                "/channels/bulk/shared-memory",
                "{what}: {}",
                messages(&errors)
            );
        }
    }

    #[test]
    fn a_window_over_the_partition_s_own_memory_is_refused_for_that_partition() {
        // The rtos has RAM at IPA 0: a window at 0 clashes.
        let dts = channel(
            r#"reg = <0x0 0x70000000 0x0 0x1000>; ipa = <0x0 0xa0000000 0x0 0x0>; access = "rw", "rw";"#,
        );
        let errors = validation_errors(&dts);
        assert_eq!(errors.len(), 1, "{}", messages(&errors));
        assert_eq!(errors[0].partition, Some(1), "{}", messages(&errors));
        assert!(matches!(errors[0].kind, ErrorKind::RegionsOverlap { .. }));
    }
}
