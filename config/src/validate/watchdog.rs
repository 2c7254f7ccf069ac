//! Checking a partition's `watchdog`: both frames page-aligned, apart from each other and from
//! the partition's memory, devices and console; its interrupt a virtual SPI the virtual GIC
//! models that the partition uses for nothing else (no passthrough device interrupt, no
//! doorbell of a channel it is an end of).

use crate::error::{ConfigError, ErrorKind};
use crate::limits::MAX_DOORBELL_INTID;
use crate::model::{Config, PartitionConfig, Watchdog};
use crate::range::Range;
use crate::report::Report;
use crate::text::bounded;

use super::PAGE_SIZE;

/// The INTIDs a watchdog may use: shared peripheral interrupts the virtual GIC models in
/// software, as a doorbell's.
const WATCHDOG_INTIDS: core::ops::RangeInclusive<u32> = 32..=MAX_DOORBELL_INTID;

/// Checks the watchdog of partition `index` (`partition`) of `config`, if it has one.
pub(super) fn check(
    config: &Config<'_>,
    index: usize,
    partition: &PartitionConfig<'_>,
    report: &mut Report,
) {
    let Some(watchdog) = partition.watchdog else {
        return;
    };
    let error = |kind| {
        ConfigError::at(
            Some(index),
            &["partitions", partition.name, "watchdog"],
            kind,
        )
    };
    for (frame, range) in [("control", watchdog.control), ("refresh", watchdog.refresh)] {
        if !range.start.is_multiple_of(PAGE_SIZE) {
            report.push(error(ErrorKind::Unaligned {
                what: if frame == "control" {
                    "control frame address"
                } else {
                    "refresh frame address"
                },
                addr: range.start,
                align: PAGE_SIZE,
            }));
        }
        for (what, other) in neighbours(partition, &watchdog, frame) {
            if other.overlaps(&range) {
                report.push(error(ErrorKind::WatchdogOverlaps {
                    frame,
                    what,
                    range: other,
                }));
            }
        }
    }
    let intid = watchdog.intid;
    if !WATCHDOG_INTIDS.contains(&intid) {
        report.push(error(ErrorKind::BadWatchdogIrq { intid }));
        return;
    }
    let device = partition
        .devices
        .iter()
        .find(|d| d.interrupts.contains(&intid))
        .map(|d| ("device", d.node));
    let channel = || {
        config
            .channels_of(partition.name)
            .find(|(channel, end)| channel.ends.get(*end).is_some_and(|e| e.intid == intid))
            .map(|(channel, _)| ("channel", channel.name))
    };
    if let Some((by, other)) = device.or_else(channel) {
        report.push(error(ErrorKind::WatchdogIrqTaken {
            intid,
            by,
            other: bounded(other),
        }));
    }
}

/// What frame `frame` of `watchdog` must not overlap: the partition's memory, devices and
/// console, and (for the refresh frame) the control frame.
fn neighbours<'p>(
    partition: &'p PartitionConfig<'_>,
    watchdog: &'p Watchdog,
    frame: &'static str,
) -> impl Iterator<Item = (&'static str, Range)> + 'p {
    let memory = partition.memory.iter().map(|r| ("memory", r.ipa));
    let devices = partition
        .devices
        .iter()
        .map(|d| ("a device", d.ipa_range()));
    let console = partition.console.map(|c| ("the console", c));
    let control = (frame == "refresh").then_some(("the control frame", watchdog.control));
    memory.chain(devices).chain(console).chain(control)
}

#[cfg(test)]
mod tests {
    extern crate std;

    use crate::error::ErrorKind;
    use crate::test_support::{config_with_channels, messages, validation_errors, LINUX, RTOS};
    use std::format;
    use std::string::String;

    /// LINUX (partition 0) with a device on INTID 40 and `watchdog` as its watchdog node,
    /// beside RTOS, with `channels`.
    fn config(watchdog: &str, channels: &str) -> String {
        let linux = LINUX.replace(
            "kernel {",
            &format!(
                "device@9040000 {{ reg = <0x0 0x09040000 0x0 0x1000>; interrupts = <40>; }}; \
                 {watchdog} kernel {{"
            ),
        );
        config_with_channels(&format!("{linux}{RTOS}"), channels)
    }

    fn watchdog(control: u32, refresh: u32, intid: u32) -> String {
        format!(
            "watchdog {{ control = <0x0 {control:#x}>; refresh = <0x0 {refresh:#x}>; \
             interrupts = <{intid}>; }};"
        )
    }

    const PING: &str = "ping { partitions = \"linux\", \"rtos\"; interrupts = <48 49>; };";

    #[test]
    fn a_valid_watchdog_has_no_errors_and_is_parsed() {
        let text = config(&watchdog(0x0a44_0000, 0x0a45_0000, 47), PING);
        let errors = validation_errors(&text);
        assert!(errors.is_empty(), "{}", messages(&errors));
    }

    #[test]
    fn frames_must_be_page_aligned_and_apart_from_memory_devices_and_each_other() {
        let errors = validation_errors(&config(&watchdog(0x0a44_0800, 0x0904_0000, 47), ""));
        let text = messages(&errors);
        assert!(text.contains("/partitions/linux/watchdog"), "{text}");
        assert!(
            errors.iter().any(|e| matches!(
                e.kind,
                ErrorKind::Unaligned {
                    what: "control frame address",
                    ..
                }
            )),
            "{text}"
        );
        assert!(
            errors.iter().any(|e| matches!(
                e.kind,
                ErrorKind::WatchdogOverlaps {
                    frame: "refresh",
                    what: "a device",
                    ..
                }
            )),
            "{text}"
        );
        let same = validation_errors(&config(&watchdog(0x0a44_0000, 0x0a44_0000, 47), ""));
        assert!(same.iter().any(|e| matches!(
            e.kind,
            ErrorKind::WatchdogOverlaps {
                what: "the control frame",
                ..
            }
        )));
        let in_ram = validation_errors(&config(&watchdog(0x4000_0000, 0x0a45_0000, 47), ""));
        assert!(in_ram
            .iter()
            .any(|e| matches!(e.kind, ErrorKind::WatchdogOverlaps { what: "memory", .. })));
    }

    #[test]
    fn the_interrupt_must_be_a_modelled_spi_the_partition_uses_for_nothing_else() {
        for (intid, by) in [(40, "device"), (48, "channel")] {
            let errors =
                validation_errors(&config(&watchdog(0x0a44_0000, 0x0a45_0000, intid), PING));
            assert!(
                errors.iter().any(|e| matches!(
                    e.kind,
                    ErrorKind::WatchdogIrqTaken { by: b, .. } if b == by
                )),
                "{}",
                messages(&errors)
            );
        }
        for intid in [27, 512] {
            let errors = validation_errors(&config(&watchdog(0x0a44_0000, 0x0a45_0000, intid), ""));
            assert!(errors
                .iter()
                .any(|e| e.kind == ErrorKind::BadWatchdogIrq { intid }));
        }
    }
}
