//! Decoding a guest's ICC_SGI1R_EL1 write (Arm IHI 0069, "ICC_SGI1R_EL1, Interrupt Controller
//! Software Generated Interrupt Group 1 Register"): which of the partition's vCPUs an SGI
//! targets. Pure; every field is the guest's allegation.
//!
//! vMPIDRs are 0..n-1 in Aff0, so a partition's vCPUs are Aff3.Aff2.Aff1 = 0 and Aff0 = index;
//! the target list names Aff0 values `16 * RS + bit`. Anything naming a CPU outside the
//! partition selects nothing and is reported, never delivered.

/// ICC_SGI1R_EL1 fields.
const TARGET_LIST_MASK: u64 = 0xffff;
const AFF1_SHIFT: u32 = 16;
const INTID_SHIFT: u32 = 24;
const AFF2_SHIFT: u32 = 32;
const IRM_BIT: u64 = 1 << 40;
const RS_SHIFT: u32 = 44;
const AFF3_SHIFT: u32 = 48;

/// What one ICC_SGI1R_EL1 write asks for, within a partition of `vcpus` vCPUs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SgiRequest {
    /// The SGI (0..=15).
    pub intid: u32,
    /// The target vCPUs, as a bitmap of vCPU indices.
    pub targets: u64,
    /// The write named a CPU outside the partition (counted as an ignored write).
    pub named_outside: bool,
}

/// Decodes an ICC_SGI1R_EL1 `value` written by vCPU `sender` of a partition of `vcpus`
/// vCPUs (at most 64).
pub fn decode_sgi1r(value: u64, sender: usize, vcpus: usize) -> SgiRequest {
    let intid = ((value >> INTID_SHIFT) & 0xf) as u32;
    let vcpus = vcpus.min(64);
    let all = if vcpus == 64 {
        u64::MAX
    } else {
        (1u64 << vcpus) - 1
    };
    if value & IRM_BIT != 0 {
        let me = if sender < 64 { 1u64 << sender } else { 0 };
        return SgiRequest {
            intid,
            targets: all & !me,
            named_outside: false,
        };
    }
    let byte = |shift: u32| (value >> shift) & 0xff;
    let high_affinity = byte(AFF1_SHIFT) | byte(AFF2_SHIFT) | byte(AFF3_SHIFT);
    let target_list = value & TARGET_LIST_MASK;
    let range_selector = ((value >> RS_SHIFT) & 0xf) as u32;
    // Aff0 = 16 * RS + bit. RS reaches 15, so Aff0 reaches 255: bits at or past 64 can name
    // no vCPU and must not be shifted into a u64.
    let first = 16 * range_selector;
    let mut targets = 0u64;
    let mut named_outside = high_affinity != 0 && target_list != 0;
    for bit in 0..16u32 {
        if target_list & (1 << bit) == 0 {
            continue;
        }
        let aff0 = first + bit;
        if high_affinity == 0 && (aff0 as usize) < vcpus {
            targets |= 1u64 << aff0;
        } else {
            named_outside = true;
        }
    }
    SgiRequest {
        intid,
        targets,
        named_outside,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sgi1r(intid: u64, target_list: u64, rs: u64) -> u64 {
        intid << INTID_SHIFT | target_list | rs << RS_SHIFT
    }

    #[test]
    fn a_target_list_selects_the_named_vcpus() {
        let request = decode_sgi1r(sgi1r(3, 0b110, 0), 0, 4);
        assert_eq!(
            request,
            SgiRequest {
                intid: 3,
                targets: 0b110,
                named_outside: false
            }
        );
    }

    #[test]
    fn irm_selects_every_vcpu_but_the_sender() {
        let request = decode_sgi1r(IRM_BIT | 5 << INTID_SHIFT, 1, 4);
        assert_eq!(request.targets, 0b1101);
        assert_eq!(request.intid, 5);
        assert!(!request.named_outside);
    }

    #[test]
    fn targets_beyond_the_partition_are_reported_not_delivered() {
        let request = decode_sgi1r(sgi1r(1, 0b1111, 0), 0, 2);
        assert_eq!(request.targets, 0b11);
        assert!(request.named_outside);
    }

    #[test]
    fn any_higher_affinity_names_another_cluster() {
        for shift in [AFF1_SHIFT, AFF2_SHIFT, AFF3_SHIFT] {
            let request = decode_sgi1r(sgi1r(1, 1, 0) | 1 << shift, 0, 4);
            assert_eq!(request.targets, 0, "aff at {shift}");
            assert!(request.named_outside);
        }
    }

    #[test]
    fn range_selectors_address_vcpus_sixteen_at_a_time() {
        let request = decode_sgi1r(sgi1r(2, 0b1, 1), 0, 20);
        assert_eq!(request.targets, 1 << 16);
        assert!(!request.named_outside);
    }

    #[test]
    fn the_largest_range_selector_neither_overflows_nor_selects() {
        // RS = 15 names Aff0 240..255; the old decoder shifted the target list left by 240
        // bits (a panic in a debug build, a wrong count in release).
        let request = decode_sgi1r(sgi1r(0, 0xffff, 15), 0, 4);
        assert_eq!(request.targets, 0);
        assert!(request.named_outside);
        for rs in 0..16 {
            for vcpus in [1, 2, 8, 63, 64, 100] {
                let _ = decode_sgi1r(sgi1r(0, 0xffff, rs), vcpus % 64, vcpus);
            }
        }
    }

    #[test]
    fn an_empty_target_list_names_nobody() {
        let request = decode_sgi1r(sgi1r(0, 0, 3) | 1 << AFF1_SHIFT, 0, 4);
        assert_eq!(request.targets, 0);
        assert!(!request.named_outside);
    }
}
