//! A partition's access to one of its virtio-mmio devices: the register access on its side of
//! the link, then the link's work with both partitions' RAM, then each side's interrupt line
//! (level: high while its InterruptStatus is not zero), driven after the link's lock is let go.

use crate::arch::virtio_memory::PartitionGuestMemory;
use crate::devices::{self, DeviceAccess, DeviceEffects, MmioFault};
use crate::interrupts;
use crate::system::{Partition, System};
use crate::virtio::links::LINKS;

/// Performs `access` on device `index` of `partition`.
pub fn access(
    system: &System,
    partition: &Partition,
    index: u8,
    access: DeviceAccess,
    store: Option<u64>,
) -> Result<u64, MmioFault> {
    if index == crate::virtio::vsock::board::VSOCK_DEVICE {
        return super::vsock_board::access(system, partition, access, store);
    }
    let Some(end) = partition.virtio.get(usize::from(index)) else {
        return Ok(0);
    };
    let own = partition.id - 1;
    let peer = usize::from(end.peer);
    let side = usize::from(end.side);
    let Some(slot) = LINKS.get(usize::from(end.link)) else {
        return Ok(0);
    };
    let (value, raise, levels) = {
        let mut guard = slot.lock();
        let Some(link) = guard.as_mut() else {
            return Ok(0);
        };
        let transport = link.sides.get_mut(side).ok_or(MmioFault::Width)?;
        let value = devices::perform(transport, access, store, &mut DeviceEffects::new())?;
        let mut raise = [false; 2];
        if store.is_some() {
            let peer_partition = system.partitions.get(peer);
            if let Some(peer_partition) = peer_partition {
                let mut own_memory = PartitionGuestMemory::of(partition);
                let mut peer_memory = PartitionGuestMemory::of(peer_partition);
                raise = if side == 0 {
                    link.service(0, [&mut own_memory, &mut peer_memory])
                } else {
                    link.service(1, [&mut peer_memory, &mut own_memory])
                };
            }
        }
        let levels = link.sides.each_ref().map(|t| t.interrupt_status() != 0);
        (value, raise, levels)
    };
    // Side order to partition order: the own side is `side`.
    let (own_raise, peer_raise) = (raise[side], raise[1 - side]);
    let (own_level, peer_level) = (levels[side], levels[1 - side]);
    if own_raise || !own_level {
        interrupts::set_software_line(system, own, end.intid, own_level);
    }
    if peer_raise {
        interrupts::set_software_line(system, peer, end.peer_intid, peer_level);
    }
    Ok(value)
}

/// Resets `partition`'s virtio devices (it restarts): its peers' ports see it gone.
pub fn reset(partition: &Partition) {
    for end in &partition.virtio {
        crate::virtio::links::reset(end);
    }
    super::vsock_board::reset(partition);
}
