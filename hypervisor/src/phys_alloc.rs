//! Physical memory for partitions whose configuration gives no fixed address.
//!
//! Starts from the RAM the host device tree describes, removes everything reserved (the
//! hypervisor image and bundle, the host device tree, firmware, fixed-address partition memory)
//! and hands out aligned ranges from the top of the highest free range down.

use bulkhead_config::range::Range;
use heapless::Vec;

/// Free ranges are kept sorted by address.
const MAX_FREE: usize = 32;

/// A free-list allocator of physical memory.
#[derive(Clone, Debug, Default)]
pub struct PhysAllocator {
    free: Vec<Range, MAX_FREE>,
}

impl PhysAllocator {
    /// An allocator over `ram`.
    pub fn new(ram: &[Range]) -> Self {
        let mut allocator = PhysAllocator::default();
        for range in ram {
            let _ = allocator.free.push(*range);
        }
        allocator.free.sort_unstable_by_key(|range| range.start);
        allocator
    }

    /// Removes `reserved` from the free memory. Returns `false` if the free list is full.
    pub fn reserve(&mut self, reserved: Range) -> bool {
        let Some(reserved_end) = reserved.checked_end() else {
            return false;
        };
        let mut next: Vec<Range, MAX_FREE> = Vec::new();
        for range in &self.free {
            let end = range.start + range.size;
            if !range.overlaps(&reserved) {
                if next.push(*range).is_err() {
                    return false;
                }
                continue;
            }
            if range.start < reserved.start
                && next
                    .push(Range {
                        start: range.start,
                        size: reserved.start - range.start,
                    })
                    .is_err()
            {
                return false;
            }
            if reserved_end < end
                && next
                    .push(Range {
                        start: reserved_end,
                        size: end - reserved_end,
                    })
                    .is_err()
            {
                return false;
            }
        }
        self.free = next;
        true
    }

    /// Takes `size` bytes aligned to `align` (a power of two) from the highest free memory.
    pub fn alloc(&mut self, size: u64, align: u64) -> Option<u64> {
        if size == 0 || !align.is_power_of_two() {
            return None;
        }
        let chosen = self.free.iter().rev().find_map(|range| {
            let end = range.start.checked_add(range.size)?;
            let start = end.checked_sub(size)? & !(align - 1);
            (start >= range.start).then_some(start)
        })?;
        self.reserve(Range {
            start: chosen,
            size,
        })
        .then_some(chosen)
    }

    /// The free ranges, lowest first.
    pub fn free(&self) -> &[Range] {
        &self.free
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn allocates_from_the_top_with_alignment() {
        let mut alloc = PhysAllocator::new(&[Range {
            start: 0x4000_0000,
            size: 1024 * MIB,
        }]);
        assert_eq!(alloc.alloc(3 * MIB, 2 * MIB), Some(0x7fc0_0000));
        assert_eq!(alloc.alloc(MIB, 2 * MIB), Some(0x7fa0_0000));
    }

    #[test]
    fn never_hands_out_reserved_memory() {
        let mut alloc = PhysAllocator::new(&[Range {
            start: 0x4000_0000,
            size: 64 * MIB,
        }]);
        assert!(alloc.reserve(Range {
            start: 0x4000_0000,
            size: 32 * MIB
        }));
        assert!(alloc.reserve(Range {
            start: 0x4300_0000,
            size: 16 * MIB
        }));
        // Free: [0x4200_0000, 0x4300_0000).
        assert_eq!(
            alloc.free(),
            &[Range {
                start: 0x4200_0000,
                size: 16 * MIB
            }]
        );
        assert_eq!(alloc.alloc(16 * MIB, 2 * MIB), Some(0x4200_0000));
        assert_eq!(alloc.alloc(0x1000, 0x1000), None);
    }

    #[test]
    fn skips_ranges_too_small_after_alignment() {
        let mut alloc = PhysAllocator::new(&[
            Range {
                start: 0x4000_0000,
                size: 8 * MIB,
            },
            Range {
                start: 0x5000_1000,
                size: 2 * MIB,
            },
        ]);
        assert_eq!(alloc.alloc(2 * MIB, 2 * MIB), Some(0x4060_0000));
    }

    #[test]
    fn rejects_zero_sizes_and_bad_alignment() {
        let mut alloc = PhysAllocator::new(&[Range {
            start: 0,
            size: MIB,
        }]);
        assert_eq!(alloc.alloc(0, 4096), None);
        assert_eq!(alloc.alloc(4096, 3), None);
    }
}
