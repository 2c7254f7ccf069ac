//! Loading a partition's images (kernel, device tree, initrd) into its RAM, at boot and at
//! every restart.
//!
//! The sequence is pure and host-tested against a fake memory; the memory itself
//! ([`PartitionMemory`]) is implemented in `arch/` over the partition's physical RAM.

use crate::system::Partition;

/// A partition's physical RAM as the loader writes it, with the cache maintenance that makes the
/// writes visible to a guest that starts with its caches off.
pub trait PartitionMemory {
    /// Fills `[pa, pa + size)` with zeros.
    fn zero(&mut self, pa: u64, size: u64);
    /// Copies `data` to `[pa, pa + data.len())`.
    fn copy(&mut self, pa: u64, data: &[u8]);
    /// Cleans and invalidates the data cache over `[pa, pa + size)` to the point of coherency.
    fn clean_invalidate_dcache(&mut self, pa: u64, size: u64);
    /// Cleans the data cache over `[pa, pa + size)` to the point of coherency.
    fn clean_dcache(&mut self, pa: u64, size: u64);
    /// Invalidates the whole instruction cache (new code was written).
    fn invalidate_icache(&mut self);
}

/// Copies `partition`'s images into `memory` at their physical addresses, first zeroing all of
/// its RAM if `scrub` (a restart: nothing of the previous run survives). Every written range is
/// cleaned to the point of coherency and the instruction cache invalidated last.
///
/// The caller guarantees that none of the partition's vCPUs runs while it loads.
pub fn load_images_into(memory: &mut impl PartitionMemory, partition: &Partition, scrub: bool) {
    if scrub {
        for region in &partition.memory {
            memory.zero(region.pa, region.size);
            memory.clean_invalidate_dcache(region.pa, region.size);
        }
    }
    for image in &partition.images {
        memory.copy(image.pa, image.data);
        memory.clean_dcache(image.pa, image.data.len() as u64);
    }
    memory.invalidate_icache();
}

/// Loads `partition`'s images into its physical RAM, zeroing that RAM first if `scrub` (see
/// [`load_images_into`]). None of the partition's vCPUs may run meanwhile.
#[cfg(target_os = "none")]
pub fn load_images(partition: &Partition, scrub: bool) {
    load_images_into(
        &mut crate::arch::partition_ram::PartitionRam::of(partition),
        partition,
        scrub,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partition::{Mapping, PartitionState};
    use crate::system::LoadedImage;
    use std::vec::Vec;

    const RAM_PA: u64 = 0x8000_0000;
    const RAM_SIZE: u64 = 0x1_0000;
    const SECOND_PA: u64 = 0x9000_0000;
    const SECOND_SIZE: u64 = 0x2000;

    /// What the loader did, in order.
    #[derive(Clone, Debug, PartialEq, Eq)]
    enum Op {
        Zero(u64, u64),
        Copy(u64, Vec<u8>),
        CleanInvalidate(u64, u64),
        Clean(u64, u64),
        InvalidateIcache,
    }

    /// Two RAM regions as byte arrays, plus the log of operations.
    struct FakeMemory {
        regions: Vec<(u64, Vec<u8>)>,
        ops: Vec<Op>,
    }

    impl FakeMemory {
        fn dirty() -> Self {
            FakeMemory {
                regions: std::vec![
                    (RAM_PA, std::vec![0xaa; RAM_SIZE as usize]),
                    (SECOND_PA, std::vec![0xbb; SECOND_SIZE as usize]),
                ],
                ops: Vec::new(),
            }
        }

        fn bytes(&mut self, pa: u64, len: u64) -> &mut [u8] {
            let (base, bytes) = self
                .regions
                .iter_mut()
                .find(|(base, bytes)| pa >= *base && pa + len <= *base + bytes.len() as u64)
                .expect("the loader only writes the partition's RAM");
            let offset = (pa - *base) as usize;
            &mut bytes[offset..offset + len as usize]
        }
    }

    impl PartitionMemory for FakeMemory {
        fn zero(&mut self, pa: u64, size: u64) {
            self.bytes(pa, size).fill(0);
            self.ops.push(Op::Zero(pa, size));
        }
        fn copy(&mut self, pa: u64, data: &[u8]) {
            self.bytes(pa, data.len() as u64).copy_from_slice(data);
            self.ops.push(Op::Copy(pa, data.to_vec()));
        }
        fn clean_invalidate_dcache(&mut self, pa: u64, size: u64) {
            self.ops.push(Op::CleanInvalidate(pa, size));
        }
        fn clean_dcache(&mut self, pa: u64, size: u64) {
            self.ops.push(Op::Clean(pa, size));
        }
        fn invalidate_icache(&mut self) {
            self.ops.push(Op::InvalidateIcache);
        }
    }

    static KERNEL: [u8; 100] = [0x11; 100];
    static DTB: [u8; 7] = [0x22; 7];

    fn partition() -> Partition {
        let mut partition = Partition::new(1, "alpha", PartitionState::Running);
        let _ = partition.memory.push(Mapping {
            ipa: 0x4000_0000,
            pa: RAM_PA,
            size: RAM_SIZE,
        });
        let _ = partition.memory.push(Mapping {
            ipa: 0x5000_0000,
            pa: SECOND_PA,
            size: SECOND_SIZE,
        });
        let _ = partition.images.push(LoadedImage {
            data: &KERNEL,
            pa: RAM_PA,
        });
        let _ = partition.images.push(LoadedImage {
            data: &DTB,
            pa: SECOND_PA + 0x100,
        });
        partition
    }

    #[test]
    fn images_land_at_their_physical_addresses_and_the_rest_is_untouched_at_boot() {
        let mut memory = FakeMemory::dirty();
        load_images_into(&mut memory, &partition(), false);
        assert_eq!(memory.bytes(RAM_PA, 100), &KERNEL[..]);
        assert_eq!(memory.bytes(RAM_PA + 100, 1), &[0xaa], "no scrub at boot");
        assert_eq!(memory.bytes(SECOND_PA, 0x100), &[0xbb; 0x100][..]);
        assert_eq!(memory.bytes(SECOND_PA + 0x100, 7), &DTB[..]);
        assert!(!memory.ops.iter().any(|op| matches!(op, Op::Zero(..))));
    }

    #[test]
    fn a_restart_zeroes_every_region_before_the_images_are_copied() {
        let mut memory = FakeMemory::dirty();
        load_images_into(&mut memory, &partition(), true);
        assert_eq!(memory.bytes(RAM_PA, 100), &KERNEL[..]);
        assert!(memory
            .bytes(RAM_PA + 100, RAM_SIZE - 100)
            .iter()
            .all(|&b| b == 0));
        assert!(memory.bytes(SECOND_PA, 0x100).iter().all(|&b| b == 0));
        assert_eq!(memory.bytes(SECOND_PA + 0x100, 7), &DTB[..]);
        assert!(memory
            .bytes(SECOND_PA + 0x107, SECOND_SIZE - 0x107)
            .iter()
            .all(|&b| b == 0));
    }

    #[test]
    fn caches_are_maintained_for_exactly_the_written_ranges_and_the_icache_last() {
        let mut memory = FakeMemory::dirty();
        load_images_into(&mut memory, &partition(), true);
        assert_eq!(
            memory.ops,
            std::vec![
                Op::Zero(RAM_PA, RAM_SIZE),
                Op::CleanInvalidate(RAM_PA, RAM_SIZE),
                Op::Zero(SECOND_PA, SECOND_SIZE),
                Op::CleanInvalidate(SECOND_PA, SECOND_SIZE),
                Op::Copy(RAM_PA, KERNEL.to_vec()),
                Op::Clean(RAM_PA, 100),
                Op::Copy(SECOND_PA + 0x100, DTB.to_vec()),
                Op::Clean(SECOND_PA + 0x100, 7),
                Op::InvalidateIcache,
            ]
        );
    }

    #[test]
    fn a_partition_without_images_only_invalidates_the_icache() {
        let mut memory = FakeMemory::dirty();
        let bare = Partition::new(2, "bare", PartitionState::Running);
        load_images_into(&mut memory, &bare, true);
        assert_eq!(memory.ops, std::vec![Op::InvalidateIcache]);
    }
}
