//! The boot bundle: the configuration DTB and every guest image, appended to
//! the hypervisor image.
//!
//! Layout, all integers little-endian:
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 8 | magic `b"BLKHDBDL"` |
//! | 8 | 4 | version, `1` |
//! | 12 | 4 | entry count |
//! | 16 | 8 | total size of the bundle in bytes |
//! | 24 | 64 × count | entries: name (48 bytes, UTF-8, NUL-padded), offset (u64, from the bundle start, 4096-aligned), size (u64) |
//! | … | … | entry data, each starting on a 4096-byte boundary |

mod error;
// Host-side only (xtask), on entries it made itself: it may panic in `write_bundle`.
#[cfg(any(feature = "alloc", test))]
#[allow(
    clippy::panic,
    clippy::arithmetic_side_effects,
    reason = "host-side writer of the build's own entries, never reached by a guest"
)]
mod writer;

pub use error::BundleError;
#[cfg(any(feature = "alloc", test))]
pub use writer::{try_write_bundle, write_bundle, BundleWriteError};

/// Bundle magic, the first 8 bytes.
pub const MAGIC: [u8; 8] = *b"BLKHDBDL";
/// The bundle format version this crate reads and writes.
pub const VERSION: u32 = 1;
/// Name of the entry holding the configuration DTB.
pub const CONFIG_ENTRY: &str = "config.dtb";
/// Size of the bundle header in bytes.
pub const HEADER_LEN: usize = 24;
/// Size of one entry-table record in bytes.
pub const ENTRY_LEN: usize = 64;
/// Size of the name field of an entry; names are at most this long.
pub const ENTRY_NAME_LEN: usize = 48;
/// Alignment of every entry's data, from the bundle start.
pub const ENTRY_ALIGN: u64 = 4096;
/// Most entries a bundle may have (the configuration plus three images for
/// each of eight partitions fit easily).
pub const MAX_BUNDLE_ENTRIES: usize = 64;

fn le_u32(data: &[u8], at: usize) -> Option<u32> {
    let bytes: [u8; 4] = data.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(bytes))
}

fn le_u64(data: &[u8], at: usize) -> Option<u64> {
    let bytes: [u8; 8] = data.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

/// A parsed, bounds-checked boot bundle borrowing its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bundle<'a> {
    /// Exactly `total_size` bytes.
    data: &'a [u8],
    count: usize,
}

impl<'a> Bundle<'a> {
    /// Reads `total_size` from a bundle header, so the caller knows how many
    /// bytes to hand to [`Bundle::parse`]. `None` if `data` does not start with
    /// a version-1 bundle header.
    pub fn total_size_from_header(data: &[u8]) -> Option<u64> {
        if data.get(..8)? != MAGIC || le_u32(data, 8)? != VERSION {
            return None;
        }
        le_u64(data, 16)
    }

    /// Parses a bundle starting at `data[0]`. `data` may extend past the
    /// bundle's end. Checks the magic, the version, that the entry table and
    /// every entry lie within `total_size`, that entries are aligned and that
    /// names are unique, non-empty UTF-8.
    pub fn parse(data: &'a [u8]) -> Result<Bundle<'a>, BundleError> {
        if data.len() < HEADER_LEN {
            return Err(BundleError::TooShort { len: data.len() });
        }
        let magic: [u8; 8] = data
            .get(..8)
            .and_then(|m| m.try_into().ok())
            .ok_or(BundleError::TooShort { len: data.len() })?;
        if magic != MAGIC {
            return Err(BundleError::BadMagic { found: magic });
        }
        let short = BundleError::TooShort { len: data.len() };
        let version = le_u32(data, 8).ok_or(short)?;
        if version != VERSION {
            return Err(BundleError::BadVersion { found: version });
        }
        let count = le_u32(data, 12).ok_or(short)?;
        let total_size = le_u64(data, 16).ok_or(short)?;
        let data = usize::try_from(total_size)
            .ok()
            .and_then(|total| data.get(..total))
            .ok_or(BundleError::Truncated {
                total_size,
                len: data.len(),
            })?;
        let count_usize = count as usize;
        if count_usize > MAX_BUNDLE_ENTRIES {
            return Err(BundleError::TooManyEntries {
                count,
                max: MAX_BUNDLE_ENTRIES,
            });
        }
        if table_end(count_usize) > data.len() {
            return Err(BundleError::TableOutside { count, total_size });
        }
        let bundle = Bundle {
            data,
            count: count_usize,
        };
        for index in 0..count_usize {
            let (name, _) = bundle.entry(index)?;
            for first in 0..index {
                if bundle.entry(first)?.0 == name {
                    return Err(BundleError::DuplicateName { index, first });
                }
            }
        }
        Ok(bundle)
    }

    /// Decodes and checks entry `index`.
    fn entry(&self, index: usize) -> Result<(&'a str, &'a [u8]), BundleError> {
        let data = self.data;
        let at = table_end(index);
        let total_size = data.len() as u64;
        let record = at
            .checked_add(ENTRY_LEN)
            .and_then(|end| data.get(at..end))
            .ok_or(BundleError::TableOutside {
                count: self.count as u32,
                total_size,
            })?;
        let name = entry_name(record.get(..ENTRY_NAME_LEN).unwrap_or_default())
            .map_err(|why| BundleError::BadName { index, why })?;
        let offset = le_u64(record, ENTRY_NAME_LEN).unwrap_or(u64::MAX);
        let size = le_u64(record, ENTRY_NAME_LEN + 8).unwrap_or(u64::MAX);
        if !offset.is_multiple_of(ENTRY_ALIGN) {
            return Err(BundleError::Misaligned { index, offset });
        }
        if offset < table_end(self.count) as u64 {
            return Err(BundleError::EntryOverlapsTable { index, offset });
        }
        let bytes = usize::try_from(offset)
            .ok()
            .zip(usize::try_from(size).ok())
            .and_then(|(start, len)| data.get(start..start.checked_add(len)?))
            .ok_or(BundleError::EntryOutside {
                index,
                offset,
                size,
                total_size,
            })?;
        Ok((name, bytes))
    }

    /// The data of the entry called `name`.
    pub fn get(&self, name: &str) -> Option<&'a [u8]> {
        self.entries().find(|(n, _)| *n == name).map(|(_, d)| d)
    }

    /// All entries in table order, as `(name, data)`.
    pub fn entries(&self) -> Entries<'a> {
        Entries {
            bundle: *self,
            next: 0,
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the bundle has no entries.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The whole bundle, `total_size` bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.data
    }
}

/// Where the entry table ends and data may begin (`usize::MAX` if past any address).
fn table_end(count: usize) -> usize {
    count.saturating_mul(ENTRY_LEN).saturating_add(HEADER_LEN)
}

/// Decodes a NUL-padded name field.
fn entry_name(field: &[u8]) -> Result<&str, &'static str> {
    let len = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    let (name, padding) = field.split_at(len);
    if name.is_empty() {
        return Err("empty name");
    }
    if padding.iter().any(|&b| b != 0) {
        return Err("bytes after the NUL padding");
    }
    core::str::from_utf8(name).map_err(|_| "name is not UTF-8")
}

/// Iterator over a bundle's entries, from [`Bundle::entries`].
#[derive(Clone, Debug)]
pub struct Entries<'a> {
    bundle: Bundle<'a>,
    next: usize,
}

impl<'a> Iterator for Entries<'a> {
    type Item = (&'a str, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        while self.next < self.bundle.count {
            let index = self.next;
            self.next = index.saturating_add(1);
            // Every entry was checked by `Bundle::parse`; skip rather than panic.
            if let Ok(entry) = self.bundle.entry(index) {
                return Some(entry);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests;
