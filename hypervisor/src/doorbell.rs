//! Doorbells between partitions: each partition's ends of the configuration's channels.
//!
//! A channel joins two partitions and gives each a doorbell INTID: a purely virtual SPI in
//! that partition's virtual distributor, which the guest enables, routes and prioritises like
//! any SPI. Ringing (`BULKHEAD_DOORBELL_RING`) makes the *peer's* INTID pending there. A
//! partition's doorbells are its channels in configuration order; a doorbell's position in
//! that list is the index guests pass to the hypercalls (`docs/guest-abi.md`). The table is
//! built once at boot from the validated configuration and never changes; shared memory, the
//! rest of a channel, will hang off the same entries.
// Panic guards: guest input (doorbell indices) reaches this module.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]
#![forbid(unsafe_code)]

use bulkhead_config::model::{ChannelKind, Config};
use bulkhead_config::MAX_CHANNELS;

use crate::vgic::IntidSet;

/// One of a partition's doorbells: the channel it belongs to, seen from this partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Doorbell {
    /// The peer partition's index in configuration order (its id - 1). `None` only if the
    /// configuration names no such partition, which validation refuses this partition for.
    /// (A byte: a table per partition lives in every [`crate::system::Partition`], which boot
    /// builds and moves as a whole.)
    pub peer: Option<u8>,
    /// The INTID that becomes pending in the peer when this partition rings.
    pub peer_intid: u32,
    /// The INTID that becomes pending in this partition when the peer rings.
    pub intid: u32,
}

impl Doorbell {
    /// The peer's partition id (1-based), or 0 when there is no such partition.
    pub fn peer_id(&self) -> usize {
        self.peer.map_or(0, |index| usize::from(index) + 1)
    }
}

/// A partition's doorbells, by index.
pub type Doorbells = heapless::Vec<Doorbell, MAX_CHANNELS>;

/// The doorbells of the partition called `name`: one per doorbell channel it is an end of, in
/// configuration order. Serial and vsock channels are no doorbells: their INTIDs are their
/// virtio devices' interrupts, which only the device raises (a ring on one would make the
/// peer's device interrupt pending at the caller's will).
pub fn doorbells_of(config: &Config<'_>, name: &str) -> Doorbells {
    config
        .channels_of(name)
        .filter(|(channel, _)| channel.kind == ChannelKind::Doorbell)
        .map(|(channel, end)| {
            let peer = channel.peer_of(end);
            Doorbell {
                peer: config
                    .partition_index(peer.partition)
                    .and_then(|index| u8::try_from(index).ok()),
                peer_intid: peer.intid,
                intid: channel.ends.get(end).map_or(0, |own| own.intid),
            }
        })
        .collect()
}

/// The purely virtual SPIs a partition with `doorbells` receives them on: what its virtual
/// distributor models in software.
pub fn receiving_intids(doorbells: &[Doorbell]) -> IntidSet {
    let mut set = IntidSet::default();
    for doorbell in doorbells {
        set.insert(doorbell.intid);
    }
    set
}

/// The peer of a doorbell is not running: nothing was made pending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerDown;

#[cfg(test)]
mod tests {
    use super::*;
    use bulkhead_config::test_support::compile;

    const CONFIG: &str = r#"/dts-v1/;
/ {
    compatible = "bulkhead,config";
    board = "qemu-virt";
    partitions {
        a { cpus = <0>; memory@0 { reg = <0 0 0 0x1000>; }; kernel { file = "k"; load = <0 0>; }; };
        b { cpus = <1>; memory@0 { reg = <0 0 0 0x1000>; }; kernel { file = "k"; load = <0 0>; }; };
        c { cpus = <2>; memory@0 { reg = <0 0 0 0x1000>; }; kernel { file = "k"; load = <0 0>; }; };
    };
    channels {
        ping { partitions = "a", "b"; interrupts = <48 49>; };
        side { partitions = "c", "b"; interrupts = <40 50>; };
        back { partitions = "b", "a"; interrupts = <51 52>; };
    };
};
"#;

    #[test]
    fn a_partitions_doorbells_are_its_channels_in_configuration_order() {
        let dtb = compile(CONFIG);
        let config = Config::parse(&dtb).expect("valid");
        let b = doorbells_of(&config, "b");
        assert_eq!(
            b.as_slice(),
            &[
                Doorbell {
                    peer: Some(0),
                    peer_intid: 48,
                    intid: 49
                },
                Doorbell {
                    peer: Some(2),
                    peer_intid: 40,
                    intid: 50
                },
                Doorbell {
                    peer: Some(0),
                    peer_intid: 52,
                    intid: 51
                },
            ]
        );
        assert_eq!(b[1].peer_id(), 3);
        let a = doorbells_of(&config, "a");
        assert_eq!(a.len(), 2);
        assert_eq!((a[0].intid, a[0].peer_intid), (48, 49));
        assert_eq!((a[1].intid, a[1].peer_intid), (52, 51));
        assert!(doorbells_of(&config, "nobody").is_empty());
    }

    #[test]
    fn serial_channels_are_no_doorbells() {
        let text = CONFIG.replace(
            "side { partitions = \"c\", \"b\"; interrupts = <40 50>; };",
            "side { partitions = \"c\", \"b\"; interrupts = <40 50>; kind = \"serial\"; \
             port-name = \"p\"; virtio-windows = <0 0x0a003000 0 0x0a003000>; };",
        );
        assert_ne!(text, CONFIG);
        let dtb = compile(&text);
        let config = Config::parse(&dtb).expect("valid");
        let b = doorbells_of(&config, "b");
        assert_eq!(
            b.iter().map(|d| d.intid).collect::<std::vec::Vec<_>>(),
            [49, 51],
            "the serial channel's INTID 50 is its virtio device's, not a doorbell"
        );
        assert!(doorbells_of(&config, "c").is_empty());
    }

    #[test]
    fn doorbells_are_received_on_purely_virtual_spis() {
        let dtb = compile(CONFIG);
        let config = Config::parse(&dtb).expect("valid");
        let set = receiving_intids(&doorbells_of(&config, "b"));
        for intid in [49, 50, 51] {
            assert!(set.contains(intid), "{intid}");
        }
        assert!(!set.contains(48) && !set.contains(52));
        assert_eq!(
            Doorbell {
                peer: None,
                peer_intid: 0,
                intid: 0
            }
            .peer_id(),
            0
        );
    }
}
