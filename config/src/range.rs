//! Half-open 64-bit address ranges.

use core::fmt;

/// A half-open range of addresses `[start, start + size)`.
///
/// Ranges come from untrusted configuration data, so `start + size` may not fit
/// in a `u64`. Every method here is overflow-safe: it does its arithmetic in
/// `u128` rather than assuming the end is representable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Range {
    /// First address in the range.
    pub start: u64,
    /// Number of bytes in the range.
    pub size: u64,
}

impl Range {
    /// Creates the range `[start, start + size)`.
    pub const fn new(start: u64, size: u64) -> Self {
        Self { start, size }
    }

    /// The exclusive end `start + size`, or `None` if it does not fit in a `u64`
    /// (a range that ends exactly at 2^64 also returns `None`).
    pub const fn checked_end(&self) -> Option<u64> {
        self.start.checked_add(self.size)
    }

    /// The exclusive end, computed without overflow.
    const fn wide_end(&self) -> u128 {
        (self.start as u128).saturating_add(self.size as u128)
    }

    /// Whether the range holds no bytes.
    pub const fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// Whether `addr` lies inside the range.
    pub const fn contains_addr(&self, addr: u64) -> bool {
        match addr.checked_sub(self.start) {
            Some(offset) => offset < self.size,
            None => false,
        }
    }

    /// Whether `other` lies wholly inside this range.
    ///
    /// This is interval containment: an empty `other` is contained when its
    /// start lies in `[self.start, self.end]`.
    pub const fn contains(&self, other: &Range) -> bool {
        other.start >= self.start && other.wide_end() <= self.wide_end()
    }

    /// Whether the two ranges share at least one address. Empty ranges overlap
    /// nothing.
    pub const fn overlaps(&self, other: &Range) -> bool {
        !self.is_empty()
            && !other.is_empty()
            && (self.start as u128) < other.wide_end()
            && (other.start as u128) < self.wide_end()
    }

    /// Whether both `start` and `size` are multiples of `align`. An `align` of
    /// zero is never satisfied.
    pub const fn is_aligned(&self, align: u64) -> bool {
        matches!(
            (self.start.checked_rem(align), self.size.checked_rem(align)),
            (Some(0), Some(0))
        )
    }
}

/// Writes `value` as `0x` and at least 16 hex digits, grouped by four with `_`.
#[allow(
    clippy::arithmetic_side_effects,
    reason = "digit counters stay within 0..=32, so the shifts stay below 128"
)]
pub(crate) fn write_grouped_hex(f: &mut fmt::Formatter<'_>, value: u128) -> fmt::Result {
    let mut digits = 16;
    while digits < 32 && value >> (digits * 4) != 0 {
        digits += 1;
    }
    f.write_str("0x")?;
    for i in (0..digits).rev() {
        let nibble = (value >> (i * 4)) & 0xf;
        let c = char::from_digit(nibble as u32, 16).unwrap_or('?');
        write!(f, "{c}")?;
        if i != 0 && i % 4 == 0 {
            f.write_str("_")?;
        }
    }
    Ok(())
}

impl fmt::Display for Range {
    /// Formats as `[0x0000_0000_4000_0000, 0x0000_0000_4800_0000)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        write_grouped_hex(f, u128::from(self.start))?;
        f.write_str(", ")?;
        write_grouped_hex(f, self.wide_end())?;
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::Range;
    use std::format;

    #[test]
    fn checked_end_is_none_when_end_passes_u64_max() {
        assert_eq!(Range::new(0x1000, 0x1000).checked_end(), Some(0x2000));
        assert_eq!(Range::new(u64::MAX - 0xfff, 0x1000).checked_end(), None);
        assert_eq!(Range::new(u64::MAX, 1).checked_end(), None);
        assert_eq!(Range::new(u64::MAX, 0).checked_end(), Some(u64::MAX));
    }

    #[test]
    fn contains_addr_respects_half_open_end() {
        let r = Range::new(0x4000_0000, 0x1000);
        assert!(r.contains_addr(0x4000_0000));
        assert!(r.contains_addr(0x4000_0fff));
        assert!(!r.contains_addr(0x4000_1000));
        assert!(!r.contains_addr(0x3fff_ffff));
        assert!(!Range::new(5, 0).contains_addr(5));
    }

    #[test]
    fn contains_addr_works_at_top_of_address_space() {
        let r = Range::new(u64::MAX - 0xfff, 0x1000);
        assert!(r.contains_addr(u64::MAX));
        let wrapping = Range::new(u64::MAX, u64::MAX);
        assert!(wrapping.contains_addr(u64::MAX));
        assert!(!wrapping.contains_addr(0));
    }

    #[test]
    fn contains_checks_both_ends() {
        let outer = Range::new(0x4000_0000, 0x8000_0000);
        assert!(outer.contains(&Range::new(0x4000_0000, 0x8000_0000)));
        assert!(outer.contains(&Range::new(0x5000_0000, 0x1000)));
        assert!(!outer.contains(&Range::new(0x3fff_f000, 0x2000)));
        assert!(!outer.contains(&Range::new(0xbfff_f000, 0x2000)));
    }

    #[test]
    fn contains_does_not_wrap_at_u64_max() {
        let outer = Range::new(0x1000, 0x1000);
        assert!(!outer.contains(&Range::new(0x1000, u64::MAX)));
        let top = Range::new(u64::MAX - 0xfff, 0x1000);
        assert!(top.contains(&Range::new(u64::MAX, 1)));
        assert!(!top.contains(&Range::new(u64::MAX, 2)));
    }

    #[test]
    fn overlaps_is_symmetric_and_half_open() {
        let a = Range::new(0x1000, 0x1000);
        let b = Range::new(0x1fff, 0x10);
        let c = Range::new(0x2000, 0x1000);
        assert!(a.overlaps(&b) && b.overlaps(&a));
        assert!(!a.overlaps(&c) && !c.overlaps(&a));
        assert!(a.overlaps(&a));
    }

    #[test]
    fn overlaps_is_overflow_safe() {
        let huge = Range::new(u64::MAX - 1, u64::MAX);
        let low = Range::new(0, 0x1000);
        assert!(!huge.overlaps(&low), "a range past 2^64 must not wrap to 0");
        assert!(huge.overlaps(&Range::new(u64::MAX, 1)));
    }

    #[test]
    fn empty_ranges_overlap_nothing() {
        let a = Range::new(0x1000, 0);
        assert!(!a.overlaps(&Range::new(0, 0x10000)));
        assert!(!Range::new(0, 0x10000).overlaps(&a));
    }

    #[test]
    fn is_aligned_checks_start_and_size() {
        assert!(Range::new(0x4000_0000, 0x1000).is_aligned(0x1000));
        assert!(!Range::new(0x4000_0800, 0x1000).is_aligned(0x1000));
        assert!(!Range::new(0x4000_0000, 0x800).is_aligned(0x1000));
        assert!(
            !Range::new(0, 0).is_aligned(0),
            "align 0 must not divide by zero"
        );
    }

    #[test]
    fn display_is_zero_padded_grouped_hex() {
        let r = Range::new(0x4000_0000, 0x0800_0000);
        assert_eq!(
            format!("{r}"),
            "[0x0000_0000_4000_0000, 0x0000_0000_4800_0000)"
        );
    }

    #[test]
    fn display_shows_end_past_u64_max() {
        let r = Range::new(u64::MAX - 0xfff, 0x1000);
        assert_eq!(
            format!("{r}"),
            "[0xffff_ffff_ffff_f000, 0x1_0000_0000_0000_0000)"
        );
    }
}
