//! The structure of a configuration blob: what makes it a flattened device tree
//! at all, checked in the same pass that reads it.
//!
//! [`fdt_scan::walk_strict`] enforces the rules as it walks: the header and
//! its blocks must lie inside the blob, no token may be truncated, names and
//! property names must be NUL-terminated UTF-8, properties come before child
//! nodes, nesting is balanced and at most [`fdt_scan::MAX_DEPTH`] deep, there
//! is one root, and `FDT_NOP` tokens (which `dtc` never emits) are refused.
//! This module reports a broken rule as [`ErrorKind::NotADeviceTree`], with
//! the reason and the byte offset.

use crate::error::ErrorKind;
use crate::fdt_scan::{self, StrictEvent};

/// Walks `dtb` once, handing every node and property to `visit` in document
/// order, and fails at the first structural problem.
pub(crate) fn walk<'a>(dtb: &'a [u8], visit: impl FnMut(StrictEvent<'a>)) -> Result<(), ErrorKind> {
    fdt_scan::walk_strict(dtb, visit).map_err(|m| ErrorKind::NotADeviceTree {
        why: m.why,
        offset: m.offset,
    })
}

/// Checks the structure of `data` alone.
#[cfg(test)]
fn check(data: &[u8]) -> Result<(), ErrorKind> {
    walk(data, |_| {})
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::check;
    use crate::error::ErrorKind;
    use crate::test_support::{compile, FdtBuilder};

    fn why(data: &[u8]) -> &'static str {
        match check(data) {
            Err(ErrorKind::NotADeviceTree { why, .. }) => why,
            other => panic!("expected NotADeviceTree, got {other:?}"),
        }
    }

    #[test]
    fn dtc_output_is_accepted() {
        let dtb = compile("/dts-v1/; / { a = <1>; b { c = \"x\"; d { }; }; e { }; };");
        assert_eq!(check(&dtb), Ok(()));
    }

    #[test]
    fn short_blob_is_rejected() {
        assert_eq!(
            why(&[0xd0, 0x0d, 0xfe, 0xed]),
            "blob is shorter than the 40-byte header"
        );
        assert_eq!(why(&[]), "blob is shorter than the 40-byte header");
    }

    #[test]
    fn bad_magic_is_rejected() {
        let mut dtb = compile("/dts-v1/; / { };");
        dtb[0] = 0;
        assert_eq!(why(&dtb), "bad magic, expected 0xd00dfeed");
    }

    #[test]
    fn truncated_blob_is_rejected() {
        let dtb = compile("/dts-v1/; / { a = <1>; };");
        assert_eq!(
            why(&dtb[..dtb.len() - 1]),
            "header's totalsize is larger than the blob"
        );
    }

    #[test]
    fn blocks_outside_the_blob_are_rejected() {
        let mut dtb = compile("/dts-v1/; / { a = <1>; };");
        dtb[36..40].copy_from_slice(&0xffff_fff0u32.to_be_bytes());
        assert_eq!(why(&dtb), "structure block lies outside the blob");
        let mut dtb = compile("/dts-v1/; / { a = <1>; };");
        dtb[12..16].copy_from_slice(&0xffff_fff0u32.to_be_bytes());
        assert_eq!(why(&dtb), "strings block lies outside the blob");
    }

    #[test]
    fn every_truncation_of_the_structure_block_is_rejected_without_panicking() {
        let dtb = compile("/dts-v1/; / { a = <1>; b { c = \"x\"; d { }; }; };");
        let b = FdtBuilder::parse_header(&dtb);
        for cut in 0..b.struct_len {
            let mut copy = dtb.clone();
            copy[36..40].copy_from_slice(&(cut as u32).to_be_bytes());
            assert!(check(&copy).is_err(), "cut at {cut} accepted");
        }
    }

    #[test]
    fn every_single_byte_corruption_is_caught_or_harmless() {
        let dtb = compile(
            "/dts-v1/; / { compatible = \"bulkhead,config\"; partitions { p { cpus = <0>; }; }; };",
        );
        for i in 0..dtb.len() {
            for v in [0x00u8, 0x01, 0x02, 0x03, 0x04, 0x09, 0x7f, 0xff] {
                let mut copy = dtb.clone();
                copy[i] = v;
                // Either rejected, or parsing must not panic.
                let _ = crate::Config::parse(&copy);
            }
        }
    }

    #[test]
    fn nop_tokens_are_rejected() {
        let dtb = FdtBuilder::new().begin("").nop().end().finish();
        assert_eq!(why(&dtb), "FDT_NOP tokens are not accepted");
    }

    #[test]
    fn property_after_child_is_rejected() {
        let dtb = FdtBuilder::new()
            .begin("")
            .begin("a")
            .end()
            .prop("x", &[0, 0, 0, 1])
            .end()
            .finish();
        assert_eq!(why(&dtb), "property outside a node or after a child node");
    }

    #[test]
    fn unbalanced_nodes_are_rejected() {
        let dtb = FdtBuilder::new().begin("").begin("a").end().finish();
        assert_eq!(why(&dtb), "FDT_END inside a node");
        let dtb = FdtBuilder::new().begin("").end().end().finish();
        assert_eq!(why(&dtb), "FDT_END_NODE without a node");
    }

    #[test]
    fn deep_nesting_is_rejected() {
        let mut b = FdtBuilder::new().begin("");
        for _ in 0..20 {
            b = b.begin("n");
        }
        for _ in 0..21 {
            b = b.end();
        }
        assert_eq!(why(&b.finish()), "nodes nested too deeply");
    }

    #[test]
    fn non_utf8_names_are_rejected() {
        let mut raw = FdtBuilder::new().begin("").begin("ab").end().end().finish();
        let at = raw.windows(2).position(|w| w == b"ab").unwrap();
        raw[at] = 0xff;
        assert_eq!(why(&raw), "node name is not NUL-terminated UTF-8");
    }

    #[test]
    fn bad_property_name_offset_is_rejected() {
        let dtb = FdtBuilder::new()
            .begin("")
            .prop_raw_name(0xffff, &[])
            .end()
            .finish();
        assert_eq!(
            why(&dtb),
            "property name offset is not a NUL-terminated UTF-8 string"
        );
    }

    #[test]
    fn oversized_property_length_is_rejected() {
        let mut dtb = FdtBuilder::new()
            .begin("")
            .prop("x", &[1, 2, 3, 4])
            .end()
            .finish();
        let b = FdtBuilder::parse_header(&dtb);
        // The property length lives right after the FDT_PROP token.
        let len_at = b.struct_off + 4 + 4 + 4;
        dtb[len_at..len_at + 4].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
        assert_eq!(why(&dtb), "property value runs past the structure block");
    }

    #[test]
    fn second_root_is_rejected() {
        let dtb = FdtBuilder::new().begin("").end().begin("").end().finish();
        assert_eq!(why(&dtb), "a second root node");
    }
}
