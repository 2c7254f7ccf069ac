//! Circular queue indices (Arm IHI 0070, 3.5 "Command and Event queues"): a queue of
//! 2^log2size entries is tracked by PROD and CONS values whose low `log2size` bits index an
//! entry and whose next bit is a wrap flag, toggled at each pass. Equal index and wrap: empty;
//! equal index, different wrap: full.

/// The position arithmetic of one queue of 2^`log2size` entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ring {
    log2size: u8,
}

/// The largest queue size the driver uses (2^15 entries; SMMU_IDR1.CMDQS/EVENTQS allow 19).
pub const MAX_LOG2SIZE: u8 = 15;

impl Ring {
    /// A ring of 2^`log2size` entries (at most [`MAX_LOG2SIZE`]).
    pub fn new(log2size: u8) -> Ring {
        Ring {
            log2size: log2size.min(MAX_LOG2SIZE),
        }
    }

    /// Its log2 of entries (the LOG2SIZE field of its base register).
    pub fn log2size(self) -> u8 {
        self.log2size
    }

    /// How many entries it holds.
    pub fn entries(self) -> u32 {
        1 << self.log2size
    }

    fn wrap_bit(self) -> u32 {
        1 << self.log2size
    }

    fn wrap_index_mask(self) -> u32 {
        (self.wrap_bit() << 1).wrapping_sub(1)
    }

    /// The entry a PROD or CONS value points at.
    pub fn index(self, value: u32) -> u32 {
        value & (self.wrap_bit().wrapping_sub(1))
    }

    /// The value one entry past `value` (index and wrap flag only; an ERR or OVFLG field above
    /// them is dropped).
    pub fn next(self, value: u32) -> u32 {
        (value & self.wrap_index_mask()).wrapping_add(1) & self.wrap_index_mask()
    }

    /// Whether a queue with these PROD and CONS values holds nothing.
    pub fn is_empty(self, prod: u32, cons: u32) -> bool {
        (prod ^ cons) & self.wrap_index_mask() == 0
    }

    /// Whether a queue with these PROD and CONS values has no free entry.
    pub fn is_full(self, prod: u32, cons: u32) -> bool {
        (prod ^ cons) & self.wrap_index_mask() == self.wrap_bit()
    }

    /// Whether the consumer has gone past `target` (a PROD value once written): CONS reached
    /// it, so every entry before it has been consumed.
    pub fn consumed(self, target: u32, cons: u32) -> bool {
        self.is_empty(target, cons)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_full_follow_the_wrap_flag() {
        // IHI 0070 3.5.1: empty when index and wrap match; full when the indices match and the
        // wrap flags differ.
        let ring = Ring::new(2);
        assert!(ring.is_empty(0, 0));
        assert!(!ring.is_full(0, 0));
        assert!(ring.is_full(0b100, 0b000));
        assert!(ring.is_full(0b000, 0b100));
        assert!(!ring.is_empty(0b001, 0b000));
    }

    #[test]
    fn next_wraps_the_index_and_toggles_the_flag() {
        let ring = Ring::new(2);
        let mut prod = 0;
        for _ in 0..4 {
            prod = ring.next(prod);
        }
        assert_eq!(prod, 0b100, "index 0, wrap flag 1 after one pass");
        assert_eq!(ring.index(prod), 0);
        for _ in 0..4 {
            prod = ring.next(prod);
        }
        assert_eq!(prod, 0, "both back to 0 after two passes");
    }

    #[test]
    fn next_drops_error_fields_above_the_wrap_flag() {
        // IHI 0070 6.3.27: CMDQ_CONS.ERR lives in bits [30:24].
        let ring = Ring::new(3);
        assert_eq!(ring.next((1 << 24) | 0b0111), 0b1000);
        assert!(ring.is_empty((2 << 24) | 5, 5));
    }

    #[test]
    fn sizes_are_capped() {
        assert_eq!(Ring::new(40).log2size(), MAX_LOG2SIZE);
        assert_eq!(Ring::new(4).entries(), 16);
    }
}
