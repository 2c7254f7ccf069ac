//! Why a boot bundle was rejected.

use core::fmt;

/// A problem found by [`super::Bundle::parse`], with the offending values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BundleError {
    /// Fewer bytes than the 24-byte header.
    TooShort {
        /// Bytes available.
        len: usize,
    },
    /// The first 8 bytes are not `b"BLKHDBDL"`.
    BadMagic {
        /// The bytes found.
        found: [u8; 8],
    },
    /// A format version this build does not read.
    BadVersion {
        /// The version found.
        found: u32,
    },
    /// `total_size` is larger than the bytes available.
    Truncated {
        /// The header's `total_size`.
        total_size: u64,
        /// Bytes available.
        len: usize,
    },
    /// More entries than [`super::MAX_BUNDLE_ENTRIES`].
    TooManyEntries {
        /// The header's count.
        count: u32,
        /// The limit.
        max: usize,
    },
    /// The entry table does not fit in `total_size`.
    TableOutside {
        /// The header's count.
        count: u32,
        /// The header's `total_size`.
        total_size: u64,
    },
    /// An entry's data does not lie within `total_size`.
    EntryOutside {
        /// Entry index.
        index: usize,
        /// Its offset.
        offset: u64,
        /// Its size.
        size: u64,
        /// The header's `total_size`.
        total_size: u64,
    },
    /// An entry's offset is not 4096-aligned.
    Misaligned {
        /// Entry index.
        index: usize,
        /// Its offset.
        offset: u64,
    },
    /// An entry's data starts inside the header or entry table.
    EntryOverlapsTable {
        /// Entry index.
        index: usize,
        /// Its offset.
        offset: u64,
    },
    /// An entry's name field is malformed.
    BadName {
        /// Entry index.
        index: usize,
        /// What is wrong with it.
        why: &'static str,
    },
    /// Two entries have the same name.
    DuplicateName {
        /// The later entry's index.
        index: usize,
        /// The earlier entry's index.
        first: usize,
    },
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort { len } => {
                write!(f, "bundle: {len} bytes is shorter than the 24-byte header")
            }
            Self::BadMagic { found } => write!(
                f,
                "bundle: bad magic {found:02x?}, expected \"BLKHDBDL\"; was the bundle appended?"
            ),
            Self::BadVersion { found } => write!(
                f,
                "bundle: version {found} is not supported (expected {})",
                super::VERSION
            ),
            Self::Truncated { total_size, len } => write!(
                f,
                "bundle: header says {total_size} bytes but only {len} are available"
            ),
            Self::TooManyEntries { count, max } => {
                write!(f, "bundle: {count} entries, at most {max} allowed")
            }
            Self::TableOutside { count, total_size } => write!(
                f,
                "bundle: entry table of {count} entries does not fit in {total_size} bytes"
            ),
            Self::EntryOutside {
                index,
                offset,
                size,
                total_size,
            } => write!(
                f,
                "bundle entry {index}: data at offset {offset:#x}, size {size:#x} runs past \
                 the bundle end {total_size:#x}"
            ),
            Self::Misaligned { index, offset } => write!(
                f,
                "bundle entry {index}: offset {offset:#x} is not 4096-aligned"
            ),
            Self::EntryOverlapsTable { index, offset } => write!(
                f,
                "bundle entry {index}: offset {offset:#x} is inside the header or entry table"
            ),
            Self::BadName { index, why } => write!(f, "bundle entry {index}: bad name: {why}"),
            Self::DuplicateName { index, first } => {
                write!(f, "bundle entry {index}: same name as entry {first}")
            }
        }
    }
}
