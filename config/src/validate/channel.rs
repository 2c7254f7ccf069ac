//! Checking the channels between partitions: both ends name existing, distinct partitions,
//! and each end's doorbell is an SPI the virtual GIC models that its partition uses for
//! nothing else (no passthrough device interrupt, no doorbell of an earlier channel).
//!
//! A channel's error names the partition it makes unusable, so the hypervisor refuses that
//! partition at boot like one with an error of its own: the partition whose doorbell INTID is
//! wrong, the partition joined to itself, or the known end of a channel whose other end names
//! no partition (`None` when neither end does).

use crate::error::{ConfigError, ErrorKind};
use crate::limits::MAX_DOORBELL_INTID;
use crate::model::{Channel, ChannelKind, Config};
use crate::report::Report;
use crate::text::bounded;

/// The INTIDs a doorbell may use: shared peripheral interrupts the virtual GIC models.
const DOORBELL_INTIDS: core::ops::RangeInclusive<u32> = 32..=MAX_DOORBELL_INTID;

/// Checks every channel of `config`; conflicts between two channels are reported on the later.
pub(super) fn check(config: &Config<'_>, report: &mut Report) {
    for (index, channel) in config.channels.iter().enumerate() {
        let earlier = config.channels.get(..index).unwrap_or_default();
        check_channel(config, channel, earlier, report);
    }
}

fn check_channel(
    config: &Config<'_>,
    channel: &Channel<'_>,
    earlier: &[Channel<'_>],
    report: &mut Report,
) {
    let error = |partition: Option<usize>, kind| {
        ConfigError::at(partition, &["channels", channel.name], kind)
    };
    let [first_end, second_end] = &channel.ends;
    let [first, second] = channel
        .ends
        .map(|end| config.partition_index(end.partition));
    for (end, index, other) in [(first_end, first, second), (second_end, second, first)] {
        if index.is_none() {
            let name = bounded(end.partition);
            report.push(error(other, ErrorKind::UnknownPartition { name }));
        }
    }
    let (Some(first), Some(second)) = (first, second) else {
        return;
    };
    if first == second {
        let partition = bounded(first_end.partition);
        report.push(error(Some(first), ErrorKind::ChannelLoop { partition }));
        return;
    }
    if channel.kind == ChannelKind::Vsock {
        super::vsock::check_channel_ends(config, channel, [first, second], report);
        return;
    }
    for (end, index) in [(first_end, first), (second_end, second)] {
        let intid = end.intid;
        let partition = bounded(end.partition);
        if !DOORBELL_INTIDS.contains(&intid) {
            report.push(error(
                Some(index),
                ErrorKind::BadDoorbellIrq { intid, partition },
            ));
            continue;
        }
        let device = config.partitions.get(index).and_then(|p| {
            p.devices
                .iter()
                .find(|d| d.interrupts.contains(&intid))
                .map(|d| ("device", d.node))
        });
        let channel_before = || {
            earlier
                .iter()
                .find(|c| c.ends.contains(end))
                .map(|c| ("channel", c.name))
        };
        // The virtual PL011's interrupt is a software SPI of the same distributor.
        let console = || {
            config
                .partitions
                .get(index)
                .filter(|p| p.console.is_some() && intid == crate::limits::CONSOLE_INTID)
                .map(|_| ("its virtual console", "console"))
        };
        if let Some((by, other)) = device.or_else(channel_before).or_else(console) {
            let kind = ErrorKind::DoorbellIrqTaken {
                intid,
                partition,
                by,
                other: bounded(other),
            };
            report.push(error(Some(index), kind));
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use crate::error::{ConfigError, ErrorKind};
    use crate::test_support::{config_with_channels, messages, validation_errors, LINUX, RTOS};
    use crate::text::bounded;
    use std::format;
    use std::string::String;
    use std::vec::Vec;

    /// LINUX (partition 0, with a device on INTID 40) and RTOS (partition 1) with `channels`.
    fn two(channels: &str) -> String {
        let linux = LINUX.replace(
            "kernel {",
            "device@9040000 { reg = <0x0 0x09040000 0x0 0x1000>; interrupts = <40>; }; kernel {",
        );
        config_with_channels(&format!("{linux}{RTOS}"), channels)
    }

    fn channel(name: &str, a: &str, b: &str, intids: (u32, u32)) -> String {
        format!(
            "{name} {{ partitions = \"{a}\", \"{b}\"; interrupts = <{} {}>; }};",
            intids.0, intids.1
        )
    }

    fn errors(channels: &str) -> Vec<ConfigError> {
        validation_errors(&two(channels))
    }

    fn only(channels: &str) -> ConfigError {
        let errors = errors(channels);
        assert_eq!(errors.len(), 1, "{}", messages(&errors));
        errors.into_iter().next().expect("one error")
    }

    #[test]
    fn valid_channels_have_no_errors() {
        let channels = format!(
            "{} {}",
            channel("ping", "linux", "rtos", (48, 49)),
            channel("pong", "rtos", "linux", (50, 511))
        );
        let errors = errors(&channels);
        assert!(errors.is_empty(), "{}", messages(&errors));
    }

    #[test]
    fn an_unknown_partition_is_reported_against_the_known_end() {
        let e = only(&channel("ping", "linux", "rots", (48, 49)));
        assert_eq!(e.node.as_str(), "/channels/ping");
        assert_eq!(e.partition, Some(0));
        assert_eq!(
            e.kind,
            ErrorKind::UnknownPartition {
                name: bounded("rots")
            }
        );
        let errors = errors(&channel("ping", "nobody", "none", (48, 49)));
        assert_eq!(errors.len(), 2, "{}", messages(&errors));
        assert!(errors.iter().all(|e| e.partition.is_none()));
    }

    #[test]
    fn a_partition_joined_to_itself_is_rejected() {
        let e = only(&channel("ping", "rtos", "rtos", (48, 49)));
        assert_eq!(e.partition, Some(1));
        assert_eq!(
            e.kind,
            ErrorKind::ChannelLoop {
                partition: bounded("rtos")
            }
        );
    }

    #[test]
    fn doorbells_must_be_spis_the_virtual_gic_models() {
        for intid in [0, 16, 27, 31, 512, 1019, 1020, u32::MAX] {
            let e = only(&channel("ping", "linux", "rtos", (48, intid)));
            assert_eq!(e.partition, Some(1), "{intid}");
            assert_eq!(
                e.kind,
                ErrorKind::BadDoorbellIrq {
                    intid,
                    partition: bounded("rtos")
                }
            );
        }
        assert!(errors(&channel("ping", "linux", "rtos", (32, 511))).is_empty());
    }

    #[test]
    fn a_doorbell_on_a_device_interrupt_of_its_partition_is_rejected() {
        let e = only(&channel("ping", "linux", "rtos", (40, 49)));
        assert_eq!(e.partition, Some(0));
        assert_eq!(
            format!("{e}"),
            "/channels/ping: interrupt 40 cannot be partition \"linux\"'s doorbell: that \
             partition already uses it for device `device@9040000`; give each doorbell an INTID \
             its partition uses for nothing else"
        );
        // The same INTID received by the other partition, which has no such device, is fine.
        assert!(errors(&channel("ping", "linux", "rtos", (48, 40))).is_empty());
    }

    #[test]
    fn a_doorbell_may_not_use_the_virtual_consoles_interrupt() {
        let with_console = RTOS.replace(
            "kernel {",
            "console { reg = <0x0 0x09000000 0x0 0x1000>; }; kernel {",
        );
        let config = config_with_channels(
            &format!("{LINUX}{with_console}"),
            &channel("ping", "linux", "rtos", (48, 33)),
        );
        let e = validation_errors(&config);
        assert_eq!(e.len(), 1, "{}", messages(&e));
        assert_eq!(
            e[0].kind,
            ErrorKind::DoorbellIrqTaken {
                intid: 33,
                partition: bounded("rtos"),
                by: "its virtual console",
                other: bounded("console")
            }
        );
        // Without a console INTID 33 is free.
        assert!(errors(&channel("ping", "linux", "rtos", (48, 33))).is_empty());
    }

    #[test]
    fn two_channels_may_not_ring_a_partition_on_the_same_intid() {
        let channels = format!(
            "{} {}",
            channel("ping", "linux", "rtos", (48, 49)),
            channel("pong", "rtos", "linux", (49, 50))
        );
        let e = only(&channels);
        assert_eq!(
            e.node.as_str(),
            "/channels/pong",
            "reported on the later channel"
        );
        assert_eq!(e.partition, Some(1));
        assert_eq!(
            e.kind,
            ErrorKind::DoorbellIrqTaken {
                intid: 49,
                partition: bounded("rtos"),
                by: "channel",
                other: bounded("ping")
            }
        );
        // The same INTID in two different partitions is fine.
        let channels = format!(
            "{} {}",
            channel("ping", "linux", "rtos", (48, 49)),
            channel("pong", "rtos", "linux", (48, 49))
        );
        assert!(errors(&channels).is_empty());
    }
}
