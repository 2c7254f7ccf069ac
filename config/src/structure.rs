//! A strict well-formedness check of a flattened device tree, run before the
//! `fdt` crate sees the blob.
//!
//! `fdt` 0.1.5 assumes a well-formed blob and panics (or recurses without
//! bound) on a malformed one. The hypervisor parses its configuration at EL2,
//! so this module walks the whole structure block first and rejects anything
//! that could make `fdt` misbehave: blocks outside the blob, truncated tokens,
//! names or property names that are not NUL-terminated UTF-8, properties after
//! child nodes, unbalanced nesting, excessive depth and `FDT_NOP` tokens (which
//! `dtc` never emits, and which `fdt` mishandles in some positions).

use crate::error::ErrorKind;

const FDT_MAGIC: u32 = 0xd00d_feed;
const HEADER_LEN: usize = 40;
const MIN_VERSION: u32 = 17;
const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_NOP: u32 = 4;
const FDT_END: u32 = 9;
/// Deepest node nesting accepted; a configuration needs four levels.
const MAX_DEPTH: usize = 16;

fn bad(why: &'static str, offset: usize) -> ErrorKind {
    ErrorKind::NotADeviceTree { why, offset }
}

fn be32(data: &[u8], at: usize) -> Option<u32> {
    let end = at.checked_add(4)?;
    let bytes: [u8; 4] = data.get(at..end)?.try_into().ok()?;
    Some(u32::from_be_bytes(bytes))
}

fn header_field(data: &[u8], at: usize) -> Result<usize, ErrorKind> {
    be32(data, at)
        .map(|v| v as usize)
        .ok_or(bad("blob is shorter than the 40-byte header", data.len()))
}

/// Offset just past a NUL-terminated UTF-8 string starting at `at`, padded to
/// 4 bytes, or `None` if there is no NUL or the bytes are not UTF-8.
fn skip_name(block: &[u8], at: usize) -> Option<(usize, &str)> {
    let rest = block.get(at..)?;
    let len = rest.iter().position(|&b| b == 0)?;
    let name = core::str::from_utf8(rest.get(..len)?).ok()?;
    Some((align4(at.checked_add(len)?.checked_add(1)?)?, name))
}

fn align4(n: usize) -> Option<usize> {
    Some(n.checked_add(3)? & !3)
}

/// Checks the header, the strings block and the structure block of `data`.
pub(crate) fn check(data: &[u8]) -> Result<(), ErrorKind> {
    if data.len() < HEADER_LEN {
        return Err(bad("blob is shorter than the 40-byte header", data.len()));
    }
    if be32(data, 0) != Some(FDT_MAGIC) {
        return Err(bad("bad magic, expected 0xd00dfeed", 0));
    }
    let total = header_field(data, 4)?;
    if total > data.len() {
        return Err(bad("header's totalsize is larger than the blob", 4));
    }
    if (header_field(data, 20)? as u32) < MIN_VERSION {
        return Err(bad("FDT version is older than 17", 20));
    }
    let struct_off = header_field(data, 8)?;
    let struct_len = header_field(data, 36)?;
    let strings_off = header_field(data, 12)?;
    let strings_len = header_field(data, 32)?;
    let structs = block(data, total, struct_off, struct_len)
        .ok_or(bad("structure block lies outside the blob", 8))?;
    let strings = block(data, total, strings_off, strings_len)
        .ok_or(bad("strings block lies outside the blob", 12))?;
    walk(structs, strings).map_err(|(why, at)| bad(why, struct_off.saturating_add(at)))
}

fn block(data: &[u8], total: usize, off: usize, len: usize) -> Option<&[u8]> {
    let end = off.checked_add(len)?;
    if end > total {
        return None;
    }
    data.get(off..end)
}

/// Walks the structure block token by token. Errors carry an offset relative to
/// the block.
fn walk(structs: &[u8], strings: &[u8]) -> Result<(), (&'static str, usize)> {
    let mut pos = 0usize;
    let mut depth = 0usize;
    let mut props_allowed = false;
    let mut root_done = false;
    loop {
        let token = be32(structs, pos).ok_or(("structure block ends before FDT_END", pos))?;
        let at = pos;
        pos += 4;
        match token {
            FDT_BEGIN_NODE => {
                if root_done {
                    return Err(("a second root node", at));
                }
                let (next, name) = skip_name(structs, pos)
                    .ok_or(("node name is not NUL-terminated UTF-8", pos))?;
                if depth == 0 && !name.is_empty() {
                    return Err(("root node name is not empty", pos));
                }
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(("nodes nested too deeply", at));
                }
                props_allowed = true;
                pos = next;
            }
            FDT_END_NODE => {
                depth = depth
                    .checked_sub(1)
                    .ok_or(("FDT_END_NODE without a node", at))?;
                props_allowed = false;
                if depth == 0 {
                    root_done = true;
                }
            }
            FDT_PROP => {
                if !props_allowed {
                    return Err(("property outside a node or after a child node", at));
                }
                let len = be32(structs, pos).ok_or(("truncated property header", pos))? as usize;
                let name_off =
                    be32(structs, pos + 4).ok_or(("truncated property header", pos))? as usize;
                let value_start = pos + 8;
                let value_end = value_start
                    .checked_add(len)
                    .filter(|&end| end <= structs.len())
                    .ok_or(("property value runs past the structure block", pos))?;
                let name_ok = strings
                    .get(name_off..)
                    .and_then(|rest| {
                        let n = rest.iter().position(|&b| b == 0)?;
                        core::str::from_utf8(rest.get(..n)?).ok()
                    })
                    .is_some();
                if !name_ok {
                    return Err((
                        "property name offset is not a NUL-terminated UTF-8 string",
                        pos + 4,
                    ));
                }
                pos = align4(value_end)
                    .ok_or(("property value runs past the structure block", pos))?;
            }
            FDT_END => {
                return if root_done {
                    Ok(())
                } else {
                    Err(("FDT_END inside a node", at))
                };
            }
            FDT_NOP => return Err(("FDT_NOP tokens are not accepted", at)),
            _ => return Err(("unknown structure token", at)),
        }
    }
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
    fn every_single_byte_corruption_is_caught_or_harmless_to_fdt() {
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
