//! Placing a partition's memory: physical addresses for each IPA region.

use bulkhead_config::model::PartitionConfig;
use bulkhead_config::range::Range;
use heapless::Vec;

use crate::phys_alloc::PhysAllocator;

/// One IPA range backed by physical memory or a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// Guest physical (intermediate physical) address.
    pub ipa: u64,
    /// Host physical address.
    pub pa: u64,
    /// Size in bytes.
    pub size: u64,
}

impl Mapping {
    /// Translates `ipa` if this mapping covers `[ipa, ipa + len)`.
    pub fn translate(&self, ipa: u64, len: u64) -> Option<u64> {
        let offset = ipa.checked_sub(self.ipa)?;
        (offset.checked_add(len)? <= self.size).then(|| self.pa + offset)
    }
}

/// Where each of a partition's memory regions lives.
pub type MemoryPlan = Vec<Mapping, { bulkhead_config::MAX_REGIONS }>;

/// Why memory could not be placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanError {
    /// No free physical memory of this size and alignment is left.
    OutOfMemory { size: u64 },
}

/// Chooses physical memory for every region of `partition`: fixed addresses as configured (the
/// caller has reserved them), the rest from `allocator`, aligned like the IPA (up to 1 GiB) so
/// stage 2 can use block mappings.
pub fn plan_memory(
    partition: &PartitionConfig<'_>,
    allocator: &mut PhysAllocator,
) -> Result<MemoryPlan, PlanError> {
    let mut plan = MemoryPlan::new();
    for region in &partition.memory {
        let Range { start: ipa, size } = region.ipa;
        let pa = match region.phys {
            Some(pa) => pa,
            None => {
                let align = [1u64 << 30, 1 << 21, 1 << 12]
                    .into_iter()
                    .find(|&align| ipa % align == 0 && size >= align)
                    .unwrap_or(1 << 12);
                allocator
                    .alloc(size, align)
                    .ok_or(PlanError::OutOfMemory { size })?
            }
        };
        let _ = plan.push(Mapping { ipa, pa, size });
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translation_stays_inside_the_mapping() {
        let m = Mapping {
            ipa: 0x4000_0000,
            pa: 0x7000_0000,
            size: 0x20_0000,
        };
        assert_eq!(m.translate(0x4000_1000, 8), Some(0x7000_1000));
        assert_eq!(m.translate(0x401f_fffc, 4), Some(0x701f_fffc));
        assert_eq!(m.translate(0x401f_fffc, 8), None);
        assert_eq!(m.translate(0x3fff_ffff, 1), None);
        assert_eq!(m.translate(u64::MAX, 2), None);
    }
}
