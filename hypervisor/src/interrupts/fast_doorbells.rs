//! The doorbell fast path's tables (`arch::doorbell_fast_path`), kept in step with the
//! partitions' virtual distributors, and the general path's share of its work.
//!
//! The assembly answers BULKHEAD_DOORBELL_RING at the sender's vector and injects the doorbell
//! at the receiver's, with no lock and nothing saved, from tables this module fills: for each
//! sender CPU and doorbell index, the CPU the peer routes that doorbell to and its flag there
//! (while the peer partition runs); for each receiving CPU and doorbell index, the list register
//! value that injects it (while the guest has it enabled, its group enabled, and routed to that
//! CPU's vCPU). The tables are recomputed whenever a guest writes its virtual distributor and
//! when a partition restarts; a CPU's receiving side is cleared when its vCPU stops.
//!
//! Whatever the assembly cannot do goes to the general path, which stays the authority: a
//! zero entry or a peer not running sends the hypercall there (which answers PEER_DOWN or
//! latches the pending state as before); a raised flag the receiver cannot inject (a list
//! register in use, the doorbell disabled or routed elsewhere, more than one flag) reaches
//! [`InterruptState::take_fast_doorbells`], which rings each through
//! [`InterruptState::ring_doorbell`]. A stale entry therefore costs a detour, never a wrong
//! delivery: the receiving CPU's own table decides, and it is written from the same state.
// Panic guards: guest-controlled distributor state reaches this module.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![forbid(unsafe_code)]

use bulkhead_config::MAX_CHANNELS;

use crate::partition::PartitionState;
use crate::system::System;
use crate::vgic::list_registers::ListEntry;

use super::gic::{FastRing, PhysicalGic};
use super::state::InterruptState;

/// One lock for every recomputation, so two CPUs recomputing at once cannot leave the older
/// result last.
static PUBLISH: spin::Mutex<()> = spin::Mutex::new(());

impl<G: PhysicalGic> InterruptState<G> {
    /// Where doorbell `intid` of partition `receiver` goes when rung now: the physical CPU of
    /// the vCPU it is routed to and the list register entry that injects it, or `None` (the
    /// partition is not running, or has the doorbell disabled or its group off; or this is a
    /// GICv2, where the fast path is off).
    pub fn fast_target(
        &self,
        system: &System,
        receiver: usize,
        intid: u32,
    ) -> Option<(usize, ListEntry)> {
        if !self.gic.is_v3() {
            return None;
        }
        let partition = system.partitions.get(receiver)?;
        if partition.state() != PartitionState::Running {
            return None;
        }
        let irq = self
            .distributors
            .get(receiver)?
            .lock()
            .as_ref()?
            .forwarded_software_spi(intid)?;
        let cpu = *partition.cpus.get(irq.target)?;
        let entry = ListEntry {
            group1: irq.group1,
            ..ListEntry::virtual_irq(intid, irq.priority, 0)
        };
        Some((cpu, entry))
    }

    /// Sender CPUs' entry for doorbell `index` of `sender` (index in `system.partitions`).
    fn fast_ring(&self, system: &System, sender: usize, index: usize) -> Option<FastRing> {
        let bell = system.partitions.get(sender)?.doorbells.get(index)?;
        let receiver = usize::from(bell.peer?);
        let peer = system.partitions.get(receiver)?;
        // The receiver's doorbell index of the same channel: its flag.
        let slot = peer.doorbells.iter().position(|theirs| {
            theirs.peer.map(usize::from) == Some(sender) && theirs.intid == bell.peer_intid
        })?;
        let (target_cpu, _) = self.fast_target(system, receiver, bell.peer_intid)?;
        Some(FastRing {
            target_cpu,
            slot,
            peer_state: peer.state_address(),
        })
    }

    /// Recomputes the fast path's tables and writes them.
    pub fn publish_fast_doorbells(&self, system: &System) {
        let _one_at_a_time = PUBLISH.lock();
        for (index, partition) in system.partitions.iter().enumerate() {
            for slot in 0..MAX_CHANNELS {
                let bell = partition.doorbells.get(slot);
                // Receiving side: each of its CPUs injects only what is routed to it.
                let target = bell.and_then(|bell| self.fast_target(system, index, bell.intid));
                for &cpu in &partition.cpus {
                    let lr = match target {
                        Some((to, entry)) if to == cpu => entry.encode_v3(),
                        _ => 0,
                    };
                    self.gic.set_fast_doorbell_lr(cpu, slot, lr);
                }
                // Sending side.
                let ring = bell.and_then(|_| self.fast_ring(system, index, slot));
                for &cpu in &partition.cpus {
                    self.gic.set_fast_ring(cpu, slot, ring);
                }
            }
        }
    }

    /// CPU `cpu`'s vCPU stopped: its doorbells go to the general path and raised flags are
    /// dropped (a stop discards everything pending).
    pub fn clear_fast_receiver(&self, cpu: usize) {
        for slot in 0..MAX_CHANNELS {
            self.gic.set_fast_doorbell_lr(cpu, slot, 0);
        }
        let _ = self.gic.take_fast_doorbells(cpu);
    }

    /// The general path's share of the fast path on CPU `cpu`: each doorbell flag raised for
    /// it is rung through [`InterruptState::ring_doorbell`] (which latches, routes, queues or
    /// drops it as the partition's state says).
    pub fn take_fast_doorbells(&self, system: &System, cpu: usize) {
        let raised = self.gic.take_fast_doorbells(cpu);
        if raised == 0 {
            return;
        }
        let Some(slot) = system.slots.get(cpu).copied().flatten() else {
            return;
        };
        let Some(partition) = system.partitions.get(slot.partition) else {
            return;
        };
        for (index, bell) in partition.doorbells.iter().enumerate() {
            if raised & (1 << index) != 0 {
                let _ = self.ring_doorbell(system, slot.partition, bell.intid);
            }
        }
    }
}
