//! Every partition's virtio-vsock device and the hub between them, built once at boot from
//! the configuration: endpoint `i` is the `i`-th partition (in configuration order) with a
//! `vsock-cid`; each vsock channel allows its two partitions to reach each other.
//!
//! [`VsockDevices::access`] is one guest access to one device's registers: the transport
//! answers it, and after a store (a QueueNotify, a status change) the hub moves what can move
//! between all devices. It returns the interrupt line level of every device whose line may
//! have changed, for the caller to drive once the lock around this table is let go.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use bulkhead_config::model::{ChannelKind, Config};
use heapless::Vec;

use super::device::VsockDevice;
use super::hub::{Endpoint, Hub};
use super::routes::{EndpointId, Routes, MAX_ENDPOINTS};
use super::switch::Switch;
use crate::devices::{self, DeviceAccess, DeviceEffects, MmioFault};
use crate::virtio::guest_memory::GuestMemory;
use crate::virtio::Transport;

/// A partition's place in the table: its endpoint and its configuration index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VsockEnd {
    /// The endpoint.
    pub endpoint: EndpointId,
    /// The partition's index in configuration order.
    pub partition: u8,
}

/// The interrupt levels after an access: `Some(level)` for each endpoint whose line may have
/// changed.
pub type Levels = [Option<bool>; MAX_ENDPOINTS];

/// The devices and the hub.
pub struct VsockDevices {
    hub: Hub,
    transports: Vec<Transport<VsockDevice>, MAX_ENDPOINTS>,
    ends: Vec<VsockEnd, MAX_ENDPOINTS>,
}

impl VsockDevices {
    /// The devices of `config` (validated), or `None` if no partition has one.
    pub fn from_config(config: &Config<'_>) -> Option<Self> {
        let mut routes = Routes::new();
        let mut transports = Vec::new();
        let mut ends = Vec::new();
        for (index, partition) in config.partitions.iter().enumerate() {
            let (Some(cid), Some(_)) = (partition.vsock_cid, partition.vsock) else {
                continue;
            };
            let Ok(endpoint) = routes.add_endpoint(u64::from(cid)) else {
                continue;
            };
            let partition = u8::try_from(index).ok()?;
            transports
                .push(Transport::new(VsockDevice::new(u64::from(cid))))
                .ok()?;
            ends.push(VsockEnd {
                endpoint,
                partition,
            })
            .ok()?;
        }
        if ends.is_empty() {
            return None;
        }
        let endpoint_of = |name: &str| {
            let index = config.partition_index(name)?;
            ends.iter()
                .find(|e| usize::from(e.partition) == index)
                .map(|e| e.endpoint)
        };
        for channel in config
            .channels
            .iter()
            .filter(|c| c.kind == ChannelKind::Vsock)
        {
            let [a, b] = channel.ends.map(|end| endpoint_of(end.partition));
            if let (Some(a), Some(b)) = (a, b) {
                let _ = routes.allow(a, b);
            }
        }
        Some(Self {
            hub: Hub::new(Switch::new(routes)),
            transports,
            ends,
        })
    }

    /// The endpoints, in order: which partition each is.
    pub fn ends(&self) -> &[VsockEnd] {
        &self.ends
    }

    /// The endpoint of partition `partition` (configuration index), if it has a device.
    pub fn end_of(&self, partition: usize) -> Option<VsockEnd> {
        self.ends
            .iter()
            .copied()
            .find(|e| usize::from(e.partition) == partition)
    }

    /// The hub (for its counters).
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// One access by endpoint `own` to its device's registers; `memories[i]` is endpoint
    /// `i`'s RAM. The value read, and the interrupt levels to drive.
    pub fn access(
        &mut self,
        own: EndpointId,
        access: DeviceAccess,
        store: Option<u64>,
        memories: &mut [&mut dyn GuestMemory],
    ) -> Result<(u64, Levels), MmioFault> {
        let mut levels: Levels = [None; MAX_ENDPOINTS];
        let index = usize::from(own.0);
        let transport = self.transports.get_mut(index).ok_or(MmioFault::Width)?;
        let value = devices::perform(transport, access, store, &mut DeviceEffects::new())?;
        if store.is_some() {
            if let Some(memory) = memories.get_mut(index) {
                transport.service(*memory);
            }
            let raise = {
                let mut endpoints: Vec<Endpoint<'_>, MAX_ENDPOINTS> = Vec::new();
                for (transport, memory) in self.transports.iter_mut().zip(memories.iter_mut()) {
                    let _ = endpoints.push(Endpoint {
                        transport,
                        memory: &mut **memory,
                    });
                }
                self.hub.pump(&mut endpoints)
            };
            for (i, level) in levels.iter_mut().enumerate() {
                if raise & (1u32 << i) != 0 || i == index {
                    *level = self.transports.get(i).map(|t| t.interrupt_status() != 0);
                }
            }
        } else if let Some(level) = levels.get_mut(index) {
            *level = Some(transport_level(&self.transports, index));
        }
        Ok((value, levels))
    }

    /// Endpoint `own`'s partition restarts: its device goes back to reset (its connections
    /// end at the next access of any device).
    pub fn reset(&mut self, own: EndpointId) {
        if let Some(transport) = self.transports.get_mut(usize::from(own.0)) {
            *transport = Transport::new(VsockDevice::new(transport.backend.cid()));
            transport.backend.reset_seen = true;
        }
    }
}

fn transport_level(transports: &[Transport<VsockDevice>], index: usize) -> bool {
    transports
        .get(index)
        .is_some_and(|t| t.interrupt_status() != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::AccessWidth;
    use crate::virtio::guest_memory::FakeMemory;
    use crate::virtio::transport::reg;
    use bulkhead_config::test_support::compile;

    const DTS: &str = r#"/dts-v1/;
/ {
    compatible = "bulkhead,config";
    board = "qemu-virt";
    partitions {
        a { cpus = <0>; vsock-cid = <3>; memory@0 { reg = <0 0x40000000 0 0x1000>; };
            kernel { file = "k"; load = <0 0x40000000>; };
            vsock { reg = <0 0x0a003000 0 0x1000>; interrupts = <80>; }; };
        b { cpus = <1>; memory@0 { reg = <0 0x40000000 0 0x1000>; };
            kernel { file = "k"; load = <0 0x40000000>; }; };
        c { cpus = <2>; vsock-cid = <7>; memory@0 { reg = <0 0x40000000 0 0x1000>; };
            kernel { file = "k"; load = <0 0x40000000>; };
            vsock { reg = <0 0x0a003000 0 0x1000>; interrupts = <80>; }; };
        d { cpus = <3>; vsock-cid = <9>; memory@0 { reg = <0 0x40000000 0 0x1000>; };
            kernel { file = "k"; load = <0 0x40000000>; };
            vsock { reg = <0 0x0a003000 0 0x1000>; interrupts = <80>; }; };
    };
    channels {
        link { partitions = "c", "a"; kind = "vsock"; };
    };
};
"#;

    #[test]
    fn endpoints_and_routes_come_from_the_configuration() {
        let dtb = compile(DTS);
        let config = Config::parse(&dtb).unwrap();
        let devices = VsockDevices::from_config(&config).unwrap();
        let partitions: std::vec::Vec<u8> = devices.ends().iter().map(|e| e.partition).collect();
        assert_eq!(partitions, [0, 2, 3]);
        assert_eq!(devices.end_of(1), None);
        let routes = devices.hub().switch().routes();
        let [a, c, d] = [0, 2, 3].map(|p| devices.end_of(p).unwrap().endpoint);
        assert!(routes.allows(a, c) && routes.allows(c, a));
        assert!(!routes.allows(d, a) && !routes.allows(d, c));
        assert_eq!(routes.cid_of(d), Some(9));
    }

    #[test]
    fn a_device_reports_its_cid_and_id_through_its_registers() {
        let dtb = compile(DTS);
        let config = Config::parse(&dtb).unwrap();
        let mut devices = VsockDevices::from_config(&config).unwrap();
        let mut memories: std::vec::Vec<FakeMemory> = (0..3)
            .map(|_| FakeMemory::new(0x4000_0000, 0x1000))
            .collect();
        let mut views: std::vec::Vec<&mut dyn GuestMemory> = memories
            .iter_mut()
            .map(|m| m as &mut dyn GuestMemory)
            .collect();
        let read = |devices: &mut VsockDevices, views: &mut [&mut dyn GuestMemory], offset| {
            let access = DeviceAccess {
                offset,
                width: AccessWidth::Word,
                vcpu: 0,
            };
            devices
                .access(EndpointId(1), access, None, views)
                .unwrap()
                .0
        };
        assert_eq!(read(&mut devices, &mut views, reg::DEVICE_ID), 19);
        assert_eq!(read(&mut devices, &mut views, reg::CONFIG), 7);
        // A status write runs the hub; nothing is live, nothing moves, nothing breaks.
        let access = DeviceAccess {
            offset: reg::STATUS,
            width: AccessWidth::Word,
            vcpu: 0,
        };
        let (_, levels) = devices
            .access(EndpointId(1), access, Some(1), &mut views)
            .unwrap();
        assert_eq!(levels[1], Some(false));
    }
}
