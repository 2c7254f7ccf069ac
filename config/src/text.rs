//! Bounded copies of untrusted strings, for error evidence.

use heapless::String;

/// Copies `s` into a fixed-capacity string, cutting it at a character boundary
/// when it does not fit. Error messages prefer a truncated name over none.
pub(crate) fn bounded<const N: usize>(s: &str) -> String<N> {
    let mut out = String::new();
    for c in s.chars() {
        if out.push(c).is_err() {
            break;
        }
    }
    out
}

/// Joins node names into a path such as `/partitions/linux/kernel`, truncated to
/// fit.
pub(crate) fn node_path<const N: usize>(parts: &[&str]) -> String<N> {
    let mut out: String<N> = String::new();
    if parts.is_empty() {
        let _ = out.push('/');
    }
    for part in parts {
        for c in core::iter::once('/').chain(part.chars()) {
            if out.push(c).is_err() {
                return out;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{bounded, node_path};

    #[test]
    fn bounded_cuts_at_char_boundary() {
        let s: heapless::String<4> = bounded("abé€x");
        assert_eq!(s.as_str(), "abé");
    }

    #[test]
    fn node_path_joins_with_slashes() {
        let p: heapless::String<96> = node_path(&["partitions", "linux", "kernel"]);
        assert_eq!(p.as_str(), "/partitions/linux/kernel");
        let root: heapless::String<96> = node_path(&[]);
        assert_eq!(root.as_str(), "/");
    }

    #[test]
    fn node_path_truncates_long_paths() {
        let p: heapless::String<8> = node_path(&["partitions", "x"]);
        assert_eq!(p.as_str(), "/partiti");
    }
}
