//! A single-pass reader of flattened device trees (devicetree specification v0.4, chapter 5).
//!
//! The hypervisor reads the host device tree once at boot, and its configuration too.
//! General-purpose FDT crates look nodes up by walking the tree again for every query, which
//! costs hundreds of thousands of instructions on QEMU's `virt` tree; this walker visits each
//! token once and reports nodes and properties to a visitor in document order.
//!
//! There are two walks over the same token reader:
//!
//! * [`walk`] is lenient: it checks only what it must to stay inside the blob, skips `FDT_NOP`
//!   and hands names out as bytes without validating them. It suits device trees written by
//!   firmware, which may have edited them in place.
//! * [`walk_strict`] accepts only what `dtc` writes and says what is wrong and where
//!   ([`Malformed`]): a sound header, blocks inside the blob, one root node with an empty name,
//!   balanced nesting at most [`MAX_DEPTH`] deep, properties before child nodes, UTF-8 names
//!   (handed out as `&str`) and no `FDT_NOP`. It suits blobs that must be exactly right, such
//!   as a partition configuration.
//!
//! Neither panics, whatever the blob holds.

/// Why [`walk`] found a blob not a usable device tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FdtError {
    /// The magic number is wrong or the header is cut short.
    BadHeader,
    /// A token, name or property runs past the structure block.
    Truncated,
    /// An unknown token.
    BadToken(u32),
}

/// Why [`walk_strict`] refused a blob, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Malformed {
    /// What is wrong, as a phrase such as `"FDT_NOP tokens are not accepted"`.
    pub why: &'static str,
    /// Byte offset in the blob where the problem was found.
    pub offset: usize,
}

const fn malformed(why: &'static str, offset: usize) -> Malformed {
    Malformed { why, offset }
}

/// One thing a walk found.
///
/// `Name` is how names are handed out: bytes from [`walk`], which never validates them, and
/// `&str` from [`walk_strict`], which checks they are UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'a, Name = &'a [u8]> {
    /// A node starts; `depth` 0 is the root.
    Begin {
        /// The node's name with its unit address (`pl011@9000000`; empty for the root).
        name: Name,
        /// Nesting depth.
        depth: usize,
    },
    /// A property of the innermost open node.
    Property {
        /// The property name.
        name: Name,
        /// Its raw value.
        value: &'a [u8],
    },
    /// The innermost open node ends.
    End,
}

/// What [`walk_strict`] reports: [`Event`] with names checked to be UTF-8.
pub type StrictEvent<'a> = Event<'a, &'a str>;

/// Deepest node nesting [`walk_strict`] accepts, counting the root as 1.
pub const MAX_DEPTH: usize = 16;

const MAGIC: u32 = 0xd00d_feed;
const HEADER_LEN: usize = 40;
const MIN_VERSION: u32 = 17;
const TOKEN_BEGIN_NODE: u32 = 1;
const TOKEN_END_NODE: u32 = 2;
const TOKEN_PROP: u32 = 3;
const TOKEN_NOP: u32 = 4;
const TOKEN_END: u32 = 9;

const WHY_SHORT: &str = "blob is shorter than the 40-byte header";
const WHY_NAME: &str = "node name is not NUL-terminated UTF-8";
const WHY_PROP_NAME: &str = "property name offset is not a NUL-terminated UTF-8 string";
const WHY_PROP_HEADER: &str = "truncated property header";
const WHY_PROP_VALUE: &str = "property value runs past the structure block";

fn be32(blob: &[u8], at: usize) -> Option<u32> {
    let bytes: [u8; 4] = blob.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(bytes))
}

fn be64(blob: &[u8], at: usize) -> Option<u64> {
    Some((u64::from(be32(blob, at)?) << 32) | u64::from(be32(blob, at.checked_add(4)?)?))
}

/// The NUL-terminated string at `at` (without its NUL). A byte loop: names are short, and a
/// word-at-a-time search (aligned loads, with the target's strict alignment) measured slower
/// on the host tree's walk at boot.
fn c_string(blob: &[u8], at: usize) -> Option<&[u8]> {
    let tail = blob.get(at..)?;
    let len = tail.iter().position(|&b| b == 0)?;
    tail.get(..len)
}

/// The memory reservation block's entries (`/memreserve/`): (address, size).
pub fn reservations(blob: &[u8]) -> impl Iterator<Item = (u64, u64)> + '_ {
    let start = be32(blob, 16).unwrap_or(u32::MAX) as usize;
    (0..64usize).map_while(move |i| {
        let at = start.checked_add(i.checked_mul(16)?)?;
        let (address, size) = (be64(blob, at)?, be64(blob, at.checked_add(8)?)?);
        (address != 0 || size != 0).then_some((address, size))
    })
}

/// Reads a structure block token by token, keeping every read inside the block.
///
/// Offsets are into the whole blob, so errors can name them directly.
struct Tokens<'a> {
    /// The blob, cut at the end of the structure block.
    structs: &'a [u8],
    /// The strings block, where property names live.
    strings: &'a [u8],
    /// Where padding is measured from: the start of the structure block for
    /// [`walk_strict`], the start of the blob for [`walk`].
    base: usize,
    /// Offset of the next token.
    at: usize,
}

impl<'a> Tokens<'a> {
    /// Reads the next token; returns it with its offset.
    fn token(&mut self) -> Result<(u32, usize), Malformed> {
        let at = self.at;
        let token =
            be32(self.structs, at).ok_or(malformed("structure block ends before FDT_END", at))?;
        self.at = at.saturating_add(4);
        Ok((token, at))
    }

    /// Reads the name that follows `FDT_BEGIN_NODE`.
    fn node_name(&mut self) -> Result<&'a [u8], Malformed> {
        let at = self.at;
        let name = c_string(self.structs, at).ok_or(malformed(WHY_NAME, at))?;
        self.at = self.pad(at, name.len(), 1).ok_or(malformed(WHY_NAME, at))?;
        Ok(name)
    }

    /// Reads what follows `FDT_PROP`: the property's name and value.
    fn property(&mut self) -> Result<(&'a [u8], &'a [u8]), Malformed> {
        let at = self.at;
        let header = malformed(WHY_PROP_HEADER, at);
        let len = be32(self.structs, at).ok_or(header)? as usize;
        let name_offset = be32(self.structs, at.saturating_add(4)).ok_or(header)? as usize;
        let past = malformed(WHY_PROP_VALUE, at);
        let start = at.checked_add(8).ok_or(past)?;
        let value = start
            .checked_add(len)
            .and_then(|end| self.structs.get(start..end))
            .ok_or(past)?;
        let name = c_string(self.strings, name_offset)
            .ok_or(malformed(WHY_PROP_NAME, at.saturating_add(4)))?;
        self.at = self.pad(start, len, 0).ok_or(past)?;
        Ok((name, value))
    }

    /// The offset of the next token after `len (+ extra)` bytes of operand at `at`.
    fn pad(&self, at: usize, len: usize, extra: usize) -> Option<usize> {
        let end = at.checked_add(len)?.checked_add(extra)?;
        let padded = end.checked_sub(self.base)?.checked_next_multiple_of(4)?;
        padded.checked_add(self.base)
    }
}

/// Walks the structure block of `blob`, calling `visit` for every node and property.
///
/// Lenient: see the [module documentation](self).
pub fn walk<'a>(blob: &'a [u8], mut visit: impl FnMut(Event<'a>)) -> Result<(), FdtError> {
    if be32(blob, 0) != Some(MAGIC) {
        return Err(FdtError::BadHeader);
    }
    let total = (be32(blob, 4).ok_or(FdtError::BadHeader)? as usize).min(blob.len());
    let blob = blob.get(..total).ok_or(FdtError::BadHeader)?;
    let structs = be32(blob, 8).ok_or(FdtError::BadHeader)? as usize;
    let strings = be32(blob, 12).ok_or(FdtError::BadHeader)? as usize;
    let mut tokens = Tokens {
        structs: blob,
        strings: blob.get(strings..).unwrap_or_default(),
        base: 0,
        at: structs,
    };
    let mut depth = 0usize;
    loop {
        let (token, _) = tokens.token().map_err(|_| FdtError::Truncated)?;
        match token {
            TOKEN_BEGIN_NODE => {
                let name = tokens.node_name().map_err(|_| FdtError::Truncated)?;
                visit(Event::Begin { name, depth });
                depth = depth.saturating_add(1);
            }
            TOKEN_END_NODE => {
                depth = depth.checked_sub(1).ok_or(FdtError::BadToken(token))?;
                visit(Event::End);
            }
            TOKEN_PROP => {
                let (name, value) = tokens.property().map_err(|_| FdtError::Truncated)?;
                visit(Event::Property { name, value });
            }
            TOKEN_NOP => {}
            TOKEN_END => return Ok(()),
            other => return Err(FdtError::BadToken(other)),
        }
    }
}

/// Checks the header of `blob` and finds its blocks.
fn strict_tokens(blob: &[u8]) -> Result<Tokens<'_>, Malformed> {
    if blob.len() < HEADER_LEN {
        return Err(malformed(WHY_SHORT, blob.len()));
    }
    let field = |at| {
        be32(blob, at)
            .map(|v| v as usize)
            .ok_or(malformed(WHY_SHORT, blob.len()))
    };
    if field(0)? != MAGIC as usize {
        return Err(malformed("bad magic, expected 0xd00dfeed", 0));
    }
    let total = field(4)?;
    if total > blob.len() {
        return Err(malformed("header's totalsize is larger than the blob", 4));
    }
    if field(20)? < MIN_VERSION as usize {
        return Err(malformed("FDT version is older than 17", 20));
    }
    let block = |offset: usize, len: usize| {
        let end = offset.checked_add(len).filter(|&end| end <= total)?;
        Some((offset, blob.get(..end)?))
    };
    let (struct_off, structs) = block(field(8)?, field(36)?)
        .ok_or(malformed("structure block lies outside the blob", 8))?;
    let (strings_off, strings) = block(field(12)?, field(32)?)
        .ok_or(malformed("strings block lies outside the blob", 12))?;
    Ok(Tokens {
        structs,
        strings: strings.get(strings_off..).unwrap_or_default(),
        base: struct_off,
        at: struct_off,
    })
}

/// Walks the structure block of `blob` like [`walk`], but refuses anything `dtc` would not
/// write (see the [module documentation](self)), with the reason and the offset.
///
/// `visit` sees the events before the problem, if there is one; the walk stops there.
pub fn walk_strict<'a>(
    blob: &'a [u8],
    mut visit: impl FnMut(StrictEvent<'a>),
) -> Result<(), Malformed> {
    let mut tokens = strict_tokens(blob)?;
    let mut depth = 0usize;
    let mut props_allowed = false;
    let mut root_done = false;
    loop {
        let (token, at) = tokens.token()?;
        let operand = at.saturating_add(4);
        match token {
            TOKEN_BEGIN_NODE => {
                if root_done {
                    return Err(malformed("a second root node", at));
                }
                let name = tokens.node_name()?;
                let name = core::str::from_utf8(name).map_err(|_| malformed(WHY_NAME, operand))?;
                if depth == 0 && !name.is_empty() {
                    return Err(malformed("root node name is not empty", operand));
                }
                if depth >= MAX_DEPTH {
                    return Err(malformed("nodes nested too deeply", at));
                }
                visit(Event::Begin { name, depth });
                depth = depth.saturating_add(1); // below MAX_DEPTH, checked above
                props_allowed = true;
            }
            TOKEN_END_NODE => {
                depth = depth
                    .checked_sub(1)
                    .ok_or(malformed("FDT_END_NODE without a node", at))?;
                props_allowed = false;
                root_done = depth == 0;
                visit(Event::End);
            }
            TOKEN_PROP => {
                if !props_allowed {
                    return Err(malformed(
                        "property outside a node or after a child node",
                        at,
                    ));
                }
                let (name, value) = tokens.property()?;
                let name = core::str::from_utf8(name)
                    .map_err(|_| malformed(WHY_PROP_NAME, operand.saturating_add(4)))?;
                visit(Event::Property { name, value });
            }
            TOKEN_END if root_done => return Ok(()),
            TOKEN_END => return Err(malformed("FDT_END inside a node", at)),
            TOKEN_NOP => return Err(malformed("FDT_NOP tokens are not accepted", at)),
            _ => return Err(malformed("unknown structure token", at)),
        }
    }
}

/// Reads a big-endian number of `cells` 32-bit cells (1 or 2) at cell index `index` of `value`.
pub fn cells(value: &[u8], index: usize, cells: usize) -> Option<u64> {
    let at = index.checked_mul(4)?;
    match cells {
        1 => be32(value, at).map(u64::from),
        2 => be64(value, at),
        _ => None,
    }
}

/// The strings of a string-list property (`compatible`), as bytes.
pub fn strings(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.split(|&b| b == 0).filter(|s| !s.is_empty())
}

/// The first string of a string property, if it is UTF-8.
pub fn text(value: &[u8]) -> Option<&str> {
    core::str::from_utf8(strings(value).next()?).ok()
}

/// Whether a node with this `status` value (empty when the node has none) is usable:
/// devicetree spec 2.3.4 says "okay", the deprecated "ok", or no `status` at all.
pub fn status_okay(status: &[u8]) -> bool {
    matches!(strings(status).next(), None | Some(b"okay" | b"ok"))
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    const VIRT: &[u8] = include_bytes!("../tests/fixtures/qemu-virt-gicv3.dtb");

    #[test]
    fn c_string_finds_the_first_nul_at_every_alignment_and_length() {
        for offset in 0..16 {
            for len in 0..40 {
                for trailing in [0usize, 1, 9] {
                    let mut blob = std::vec![0xffu8; offset];
                    blob.extend(
                        (0..len).map(|i| (b'a' + (i % 26) as u8) | (0x80 * (i % 3 == 0) as u8)),
                    );
                    blob.push(0);
                    blob.extend(std::iter::repeat_n(0x01, trailing));
                    let expected = &blob[offset..offset + len];
                    assert_eq!(c_string(&blob, offset), Some(expected), "{offset} {len}");
                }
                let mut unterminated = std::vec![0xffu8; offset];
                unterminated.extend(std::iter::repeat_n(0x01u8, len));
                assert_eq!(c_string(&unterminated, offset), None, "{offset} {len}");
            }
        }
        assert_eq!(c_string(b"abc", 4), None);
    }

    #[test]
    fn walks_every_node_of_the_qemu_tree_in_order() {
        let mut names = std::vec::Vec::new();
        let mut open = 0i32;
        walk(VIRT, |event| match event {
            Event::Begin { name, .. } => {
                names.push(std::string::String::from_utf8(name.to_vec()).unwrap());
                open += 1;
            }
            Event::End => open -= 1,
            Event::Property { .. } => {}
        })
        .unwrap();
        assert_eq!(open, 0);
        assert_eq!(names[0], "");
        assert!(names.iter().any(|n| n == "pl011@9000000"));
        assert!(names.iter().any(|n| n == "psci"));
    }

    #[test]
    fn bad_blobs_are_errors_not_panics() {
        assert_eq!(walk(&[0; 16], |_| {}), Err(FdtError::BadHeader));
        let mut cut = VIRT.to_vec();
        cut.truncate(200);
        assert!(walk(&cut, |_| {}).is_err());
        for len in 0..64 {
            let _ = walk(&VIRT[..len], |_| {});
        }
    }

    #[test]
    fn strict_walk_sees_what_the_lenient_walk_sees_in_dtc_output() {
        let mut lenient = std::vec::Vec::new();
        walk(VIRT, |event| lenient.push(event)).unwrap();
        let mut strict = std::vec::Vec::new();
        walk_strict(VIRT, |event| strict.push(event)).unwrap();
        assert_eq!(lenient.len(), strict.len());
        for (a, b) in lenient.iter().zip(&strict) {
            let same = match (a, b) {
                (Event::Begin { name, depth }, Event::Begin { name: n, depth: d }) => {
                    *name == n.as_bytes() && depth == d
                }
                (Event::Property { name, value }, Event::Property { name: n, value: v }) => {
                    *name == n.as_bytes() && value == v
                }
                (Event::End, Event::End) => true,
                _ => false,
            };
            assert!(same, "{a:?} != {b:?}");
        }
    }

    /// A blob whose structure block is `words` (4-byte tokens and operands)
    /// and whose strings block is empty.
    fn blob(words: &[u32]) -> std::vec::Vec<u8> {
        let total = (HEADER_LEN + 4 * words.len()) as u32;
        let header = [MAGIC, total, 40, total, 40, 17, 16, 0, 0, total - 40];
        header
            .iter()
            .chain(words)
            .flat_map(|word| word.to_be_bytes())
            .collect()
    }

    /// The words of `depth` nested nodes with empty names.
    fn nested(depth: usize) -> std::vec::Vec<u32> {
        let mut words = std::vec::Vec::new();
        for _ in 0..depth {
            words.extend([TOKEN_BEGIN_NODE, 0]);
        }
        words.extend(std::iter::repeat_n(TOKEN_END_NODE, depth));
        words.push(TOKEN_END);
        words
    }

    #[test]
    fn strict_walk_says_what_is_wrong_and_where() {
        assert_eq!(
            walk_strict(&VIRT[..39], |_| {}),
            Err(Malformed {
                why: "blob is shorter than the 40-byte header",
                offset: 39
            })
        );
        let nop = blob(&[TOKEN_BEGIN_NODE, 0, TOKEN_NOP, TOKEN_END_NODE, TOKEN_END]);
        assert_eq!(
            walk_strict(&nop, |_| {}),
            Err(Malformed {
                why: "FDT_NOP tokens are not accepted",
                offset: 48
            })
        );
        let mut events = 0;
        assert_eq!(walk(&nop, |_| events += 1), Ok(()));
        assert_eq!(events, 2, "the lenient walk skips FDT_NOP");
    }

    #[test]
    fn strict_walk_accepts_nesting_up_to_max_depth() {
        let mut deepest = 0;
        let at_limit = walk_strict(&blob(&nested(MAX_DEPTH)), |event| {
            if let Event::Begin { depth, .. } = event {
                deepest = depth;
            }
        });
        assert_eq!(at_limit, Ok(()));
        assert_eq!(deepest, MAX_DEPTH - 1);
        let too_deep = walk_strict(&blob(&nested(MAX_DEPTH + 1)), |_| {});
        assert_eq!(too_deep.map_err(|m| m.why), Err("nodes nested too deeply"));
    }

    #[test]
    fn string_lists_and_cells_decode() {
        let list: std::vec::Vec<&[u8]> = strings(b"arm,pl011\0arm,primecell\0").collect();
        assert_eq!(list, [&b"arm,pl011"[..], &b"arm,primecell"[..]]);
        assert_eq!(text(b"smc\0"), Some("smc"));
        assert_eq!(cells(&[0, 0, 0, 1, 0, 0, 0, 2], 0, 2), Some(0x1_0000_0002));
        assert_eq!(cells(&[0, 0, 0, 1, 0, 0, 0, 2], 1, 1), Some(2));
        assert_eq!(cells(&[0, 0, 0, 1], 1, 1), None);
    }

    #[test]
    fn only_okay_ok_or_no_status_is_usable() {
        for status in [&b""[..], b"okay\0", b"ok\0", b"okay"] {
            assert!(status_okay(status), "{status:?}");
        }
        for status in [&b"disabled\0"[..], b"reserved\0", b"fail\0", b"fail-sss\0"] {
            assert!(!status_okay(status), "{status:?}");
        }
    }
}
