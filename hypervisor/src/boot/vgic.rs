//! Each partition's virtual distributor: which SPIs it owns in hardware, which doorbells (and
//! watchdog interrupt) it models in software, and where its hardware SPIs go until its guest routes them.

use bulkhead_config::model::PartitionConfig;

use crate::host_dt::Gic;
use crate::system::Partition;
use crate::vgic::distributor::GicVersion;
use crate::vgic::{IntidSet, FIRST_SPI, MAX_INTIDS};

use super::platform::{BootPlatform, VirtualGic};

/// The virtual distributor of `partition` (already given its CPUs and doorbells) on a host with
/// `gic`.
pub fn virtual_gic(gic: &Gic, partition: &Partition, config: &PartitionConfig<'_>) -> VirtualGic {
    let mut hardware = IntidSet::default();
    for device in &config.devices {
        for &intid in &device.interrupts {
            hardware.insert(intid);
        }
    }
    let mut software = crate::doorbell::receiving_intids(&partition.doorbells);
    if partition.console.is_some() {
        software.insert(bulkhead_config::CONSOLE_INTID);
    }
    // Its virtio devices' interrupts (serial links, vsock) are purely virtual too: the
    // hypervisor's device models raise them.
    for end in &partition.virtio {
        software.insert(end.intid);
    }
    if let Some(vsock) = &partition.vsock {
        software.insert(vsock.intid);
    }
    if let Some(watchdog) = &partition.watchdog {
        // The watchdog's WS0 interrupt is purely virtual, as a doorbell's.
        software.insert(watchdog.intid);
    }
    VirtualGic {
        version: match gic {
            Gic::V2 { .. } => GicVersion::V2,
            Gic::V3 { .. } => GicVersion::V3,
        },
        vcpus: partition.cpus.len(),
        hardware,
        software,
        boot_cpu: partition.cpus.first().copied().unwrap_or(0),
    }
}

/// The hardware SPIs of `gic`, in order.
pub fn hardware_spis(gic: &VirtualGic) -> impl Iterator<Item = u32> + '_ {
    (FIRST_SPI..MAX_INTIDS as u32).filter(|&intid| gic.hardware.contains(intid))
}

/// Gives partition `index` its virtual distributor, with its hardware SPIs routed to its first
/// vCPU's CPU. Nothing without a host GIC: such partitions get no interrupts.
pub fn setup_virtual_gic(
    platform: &mut impl BootPlatform,
    host_gic: Option<Gic>,
    index: usize,
    partition: &Partition,
    config: &PartitionConfig<'_>,
) {
    let Some(host_gic) = host_gic else {
        return;
    };
    let gic = virtual_gic(&host_gic, partition, config);
    for intid in hardware_spis(&gic) {
        platform.route_spi(intid, gic.boot_cpu);
    }
    platform.init_virtual_gic(index, &gic);
}
