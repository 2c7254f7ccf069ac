//! The serial links of the configuration, built once at boot, and each partition's ends of
//! them: where its virtio-mmio window is, which link and side it drives, its interrupt.
//!
//! A link is shared by the two partitions it joins, so it lives here, by channel index, behind
//! a lock that the vCPUs of both take for each access.

use bulkhead_config::model::{ChannelKind, Config, VIRTIO_WINDOW_SIZE};
use bulkhead_config::range::Range;

use super::console::SerialLink;

/// The most serial links a configuration may have (validation refuses more).
pub const MAX_LINKS: usize = bulkhead_config::MAX_SERIAL_LINKS;
/// The most virtio devices one partition has.
pub const MAX_ENDS: usize = MAX_LINKS;

/// One partition's virtio device: its end of a serial link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VirtioEnd {
    /// Its register window (IPA).
    pub window: Range,
    /// Which link ([`LINKS`] index).
    pub link: u8,
    /// Which side of it (0 or 1, the order of the channel's `partitions`).
    pub side: u8,
    /// Its interrupt: a purely virtual SPI of the partition's vGIC.
    pub intid: u32,
    /// The peer partition's index (configuration order).
    pub peer: u8,
    /// The peer's interrupt.
    pub peer_intid: u32,
}

/// A partition's virtio devices.
pub type VirtioEnds = heapless::Vec<VirtioEnd, MAX_ENDS>;

/// The serial links, by the order of the serial channels in the configuration.
pub static LINKS: [spin::Mutex<Option<SerialLink>>; MAX_LINKS] =
    [const { spin::Mutex::new(None) }; MAX_LINKS];

/// The serial channels of `config`, in order, with their link index (those past
/// [`MAX_LINKS`] get none; validation refuses such configurations).
fn serial_channels<'c, 'a>(
    config: &'c Config<'a>,
) -> impl Iterator<Item = (usize, &'c bulkhead_config::model::Channel<'a>)> + 'c {
    config
        .channels
        .iter()
        .filter(|c| c.kind == ChannelKind::Serial)
        .enumerate()
        .filter(|(link, _)| *link < MAX_LINKS)
}

/// The virtio devices of the partition called `name`.
pub fn ends_of(config: &Config<'_>, name: &str) -> VirtioEnds {
    let mut ends = VirtioEnds::new();
    for (link, channel) in serial_channels(config) {
        let Some(side) = channel.end_of(name) else {
            continue;
        };
        let (Some(own), peer) = (channel.ends.get(side), channel.peer_of(side)) else {
            continue;
        };
        let (Some(start), Some(peer_index)) = (
            own.virtio_window,
            config
                .partition_index(peer.partition)
                .and_then(|i| u8::try_from(i).ok()),
        ) else {
            continue;
        };
        let _ = ends.push(VirtioEnd {
            window: Range::new(start, VIRTIO_WINDOW_SIZE),
            link: link as u8,
            side: side as u8,
            intid: own.intid,
            peer: peer_index,
            peer_intid: peer.intid,
        });
    }
    ends
}

/// Builds every serial link of `config` (at boot, once).
pub fn init(config: &Config<'_>) {
    for (link, channel) in serial_channels(config) {
        if let Some(slot) = LINKS.get(link) {
            *slot.lock() = Some(SerialLink::new(channel.port_name.unwrap_or("serial")));
        }
    }
}

/// Resets the device of `end` (its partition restarts): its peer sees the port closed.
pub fn reset(end: &VirtioEnd) {
    if let Some(slot) = LINKS.get(usize::from(end.link)) {
        if let Some(link) = slot.lock().as_mut() {
            if let Some(side) = link.sides.get_mut(usize::from(end.side)) {
                side.reset();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bulkhead_config::test_support::compile;

    #[test]
    fn a_partition_gets_one_device_per_serial_channel_it_is_an_end_of() {
        let dts = r#"/dts-v1/;
/ {
    compatible = "bulkhead,config";
    board = "qemu-virt";
    partitions {
        a { cpus = <0>; memory@0 { reg = <0 0x40000000 0 0x1000>; }; kernel { file = "k"; load = <0 0x40000000>; }; };
        b { cpus = <1>; memory@0 { reg = <0 0x40000000 0 0x1000>; }; kernel { file = "k"; load = <0 0x40000000>; }; };
        c { cpus = <2>; memory@0 { reg = <0 0x40000000 0 0x1000>; }; kernel { file = "k"; load = <0 0x40000000>; }; };
    };
    channels {
        ping { partitions = "a", "b"; interrupts = <48 49>; };
        link { partitions = "b", "a"; interrupts = <80 81>; kind = "serial"; port-name = "x";
               virtio-windows = <0 0x0a003000 0 0x0a004000>; };
    };
};
"#;
        let dtb = compile(dts);
        let config = Config::parse(&dtb).unwrap();
        let a = ends_of(&config, "a");
        assert_eq!(
            a.as_slice(),
            &[VirtioEnd {
                window: Range::new(0x0a00_4000, 0x1000),
                link: 0,
                side: 1,
                intid: 81,
                peer: 1,
                peer_intid: 80
            }]
        );
        assert_eq!(ends_of(&config, "b")[0].side, 0);
        assert!(ends_of(&config, "c").is_empty());
    }
}
