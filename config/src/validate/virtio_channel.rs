//! Checking serial (virtio-console) channels: a `port-name` and a `virtio-windows` pair, each
//! window one page-aligned 4 KiB page apart from its partition's memory, devices, console,
//! watchdog frames, management window and other virtio windows. A channel of another kind may
//! not carry either property.

use crate::error::{ConfigError, ErrorKind};
use crate::model::{ChannelKind, Config, VIRTIO_WINDOW_SIZE};
use crate::range::Range;
use crate::report::Report;
use crate::text::bounded;
use crate::MAX_SERIAL_LINKS;

use super::PAGE_SIZE;

/// Checks every channel's virtio parts.
pub(super) fn check(config: &Config<'_>, report: &mut Report) {
    let mut serial = config
        .channels
        .iter()
        .filter(|c| c.kind == ChannelKind::Serial);
    if let Some(extra) = serial.nth(MAX_SERIAL_LINKS) {
        let partition = extra
            .ends
            .first()
            .and_then(|e| config.partition_index(e.partition));
        report.push(ConfigError::at(
            partition,
            &["channels", extra.name],
            ErrorKind::BadVirtioChannel {
                partition: bounded(extra.ends.first().map_or("", |e| e.partition)),
                why: "is a serial channel past the fourth: a configuration has at most 4 \
                      (MAX_SERIAL_LINKS)",
            },
        ));
    }
    for (index, channel) in config.channels.iter().enumerate() {
        for end in &channel.ends {
            let Some(partition_index) = config.partition_index(end.partition) else {
                continue;
            };
            let error = |why| {
                ConfigError::at(
                    Some(partition_index),
                    &["channels", channel.name],
                    ErrorKind::BadVirtioChannel {
                        partition: bounded(end.partition),
                        why,
                    },
                )
            };
            if channel.kind != ChannelKind::Serial {
                if end.virtio_window.is_some() || channel.port_name.is_some() {
                    report.push(error(
                        "is configured (`virtio-windows` or `port-name`) but the channel's \
                         `kind` is not \"serial\"",
                    ));
                }
                continue;
            }
            if channel.port_name.is_none() {
                report.push(error("has no `port-name`"));
            }
            let Some(start) = end.virtio_window else {
                report.push(error("has no window: give the channel `virtio-windows`"));
                continue;
            };
            let window = Range::new(start, VIRTIO_WINDOW_SIZE);
            if !start.is_multiple_of(PAGE_SIZE) || window.checked_end().is_none() {
                report.push(error("window is not a page-aligned 4 KiB page"));
                continue;
            }
            let Some(partition) = config.partitions.get(partition_index) else {
                continue;
            };
            let memory = partition
                .memory
                .iter()
                .map(|r| ("window overlaps memory", r.ipa));
            let devices = partition
                .devices
                .iter()
                .map(|d| ("window overlaps a device", d.ipa_range()));
            let console = partition
                .console
                .map(|c| ("window overlaps the console", c));
            let management = partition
                .management
                .map(|m| ("window overlaps the management window", m));
            let watchdog = partition.watchdog.into_iter().flat_map(|w| {
                [
                    ("window overlaps the watchdog's control frame", w.control),
                    ("window overlaps the watchdog's refresh frame", w.refresh),
                ]
            });
            let earlier = config
                .channels
                .get(..index)
                .unwrap_or_default()
                .iter()
                .flat_map(|c| c.ends.iter())
                .filter(|e| e.partition == end.partition)
                .filter_map(|e| e.virtio_window)
                .map(|w| {
                    (
                        "window overlaps an earlier channel's",
                        Range::new(w, VIRTIO_WINDOW_SIZE),
                    )
                });
            let mut others = memory
                .chain(devices)
                .chain(console)
                .chain(management)
                .chain(watchdog)
                .chain(earlier);
            if let Some((why, _)) = others.find(|(_, other)| other.overlaps(&window)) {
                report.push(error(why));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use crate::error::ErrorKind;
    use crate::model::ChannelKind;
    use crate::test_support::{
        config_with_channels, messages, validation_errors, with_parsed, LINUX, RTOS,
    };
    use std::format;
    use std::string::String;

    fn two(channels: &str) -> String {
        config_with_channels(&format!("{LINUX}{RTOS}"), channels)
    }

    const SERIAL: &str = "link { partitions = \"linux\", \"rtos\"; interrupts = <80 81>; \
        kind = \"serial\"; port-name = \"rtos-link\"; \
        virtio-windows = <0x0 0x0a003000 0x0 0x0a003000>; };";

    #[test]
    fn a_serial_channel_is_parsed_and_valid() {
        let text = two(SERIAL);
        let errors = validation_errors(&text);
        assert!(errors.is_empty(), "{}", messages(&errors));
        let (kind, port, window) = with_parsed(&text, |c| {
            let ch = &c.channels[0];
            (
                ch.kind,
                ch.port_name.map(String::from),
                ch.ends[1].virtio_window,
            )
        });
        assert_eq!(kind, ChannelKind::Serial);
        assert_eq!(port.as_deref(), Some("rtos-link"));
        assert_eq!(window, Some(0x0a00_3000));
    }

    fn reasons(channels: &str) -> String {
        let errors = validation_errors(&two(channels));
        assert!(!errors.is_empty());
        for e in &errors {
            assert!(matches!(e.kind, ErrorKind::BadVirtioChannel { .. }), "{e}");
        }
        messages(&errors)
    }

    #[test]
    fn a_serial_channel_needs_its_parts_in_free_places() {
        let no_name = SERIAL.replace("port-name = \"rtos-link\";", "");
        assert!(reasons(&no_name).contains("no `port-name`"));
        let no_window = SERIAL.replace("virtio-windows = <0x0 0x0a003000 0x0 0x0a003000>;", "");
        assert!(reasons(&no_window).contains("no window"));
        let unaligned = SERIAL.replace(
            "0x0 0x0a003000 0x0 0x0a003000",
            "0x0 0x0a003100 0x0 0x0a003000",
        );
        assert!(reasons(&unaligned).contains("page-aligned"));
        let in_ram = SERIAL.replace(
            "0x0 0x0a003000 0x0 0x0a003000",
            "0x0 0x40000000 0x0 0x0a003000",
        );
        let text = reasons(&in_ram);
        assert!(
            text.contains("overlaps memory") && text.contains("channels/link"),
            "{text}"
        );
        let doorbell = SERIAL.replace("kind = \"serial\";", "");
        assert!(reasons(&doorbell).contains("not \"serial\""));
    }

    /// Serial channel `n` between linux and rtos, on its own pair of windows and interrupts.
    fn serial(n: u32) -> String {
        let window = 0x0a00_0000 + n * 0x1000;
        format!(
            "link{n} {{ partitions = \"linux\", \"rtos\"; interrupts = <{} {}>; \
             kind = \"serial\"; port-name = \"port{n}\"; \
             virtio-windows = <0x0 {window:#x} 0x0 {window:#x}>; }};",
            80 + 2 * n,
            81 + 2 * n
        )
    }

    #[test]
    fn at_most_four_serial_channels() {
        let four: String = (0..4).map(serial).collect();
        let errors = validation_errors(&two(&four));
        assert!(errors.is_empty(), "{}", messages(&errors));
        let five: String = (0..5).map(serial).collect();
        let text = reasons(&five);
        assert!(
            text.contains("channels/link4") && text.contains("at most 4"),
            "{text}"
        );
    }
}
