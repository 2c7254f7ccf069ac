//! Checking a partition's virtio-vsock device and the vsock channels: `vsock-cid` and the
//! `vsock` node come together; the CID is not reserved (0, 1, 2, 0xffffffff) and no earlier
//! partition has it; the window is one page-aligned 4 KiB page apart from the partition's
//! memory, devices, console, watchdog frames and management window; the interrupt is a virtual
//! SPI the partition uses for nothing else; both ends of a vsock channel have a device.

use crate::error::{ConfigError, ErrorKind};
use crate::limits::{CONSOLE_INTID, MAX_DOORBELL_INTID};
use crate::model::{Channel, ChannelKind, Config, PartitionConfig, VSOCK_WINDOW_SIZE};
use crate::report::Report;
use crate::text::bounded;

use super::PAGE_SIZE;

/// CIDs no partition may have: the hypervisor's, loopback, the host's, and `VMADDR_CID_ANY`.
fn reserved(cid: u32) -> bool {
    cid <= 2 || cid == u32::MAX
}

/// Checks the vsock device of partition `index` (`partition`) of `config`, if it has one.
pub(super) fn check(
    config: &Config<'_>,
    index: usize,
    partition: &PartitionConfig<'_>,
    report: &mut Report,
) {
    let at_partition = |kind| ConfigError::at(Some(index), &["partitions", partition.name], kind);
    let at_node =
        |kind| ConfigError::at(Some(index), &["partitions", partition.name, "vsock"], kind);
    let (cid, device) = match (partition.vsock_cid, partition.vsock) {
        (None, None) => return,
        (Some(_), None) => {
            let why = "`vsock-cid` without a `vsock` node (the device's window and interrupt)";
            report.push(at_partition(ErrorKind::BadVsock { why }));
            return;
        }
        (None, Some(_)) => {
            let why = "a `vsock` node without the partition's `vsock-cid`";
            report.push(at_node(ErrorKind::BadVsock { why }));
            return;
        }
        (Some(cid), Some(device)) => (cid, device),
    };
    if reserved(cid) {
        report.push(at_partition(ErrorKind::BadVsockCid { cid }));
    } else if let Some(other) = config
        .partitions
        .get(..index)
        .unwrap_or_default()
        .iter()
        .find(|p| p.vsock_cid == Some(cid))
    {
        let other = bounded(other.name);
        report.push(at_partition(ErrorKind::VsockCidTwice { cid, other }));
    }
    let window = device.window;
    let bad = |why| at_node(ErrorKind::BadVsockWindow { why, range: window });
    if window.size != VSOCK_WINDOW_SIZE {
        report.push(bad("is not 4 KiB (0x1000 bytes)"));
    }
    if !window.start.is_multiple_of(PAGE_SIZE) {
        report.push(bad("is not page-aligned"));
    }
    let memory = partition.memory.iter().map(|r| ("overlaps memory", r.ipa));
    let devices = partition
        .devices
        .iter()
        .map(|d| ("overlaps a device", d.ipa_range()));
    let console = partition.console.map(|c| ("overlaps the console", c));
    let management = partition
        .management
        .map(|m| ("overlaps the management window", m));
    let watchdog = partition.watchdog.into_iter().flat_map(|w| {
        [
            ("overlaps the watchdog's control frame", w.control),
            ("overlaps the watchdog's refresh frame", w.refresh),
        ]
    });
    for (why, other) in memory
        .chain(devices)
        .chain(console)
        .chain(management)
        .chain(watchdog)
    {
        if other.overlaps(&window) {
            report.push(bad(why));
        }
    }
    let intid = device.intid;
    let why = if !(32..=MAX_DOORBELL_INTID).contains(&intid) {
        Some("it is not a virtual shared peripheral interrupt")
    } else if partition
        .devices
        .iter()
        .any(|d| d.interrupts.contains(&intid))
    {
        Some("a passthrough device of the partition uses it")
    } else if config
        .channels_of(partition.name)
        .any(|(channel, end)| channel.ends.get(end).is_some_and(|e| e.intid == intid))
    {
        Some("a doorbell of the partition uses it")
    } else if partition.watchdog.is_some_and(|w| w.intid == intid) {
        Some("the partition's watchdog uses it")
    } else if partition.console.is_some() && intid == CONSOLE_INTID {
        Some("the partition's virtual console uses it")
    } else {
        None
    };
    if let Some(why) = why {
        report.push(at_node(ErrorKind::BadVsockIrq { intid, why }));
    }
}

/// Checks that both ends (`ends`: their partition indices) of vsock channel `channel` have a
/// vsock device.
pub(super) fn check_channel_ends(
    config: &Config<'_>,
    channel: &Channel<'_>,
    ends: [usize; 2],
    report: &mut Report,
) {
    debug_assert_eq!(channel.kind, ChannelKind::Vsock);
    for index in ends {
        let Some(partition) = config.partitions.get(index) else {
            continue;
        };
        if partition.vsock_cid.is_none() || partition.vsock.is_none() {
            let kind = ErrorKind::VsockChannelEnd {
                partition: bounded(partition.name),
            };
            report.push(ConfigError::at(
                Some(index),
                &["channels", channel.name],
                kind,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use crate::error::ErrorKind;
    use crate::model::{ChannelKind, VsockDevice};
    use crate::range::Range;
    use crate::test_support::{
        config_with_channels, messages, parse_error, validation_errors, with_parsed, LINUX, RTOS,
    };
    use std::format;
    use std::string::String;

    const LINUX_VSOCK: &str =
        "vsock-cid = <3>; vsock { reg = <0x0 0x0a003000 0x0 0x1000>; interrupts = <80>; };";
    const RTOS_VSOCK: &str =
        "vsock-cid = <4>; vsock { reg = <0x0 0x0a003000 0x0 0x1000>; interrupts = <80>; };";
    const CHANNEL: &str = r#"link { partitions = "linux", "rtos"; kind = "vsock"; };"#;

    /// LINUX and RTOS, each with `extra` before its kernel node, and `channels`.
    fn two(linux: &str, rtos: &str, channels: &str) -> String {
        // Properties go before the partition's nodes, the `vsock` node before its kernel.
        let put = |p: &str, extra: &str| {
            let (props, nodes) = extra.split_at(extra.find("vsock {").unwrap_or(extra.len()));
            p.replacen("cpus = ", &format!("{props} cpus = "), 1)
                .replacen("kernel {", &format!("{nodes} kernel {{"), 1)
        };
        config_with_channels(
            &format!("{}{}", put(LINUX, linux), put(RTOS, rtos)),
            channels,
        )
    }

    fn single_error(text: &str) -> (String, ErrorKind) {
        let errors = validation_errors(text);
        assert_eq!(errors.len(), 1, "{}", messages(&errors));
        (
            String::from(errors[0].node.as_str()),
            errors[0].kind.clone(),
        )
    }

    #[test]
    fn a_vsock_channel_between_two_devices_is_parsed_and_valid() {
        let text = two(LINUX_VSOCK, RTOS_VSOCK, CHANNEL);
        let errors = validation_errors(&text);
        assert!(errors.is_empty(), "{}", messages(&errors));
        with_parsed(&text, |c| {
            assert_eq!(c.partitions[0].vsock_cid, Some(3));
            assert_eq!(
                c.partitions[1].vsock,
                Some(VsockDevice {
                    window: Range::new(0x0a00_3000, 0x1000),
                    intid: 80
                })
            );
            assert_eq!(c.channels[0].kind, ChannelKind::Vsock);
            assert_eq!(c.channels[0].ends[0].intid, 0);
        });
    }

    #[test]
    fn cids_are_not_reserved_and_not_shared() {
        for cid in [0u32, 1, 2, 0xffff_ffff] {
            let linux = LINUX_VSOCK.replace("<3>", &format!("<{cid:#x}>"));
            let (node, kind) = single_error(&two(&linux, RTOS_VSOCK, CHANNEL));
            assert_eq!(node, "/partitions/linux");
            assert_eq!(kind, ErrorKind::BadVsockCid { cid });
        }
        let rtos = RTOS_VSOCK.replace("<4>", "<3>");
        let (node, kind) = single_error(&two(LINUX_VSOCK, &rtos, CHANNEL));
        assert_eq!(node, "/partitions/rtos");
        assert!(
            matches!(kind, ErrorKind::VsockCidTwice { cid: 3, .. }),
            "{kind:?}"
        );
    }

    #[test]
    fn cid_and_device_come_together() {
        let (node, kind) = single_error(&two("vsock-cid = <3>;", "", ""));
        assert_eq!(node, "/partitions/linux");
        assert!(matches!(kind, ErrorKind::BadVsock { .. }));
        let device = "vsock { reg = <0x0 0x0a003000 0x0 0x1000>; interrupts = <80>; };";
        let (node, kind) = single_error(&two(device, "", ""));
        assert_eq!(node, "/partitions/linux/vsock");
        assert!(matches!(kind, ErrorKind::BadVsock { .. }));
    }

    #[test]
    fn the_window_is_one_free_page() {
        for (window, why) in [
            ("<0x0 0x0a003000 0x0 0x200>", "is not 4 KiB (0x1000 bytes)"),
            ("<0x0 0x0a003100 0x0 0x1000>", "is not page-aligned"),
            ("<0x0 0x40000000 0x0 0x1000>", "overlaps memory"),
        ] {
            let linux = LINUX_VSOCK.replace("<0x0 0x0a003000 0x0 0x1000>", window);
            let errors = validation_errors(&two(&linux, RTOS_VSOCK, CHANNEL));
            assert!(
                errors.iter().any(
                    |e| matches!(e.kind, ErrorKind::BadVsockWindow { why: w, .. } if w == why)
                        && e.node.as_str() == "/partitions/linux/vsock"
                ),
                "{window}: {}",
                messages(&errors)
            );
        }
    }

    #[test]
    fn the_interrupt_is_a_free_virtual_spi() {
        for intid in ["<20>", "<600>"] {
            let linux = LINUX_VSOCK.replace("<80>", intid);
            let (node, kind) = single_error(&two(&linux, RTOS_VSOCK, CHANNEL));
            assert_eq!(node, "/partitions/linux/vsock");
            assert!(
                matches!(kind, ErrorKind::BadVsockIrq { .. }),
                "{intid}: {kind:?}"
            );
        }
        let doorbell = r#"ping { partitions = "linux", "rtos"; interrupts = <80 81>; };"#;
        let (node, kind) = single_error(&two(
            LINUX_VSOCK,
            RTOS_VSOCK,
            &format!("{CHANNEL} {doorbell}"),
        ));
        assert_eq!(node, "/partitions/linux/vsock");
        assert!(matches!(kind, ErrorKind::BadVsockIrq { intid: 80, .. }));
    }

    #[test]
    fn both_ends_of_a_vsock_channel_need_a_device() {
        let (node, kind) = single_error(&two(LINUX_VSOCK, "", CHANNEL));
        assert_eq!(node, "/channels/link");
        assert_eq!(
            kind,
            ErrorKind::VsockChannelEnd {
                partition: crate::text::bounded("rtos")
            }
        );
    }

    #[test]
    fn a_vsock_channel_has_no_interrupts_and_kinds_are_known() {
        let with_irqs =
            r#"link { partitions = "linux", "rtos"; kind = "vsock"; interrupts = <48 49>; };"#;
        let e = parse_error(&two(LINUX_VSOCK, RTOS_VSOCK, with_irqs));
        assert_eq!(e.node.as_str(), "/channels/link");
        assert!(format!("{e}").contains("no doorbells"), "{e}");
        let bad_kind = r#"link { partitions = "linux", "rtos"; kind = "tcp"; };"#;
        let e = parse_error(&two(LINUX_VSOCK, RTOS_VSOCK, bad_kind));
        assert!(
            format!("{e}").contains("\"doorbell\", \"serial\" or \"vsock\""),
            "{e}"
        );
    }
}
