//! The real [`GuestMemory`] of a virtio device: a partition's RAM by IPA, translated through
//! that partition's own memory plan (the same ranges its stage-2 tables map) and copied
//! through [`PartitionRam`], which refuses anything outside the partition's regions.

use core::sync::atomic::{fence, Ordering};

use super::partition_ram::PartitionRam;
use crate::system::Partition;
use crate::virtio::guest_memory::{GuestMemory, OutsideRam};

/// One partition's RAM as its virtio devices see it.
pub struct PartitionGuestMemory<'a> {
    partition: &'a Partition,
}

impl<'a> PartitionGuestMemory<'a> {
    /// The RAM of `partition`.
    pub fn of(partition: &'a Partition) -> Self {
        PartitionGuestMemory { partition }
    }

    fn pa(&self, ipa: u64, len: usize) -> Result<u64, OutsideRam> {
        self.partition.ram_to_pa(ipa, len as u64).ok_or(OutsideRam {
            ipa,
            len: len as u64,
        })
    }
}

impl GuestMemory for PartitionGuestMemory<'_> {
    fn contains(&self, ipa: u64, len: u64) -> bool {
        self.partition.ram_to_pa(ipa, len).is_some()
    }

    fn read(&self, ipa: u64, out: &mut [u8]) -> Result<(), OutsideRam> {
        let pa = self.pa(ipa, out.len())?;
        PartitionRam::of(self.partition)
            .read(pa, out)
            .then_some(())
            .ok_or(OutsideRam {
                ipa,
                len: out.len() as u64,
            })
    }

    fn write(&mut self, ipa: u64, data: &[u8]) -> Result<(), OutsideRam> {
        let pa = self.pa(ipa, data.len())?;
        PartitionRam::of(self.partition)
            .write(pa, data)
            .then_some(())
            .ok_or(OutsideRam {
                ipa,
                len: data.len() as u64,
            })
    }

    fn read_barrier(&self) {
        fence(Ordering::Acquire);
    }

    fn write_barrier(&self) {
        fence(Ordering::Release);
    }
}
