//! A partition's physical RAM, written by the image loader
//! ([`crate::partition::images`]).

use crate::partition::images::PartitionMemory;
use crate::system::Partition;

/// The RAM of one partition. Every write is checked to lie inside one of the partition's
/// memory regions, which the hypervisor never holds references into (they are allocated from
/// RAM outside its image, its bundle, its table pool and the host device tree).
pub struct PartitionRam<'a> {
    partition: &'a Partition,
}

impl<'a> PartitionRam<'a> {
    /// The RAM of `partition`.
    pub fn of(partition: &'a Partition) -> Self {
        PartitionRam { partition }
    }

    /// Whether `[pa, pa + len)` lies inside one of the partition's regions.
    fn owns(&self, pa: u64, len: u64) -> bool {
        self.partition.memory.iter().any(|region| {
            pa.checked_sub(region.pa)
                .and_then(|offset| offset.checked_add(len))
                .is_some_and(|end| end <= region.size)
        })
    }
}

impl PartitionMemory for PartitionRam<'_> {
    fn zero(&mut self, pa: u64, size: u64) {
        if self.owns(pa, size) {
            // SAFETY: the range is the partition's own RAM (checked above), which no Rust
            // reference points into; the loader's caller guarantees none of its vCPUs runs.
            unsafe { super::memory::zero_phys(pa, size) };
        }
    }

    fn copy(&mut self, pa: u64, data: &[u8]) {
        if self.owns(pa, data.len() as u64) {
            // SAFETY: as for `zero`.
            unsafe { super::memory::copy_to_phys(pa, data) };
        }
    }

    fn clean_invalidate_dcache(&mut self, pa: u64, size: u64) {
        super::clean_invalidate_dcache_range(pa, size);
    }

    fn clean_dcache(&mut self, pa: u64, size: u64) {
        super::clean_dcache_range(pa, size);
    }

    fn invalidate_icache(&mut self) {
        super::invalidate_icache();
    }
}
