//! A partition's physical RAM, as the hypervisor touches it: written by the image loader
//! ([`crate::partition::images`]), read and written by hypercalls that pass buffers
//! ([`crate::caller`]), read for fault reports. Every access is checked to lie in the
//! partition's own RAM, so callers need no `unsafe`.

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

impl PartitionRam<'_> {
    /// Copies `out.len()` bytes from the partition's RAM at `pa`; `false` (and nothing read)
    /// unless the whole range is its RAM.
    ///
    /// A guest with its MMU off reads and writes memory past the caches: any stale line EL2
    /// may hold is dropped first (EL2 never leaves dirty lines in partition RAM, so nothing of
    /// the guest's is lost).
    pub fn read(&self, pa: u64, out: &mut [u8]) -> bool {
        if !self.owns(pa, out.len() as u64) {
            return false;
        }
        super::clean_invalidate_dcache_range(pa, out.len() as u64);
        // SAFETY: the range is the partition's own RAM (checked above), identity-mapped at EL2
        // and never referenced by Rust.
        unsafe { super::memory::read_guest_phys(pa, out) };
        true
    }

    /// Copies `data` into the partition's RAM at `pa` and makes it visible to a guest running
    /// with its MMU and caches off; `false` (and nothing written) unless the range is its RAM.
    pub fn write(&self, pa: u64, data: &[u8]) -> bool {
        if !self.owns(pa, data.len() as u64) {
            return false;
        }
        // SAFETY: as for `read`.
        unsafe { super::memory::write_guest_phys(pa, data) };
        super::clean_invalidate_dcache_range(pa, data.len() as u64);
        true
    }

    /// Cleans and invalidates every line of the partition's RAM to the point of coherency (a
    /// trapped set/way loop, carried out by address on the partition's memory only).
    pub fn clean_invalidate_all(&self) {
        for region in self.partition.memory.iter() {
            super::clean_invalidate_dcache_range(region.pa, region.size);
        }
    }

    /// The aligned word at `pa` of the partition's RAM, if it is its RAM.
    pub fn read_u32(&self, pa: u64) -> Option<u32> {
        if !pa.is_multiple_of(4) || !self.owns(pa, 4) {
            return None;
        }
        // SAFETY: as for `read`; 4-byte aligned.
        Some(unsafe { super::memory::read_phys_u32(pa) })
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
