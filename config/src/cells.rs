//! Decoding property values: 64-bit numbers as `<hi lo>` cell pairs, cell lists
//! and strings. Every decoder checks the exact length, so a wrong cell count is
//! an error rather than a misread.

use crate::range::Range;

/// A 64-bit number written as two cells `<hi lo>` (exactly 8 bytes).
pub(crate) fn u64_cells(value: &[u8]) -> Option<u64> {
    let bytes: [u8; 8] = value.try_into().ok()?;
    Some(u64::from_be_bytes(bytes))
}

/// An address and size written as four cells `<addr-hi addr-lo size-hi size-lo>`.
pub(crate) fn range_cells(value: &[u8]) -> Option<Range> {
    if value.len() != 16 {
        return None;
    }
    let start = u64_cells(value.get(..8)?)?;
    let size = u64_cells(value.get(8..)?)?;
    Some(Range::new(start, size))
}

/// A single 32-bit cell.
pub(crate) fn u32_cell(value: &[u8]) -> Option<u32> {
    let bytes: [u8; 4] = value.try_into().ok()?;
    Some(u32::from_be_bytes(bytes))
}

/// A list of 32-bit cells; `None` if the length is not a multiple of 4.
pub(crate) fn u32_list(value: &[u8]) -> Option<impl Iterator<Item = u32> + '_> {
    if !value.len().is_multiple_of(4) {
        return None;
    }
    Some(
        value
            .chunks_exact(4)
            .filter_map(|c| <[u8; 4]>::try_from(c).ok())
            .map(u32::from_be_bytes),
    )
}

/// A single non-empty string: UTF-8, one terminating NUL, no other NUL.
pub(crate) fn string(value: &[u8]) -> Option<&str> {
    let (last, body) = value.split_last()?;
    if *last != 0 || body.is_empty() || body.contains(&0) {
        return None;
    }
    core::str::from_utf8(body).ok()
}

/// A list of strings (such as `compatible`), each NUL-terminated.
pub(crate) fn string_list(value: &[u8]) -> Option<impl Iterator<Item = &str> + '_> {
    let (last, body) = value.split_last()?;
    if *last != 0 {
        return None;
    }
    let all = core::str::from_utf8(body).ok()?;
    Some(all.split('\0'))
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    #[test]
    fn u64_cells_needs_exactly_two_cells() {
        assert_eq!(u64_cells(&[0, 0, 0, 1, 0, 0, 0, 2]), Some(0x1_0000_0002));
        assert_eq!(u64_cells(&[0, 0, 0, 1]), None);
        assert_eq!(u64_cells(&[0; 12]), None);
    }

    #[test]
    fn range_cells_needs_exactly_four_cells() {
        let mut v = Vec::new();
        for c in [0u32, 0x4000_0000, 0, 0x1000] {
            v.extend_from_slice(&c.to_be_bytes());
        }
        assert_eq!(range_cells(&v), Some(Range::new(0x4000_0000, 0x1000)));
        assert_eq!(range_cells(&v[..12]), None);
        v.extend_from_slice(&[0; 4]);
        assert_eq!(range_cells(&v), None);
    }

    #[test]
    fn u32_list_rejects_partial_cells() {
        let v = [0, 0, 0, 1, 0, 0, 0, 2];
        assert_eq!(
            u32_list(&v).map(|i| i.collect::<Vec<_>>()),
            Some(std::vec![1, 2])
        );
        assert!(u32_list(&v[..6]).is_none());
    }

    #[test]
    fn string_must_be_one_nul_terminated_utf8_string() {
        assert_eq!(string(b"off\0"), Some("off"));
        assert_eq!(string(b"off"), None);
        assert_eq!(string(b"\0"), None);
        assert_eq!(string(b"a\0b\0"), None);
        assert_eq!(string(b"\xff\0"), None);
        assert_eq!(string(b""), None);
    }

    #[test]
    fn string_list_splits_on_nul() {
        let v: Vec<&str> = string_list(b"a,b\0c\0")
            .map(|i| i.collect())
            .unwrap_or_default();
        assert_eq!(v, ["a,b", "c"]);
    }
}
