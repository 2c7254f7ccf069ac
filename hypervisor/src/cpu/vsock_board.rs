//! A partition's access to its virtio-vsock device: the register access and the hub's work
//! under the table's lock, with every vsock partition's RAM; then each device's interrupt line
//! whose level may have changed (level: high while its InterruptStatus is not zero), driven
//! after the lock is let go.

use crate::arch::virtio_memory::PartitionGuestMemory;
use crate::devices::{DeviceAccess, MmioFault};
use crate::interrupts;
use crate::system::{Partition, System};
use crate::virtio::guest_memory::GuestMemory;
use crate::virtio::vsock::board::VSOCK;
use crate::virtio::vsock::routes::MAX_ENDPOINTS;

/// Performs `access` on `partition`'s vsock device.
pub fn access(
    system: &System,
    partition: &Partition,
    access: DeviceAccess,
    store: Option<u64>,
) -> Result<u64, MmioFault> {
    let Some(own) = partition.vsock else {
        return Ok(0);
    };
    let mut lines: [(usize, u32, bool); MAX_ENDPOINTS] = [(usize::MAX, 0, false); MAX_ENDPOINTS];
    let value = {
        let mut guard = VSOCK.lock();
        let Some(devices) = guard.as_mut() else {
            return Ok(0);
        };
        let mut memories: heapless::Vec<PartitionGuestMemory<'_>, MAX_ENDPOINTS> =
            heapless::Vec::new();
        let mut owners: [usize; MAX_ENDPOINTS] = [usize::MAX; MAX_ENDPOINTS];
        for (i, end) in devices.ends().iter().enumerate() {
            let index = usize::from(end.partition);
            let Some(p) = system.partitions.get(index) else {
                return Ok(0);
            };
            if memories.push(PartitionGuestMemory::of(p)).is_err() {
                return Ok(0);
            }
            if let Some(slot) = owners.get_mut(i) {
                *slot = index;
            }
        }
        let mut views: heapless::Vec<&mut dyn GuestMemory, MAX_ENDPOINTS> = heapless::Vec::new();
        for memory in memories.iter_mut() {
            let _ = views.push(memory);
        }
        let (value, levels) = devices.access(own.endpoint, access, store, &mut views)?;
        for (i, level) in levels.iter().enumerate() {
            let (Some(level), Some(&index), Some(line)) = (level, owners.get(i), lines.get_mut(i))
            else {
                continue;
            };
            let intid = system
                .partitions
                .get(index)
                .and_then(|p| p.vsock)
                .map_or(0, |w| w.intid);
            *line = (index, intid, *level);
        }
        value
    };
    for (index, intid, level) in lines {
        if index != usize::MAX && intid != 0 {
            interrupts::set_software_line(system, index, intid, level);
        }
    }
    Ok(value)
}

/// Resets `partition`'s vsock device (it restarts): its connections end with RSTs to peers.
pub fn reset(partition: &Partition) {
    if let Some(own) = partition.vsock {
        if let Some(devices) = VSOCK.lock().as_mut() {
            devices.reset(own.endpoint);
        }
    }
}
