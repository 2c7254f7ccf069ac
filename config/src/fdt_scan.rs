//! A single-pass reader of flattened device trees (devicetree specification v0.4, chapter 5).
//!
//! The hypervisor reads the host device tree once at boot. General-purpose FDT crates look nodes
//! up by walking the tree again for every query, which costs hundreds of thousands of
//! instructions on QEMU's `virt` tree; this walker visits each token once and reports nodes and
//! properties to a visitor in document order.

/// Why a blob is not a usable device tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FdtError {
    /// The magic number is wrong or the header is cut short.
    BadHeader,
    /// A token, name or property runs past the structure block.
    Truncated,
    /// An unknown token.
    BadToken(u32),
}

/// One thing the walker found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A node starts; `depth` 0 is the root.
    Begin {
        /// The node's name with its unit address (`pl011@9000000`; empty for the root), as
        /// bytes: names are compared, never validated as UTF-8, which keeps the walk cheap.
        name: &'a [u8],
        /// Nesting depth.
        depth: usize,
    },
    /// A property of the innermost open node.
    Property {
        /// The property name, as bytes.
        name: &'a [u8],
        /// Its raw value.
        value: &'a [u8],
    },
    /// The innermost open node ends.
    End,
}

const MAGIC: u32 = 0xd00d_feed;
const TOKEN_BEGIN_NODE: u32 = 1;
const TOKEN_END_NODE: u32 = 2;
const TOKEN_PROP: u32 = 3;
const TOKEN_NOP: u32 = 4;
const TOKEN_END: u32 = 9;

fn be32(blob: &[u8], at: usize) -> Option<u32> {
    let bytes = blob.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

fn be64(blob: &[u8], at: usize) -> Option<u64> {
    Some((u64::from(be32(blob, at)?) << 32) | u64::from(be32(blob, at + 4)?))
}

fn c_string(blob: &[u8], at: usize) -> Option<&[u8]> {
    let tail = blob.get(at..)?;
    let len = tail.iter().position(|&b| b == 0)?;
    tail.get(..len)
}

/// The memory reservation block's entries (`/memreserve/`): (address, size).
pub fn reservations(blob: &[u8]) -> impl Iterator<Item = (u64, u64)> + '_ {
    let start = be32(blob, 16).unwrap_or(u32::MAX) as usize;
    (0..64).map_while(move |i| {
        let at = start.checked_add(i * 16)?;
        let (address, size) = (be64(blob, at)?, be64(blob, at + 8)?);
        (address != 0 || size != 0).then_some((address, size))
    })
}

/// Walks the structure block of `blob`, calling `visit` for every node and property.
pub fn walk<'a>(blob: &'a [u8], mut visit: impl FnMut(Event<'a>)) -> Result<(), FdtError> {
    if be32(blob, 0) != Some(MAGIC) {
        return Err(FdtError::BadHeader);
    }
    let total = (be32(blob, 4).ok_or(FdtError::BadHeader)? as usize).min(blob.len());
    let blob = blob.get(..total).ok_or(FdtError::BadHeader)?;
    let structs = be32(blob, 8).ok_or(FdtError::BadHeader)? as usize;
    let strings = be32(blob, 12).ok_or(FdtError::BadHeader)? as usize;
    let mut at = structs;
    let mut depth = 0usize;
    loop {
        let token = be32(blob, at).ok_or(FdtError::Truncated)?;
        at += 4;
        match token {
            TOKEN_BEGIN_NODE => {
                let name = c_string(blob, at).ok_or(FdtError::Truncated)?;
                at = (at + name.len() + 1).next_multiple_of(4);
                visit(Event::Begin { name, depth });
                depth += 1;
            }
            TOKEN_END_NODE => {
                depth = depth.checked_sub(1).ok_or(FdtError::BadToken(token))?;
                visit(Event::End);
            }
            TOKEN_PROP => {
                let len = be32(blob, at).ok_or(FdtError::Truncated)? as usize;
                let name_offset = be32(blob, at + 4).ok_or(FdtError::Truncated)? as usize;
                let value = blob.get(at + 8..at + 8 + len).ok_or(FdtError::Truncated)?;
                let name = c_string(blob, strings.saturating_add(name_offset))
                    .ok_or(FdtError::Truncated)?;
                at = (at + 8 + len).next_multiple_of(4);
                visit(Event::Property { name, value });
            }
            TOKEN_NOP => {}
            TOKEN_END => return Ok(()),
            other => return Err(FdtError::BadToken(other)),
        }
    }
}

/// Reads a big-endian number of `cells` 32-bit cells (1 or 2) at cell index `index` of `value`.
pub fn cells(value: &[u8], index: usize, cells: usize) -> Option<u64> {
    match cells {
        1 => be32(value, index * 4).map(u64::from),
        2 => be64(value, index * 4),
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

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    const VIRT: &[u8] = include_bytes!("../tests/fixtures/qemu-virt-gicv3.dtb");

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
    fn string_lists_and_cells_decode() {
        let list: std::vec::Vec<&[u8]> = strings(b"arm,pl011\0arm,primecell\0").collect();
        assert_eq!(list, [&b"arm,pl011"[..], &b"arm,primecell"[..]]);
        assert_eq!(text(b"smc\0"), Some("smc"));
        assert_eq!(cells(&[0, 0, 0, 1, 0, 0, 0, 2], 0, 2), Some(0x1_0000_0002));
        assert_eq!(cells(&[0, 0, 0, 1, 0, 0, 0, 2], 1, 1), Some(2));
        assert_eq!(cells(&[0, 0, 0, 1], 1, 1), None);
    }
}
