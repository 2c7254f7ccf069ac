//! A channel (`/channels/<name>`) while it is being read: its properties as
//! they arrive, then what it still lacks when it ends.
//!
//! Like a partition, the channel is built in place, in the slot of the
//! configuration it will occupy. Its one child node kind is `shared-memory`
//! (`super::shared_memory`).

use super::at::At;
use super::rules;
use crate::error::{ConfigError, ErrorKind};
use crate::model::{Channel, ChannelEnd, ChannelKind};

/// The node kinds a channel may contain, for error messages.
const ALLOWED_CHILDREN: &str = "shared-memory";

/// An empty channel called `name`, to be filled in.
pub(super) fn empty(name: &str) -> Channel<'_> {
    Channel {
        name,
        ends: [ChannelEnd::default(); 2],
        shared: None,
        kind: crate::model::ChannelKind::Doorbell,
        port_name: None,
    }
}

/// What is known about the channel being read beyond its slot. One is reused
/// for every channel.
#[derive(Default)]
pub(super) struct ChannelReader<'a> {
    at: At<'a>,
    /// Whether `partitions` was given.
    partitions: bool,
    /// Whether `interrupts` was given.
    interrupts: bool,
    /// The channel's `kind`.
    kind: ChannelKind,
}

impl<'a> ChannelReader<'a> {
    /// Starts reading the channel at `at`.
    pub(super) fn begin(&mut self, at: At<'a>) {
        self.at = at;
        self.partitions = false;
        self.interrupts = false;
        self.kind = ChannelKind::Doorbell;
    }

    /// Takes in one property of the channel.
    pub(super) fn property(
        &mut self,
        slot: &mut Channel<'a>,
        name: &str,
        value: &'a [u8],
    ) -> Result<(), ConfigError> {
        let result = match name {
            "partitions" => rules::channel_partitions(value).map(|[a, b]| {
                slot.ends[0].partition = a;
                slot.ends[1].partition = b;
                self.partitions = true;
            }),
            "interrupts" => rules::channel_interrupts(value).map(|[a, b]| {
                slot.ends[0].intid = a;
                slot.ends[1].intid = b;
                self.interrupts = true;
            }),
            "kind" => rules::channel_kind(value).map(|kind| {
                slot.kind = kind;
                self.kind = kind;
            }),
            "port-name" => rules::port_name(value).map(|port| slot.port_name = Some(port)),
            "virtio-windows" => rules::virtio_windows(value).map(|[a, b]| {
                slot.ends[0].virtio_window = Some(a);
                slot.ends[1].virtio_window = Some(b);
            }),
            _ => rules::check_ignored(
                name,
                value,
                "partitions, interrupts, kind, port-name, virtio-windows",
            ),
        };
        result.map_err(|kind| self.at.err(kind))
    }

    /// A child node called `name` begins: `shared-memory` (once) is read by `shared`.
    pub(super) fn child(
        &self,
        slot: &Channel<'a>,
        shared: &mut super::shared_memory::SharedMemoryReader<'a>,
        name: &'a str,
    ) -> Result<(), ConfigError> {
        let at = self.at.child(name);
        match name {
            "shared-memory" if slot.shared.is_none() && !shared.seen() => {
                shared.begin(at);
                Ok(())
            }
            "shared-memory" => Err(at.err(ErrorKind::DuplicateName)),
            _ => Err(at.err(ErrorKind::UnknownNode {
                allowed: ALLOWED_CHILDREN,
            })),
        }
    }

    /// Ends the channel: says what it lacks, if anything.
    pub(super) fn end(&self) -> Result<(), ConfigError> {
        let missing = |name| self.at.err(ErrorKind::MissingProperty { name });
        if !self.partitions {
            return Err(missing("partitions"));
        }
        match (self.kind, self.interrupts) {
            (ChannelKind::Doorbell | ChannelKind::Serial, false) => Err(missing("interrupts")),
            (ChannelKind::Vsock, true) => Err(self.at.err(rules::bad(
                "interrupts",
                "a vsock channel has no doorbells: remove `interrupts`",
            ))),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use crate::error::ErrorKind;
    use crate::model::{Channel, ChannelEnd, Config};
    use crate::test_support::{
        compile, config_dts, config_with_channels, parse_error, with_parsed, FdtBuilder, LINUX,
        RTOS,
    };
    use crate::MAX_CHANNELS;
    use std::format;
    use std::string::String;

    /// LINUX and RTOS with `channels` under `/channels`.
    fn two(channels: &str) -> String {
        config_with_channels(&format!("{LINUX}{RTOS}"), channels)
    }

    const PING: &str = r#"ping { partitions = "linux", "rtos"; interrupts = <48 49>; };"#;

    fn assert_bad_property(dts: &str, node: &str, name: &str) {
        let e = parse_error(dts);
        assert_eq!(e.node.as_str(), node, "{e}");
        assert_eq!(e.partition, None, "{e}");
        match e.kind {
            ErrorKind::BadProperty { name: n, .. } => assert_eq!(n, name, "{e}"),
            other => panic!("expected BadProperty {name}, got {other:?}"),
        }
    }

    #[test]
    fn channels_are_parsed_in_order_with_their_ends() {
        let pong = r#"pong { partitions = "rtos", "linux"; interrupts = <50 51>; };"#;
        with_parsed(&two(&format!("{PING} {pong}")), |c| {
            let end = |partition, intid| ChannelEnd {
                partition,
                intid,
                virtio_window: None,
            };
            assert_eq!(
                c.channels.as_slice(),
                &[
                    Channel {
                        name: "ping",
                        ends: [end("linux", 48), end("rtos", 49)],
                        shared: None,
                        kind: crate::model::ChannelKind::Doorbell,
                        port_name: None,
                    },
                    Channel {
                        name: "pong",
                        ends: [end("rtos", 50), end("linux", 51)],
                        shared: None,
                        kind: crate::model::ChannelKind::Doorbell,
                        port_name: None,
                    },
                ]
            );
            let of_rtos: std::vec::Vec<_> =
                c.channels_of("rtos").map(|(ch, e)| (ch.name, e)).collect();
            assert_eq!(of_rtos, [("ping", 1), ("pong", 0)]);
            assert_eq!(c.channels[1].peer_of(0).partition, "linux");
            assert_eq!(c.channels_of("nobody").count(), 0);
        });
    }

    #[test]
    fn a_configuration_without_channels_has_none_and_an_empty_node_is_fine() {
        with_parsed(&config_dts(LINUX), |c| assert!(c.channels.is_empty()));
        with_parsed(&two(""), |c| assert!(c.channels.is_empty()));
    }

    #[test]
    fn channels_may_come_before_partitions() {
        let dts = format!(
            "/dts-v1/; / {{ compatible = \"bulkhead,config\"; board = \"qemu-virt\"; \
             channels {{ {PING} }}; partitions {{ {LINUX} {RTOS} }}; }};"
        );
        with_parsed(&dts, |c| assert_eq!(c.channels.len(), 1));
    }

    #[test]
    fn partitions_must_name_exactly_two() {
        for value in [
            r#""linux""#,
            r#""linux", "rtos", "x""#,
            r#""linux", """#,
            "<1 2>",
        ] {
            let channel = format!("ping {{ partitions = {value}; interrupts = <48 49>; }};");
            assert_bad_property(&two(&channel), "/channels/ping", "partitions");
        }
    }

    #[test]
    fn interrupts_must_be_two_cells() {
        for value in ["<48>", "<48 49 50>", "\"48\"", "[30 31 32]"] {
            let channel =
                format!("ping {{ partitions = \"linux\", \"rtos\"; interrupts = {value}; }};");
            assert_bad_property(&two(&channel), "/channels/ping", "interrupts");
        }
    }

    #[test]
    fn both_properties_are_required() {
        let e = parse_error(&two(r#"ping { partitions = "linux", "rtos"; };"#));
        assert_eq!(e.kind, ErrorKind::MissingProperty { name: "interrupts" });
        assert_eq!(e.node.as_str(), "/channels/ping");
        let e = parse_error(&two("ping { interrupts = <48 49>; };"));
        assert_eq!(e.kind, ErrorKind::MissingProperty { name: "partitions" });
    }

    #[test]
    fn unknown_channel_property_is_rejected() {
        let e = parse_error(&two(
            r#"ping { partitions = "linux", "rtos"; interrupts = <48 49>; irq = <1>; };"#,
        ));
        assert_eq!(e.node.as_str(), "/channels/ping");
        assert!(
            format!("{e}").contains("allowed here: partitions, interrupts"),
            "{e}"
        );
    }

    #[test]
    fn a_channel_s_only_child_is_shared_memory() {
        let e = parse_error(&two(
            r#"ping { partitions = "linux", "rtos"; interrupts = <48 49>;
                      memory { size = <0x0 0x1000>; }; };"#,
        ));
        assert_eq!(e.node.as_str(), "/channels/ping/memory");
        assert!(matches!(e.kind, ErrorKind::UnknownNode { .. }), "{e}");
        assert!(
            format!("{e}").contains("allowed here: shared-memory"),
            "{e}"
        );
    }

    #[test]
    fn channel_names_follow_the_partition_rules() {
        let e = parse_error(&two(
            r#"Ping { partitions = "linux", "rtos"; interrupts = <48 49>; };"#,
        ));
        assert_eq!(e.node.as_str(), "/channels/Ping");
        assert_eq!(
            e.kind,
            ErrorKind::BadName {
                what: "channel",
                why: "only a-z, 0-9, '-' and '_' are allowed"
            }
        );
    }

    fn root_with(build: impl FnOnce(FdtBuilder) -> FdtBuilder) -> std::vec::Vec<u8> {
        let b = FdtBuilder::new()
            .begin("")
            .prop_str("compatible", "bulkhead,config")
            .prop_str("board", "qemu-virt")
            .begin("partitions")
            .begin("p")
            .prop_cells("cpus", &[0])
            .begin("memory@0")
            .prop_cells("reg", &[0, 0, 0, 0x1000])
            .end()
            .begin("kernel")
            .prop_str("file", "k")
            .prop_cells("load", &[0, 0])
            .end()
            .end()
            .end();
        build(b).end().finish()
    }

    fn ping(b: FdtBuilder) -> FdtBuilder {
        b.begin("ping")
            .prop("partitions", b"p\0q\0")
            .prop_cells("interrupts", &[48, 49])
            .end()
    }

    #[test]
    fn duplicate_channel_names_are_rejected() {
        // dtc merges same-named nodes, so build the blob by hand.
        let dtb = root_with(|b| ping(ping(b.begin("channels"))).end());
        let e = Config::parse(&dtb).expect_err("two channels called ping");
        assert_eq!(e.kind, ErrorKind::DuplicateName);
        assert_eq!(e.node.as_str(), "/channels/ping");
        assert_eq!(e.partition, None);
    }

    #[test]
    fn a_second_channels_node_is_rejected() {
        let dtb = root_with(|b| ping(b.begin("channels")).end().begin("channels").end());
        let e = Config::parse(&dtb).expect_err("two channels nodes");
        assert_eq!(e.kind, ErrorKind::DuplicateName);
        assert_eq!(e.node.as_str(), "/channels");
    }

    #[test]
    fn more_than_max_channels_is_rejected() {
        let channels: String = (0..=MAX_CHANNELS)
            .map(|i| format!("c{i} {{ partitions = \"linux\", \"rtos\"; interrupts = <48 49>; }};"))
            .collect();
        let e = parse_error(&two(&channels));
        assert_eq!(
            e.kind,
            ErrorKind::TooMany {
                what: "channels",
                max: MAX_CHANNELS
            }
        );
        assert_eq!(e.node.as_str(), format!("/channels/c{MAX_CHANNELS}"));
    }

    #[test]
    fn a_bad_root_child_after_channels_is_reported_first() {
        let dts = two(r#"ping { partitions = "linux"; interrupts = <48 49>; };"#)
            .replace("\n};\n", "\n chosen { };\n};\n");
        let e = Config::parse(&compile(&dts)).expect_err("chosen is not allowed");
        assert_eq!(e.node.as_str(), "/chosen");
        assert!(
            format!("{e}").ends_with("allowed here: partitions, channels"),
            "{e}"
        );
    }
}
