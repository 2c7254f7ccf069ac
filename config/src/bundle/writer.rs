//! Building a boot bundle on the host (`alloc` feature).

extern crate alloc;

use super::{
    ENTRY_ALIGN, ENTRY_LEN, ENTRY_NAME_LEN, HEADER_LEN, MAGIC, MAX_BUNDLE_ENTRIES, VERSION,
};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// Why a bundle could not be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BundleWriteError {
    /// A name is empty, longer than 48 bytes or contains NUL.
    BadName {
        /// The name.
        name: String,
    },
    /// Two entries share a name but have different data.
    Conflict {
        /// The name.
        name: String,
    },
    /// More distinct entries than [`MAX_BUNDLE_ENTRIES`].
    TooManyEntries {
        /// Distinct entries given.
        count: usize,
    },
}

impl fmt::Display for BundleWriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadName { name } => write!(
                f,
                "bundle entry name {name:?} must be 1 to {ENTRY_NAME_LEN} bytes without NUL"
            ),
            Self::Conflict { name } => write!(
                f,
                "two bundle entries are named {name:?} but hold different data"
            ),
            Self::TooManyEntries { count } => write!(
                f,
                "{count} bundle entries, at most {MAX_BUNDLE_ENTRIES} allowed"
            ),
        }
    }
}

/// Builds a bundle from `(name, data)` pairs, in the given order. Each entry's
/// data starts on a 4096-byte boundary and is zero-padded to the next one.
/// Repeated entries with identical data are stored once.
pub fn try_write_bundle(entries: &[(&str, &[u8])]) -> Result<Vec<u8>, BundleWriteError> {
    let mut unique: Vec<(&str, &[u8])> = Vec::new();
    for &(name, data) in entries {
        if name.is_empty() || name.len() > ENTRY_NAME_LEN || name.contains('\0') {
            return Err(BundleWriteError::BadName {
                name: name.to_string(),
            });
        }
        match unique.iter().find(|(n, _)| *n == name) {
            Some((_, d)) if *d == data => {}
            Some(_) => {
                return Err(BundleWriteError::Conflict {
                    name: name.to_string(),
                })
            }
            None => unique.push((name, data)),
        }
    }
    if unique.len() > MAX_BUNDLE_ENTRIES {
        return Err(BundleWriteError::TooManyEntries {
            count: unique.len(),
        });
    }

    let align = ENTRY_ALIGN as usize;
    let pad = |n: usize| n.div_ceil(align) * align;
    let mut out = Vec::new();
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(unique.len() as u32).to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes()); // total size, patched below
    let mut offset = pad(HEADER_LEN + unique.len() * ENTRY_LEN);
    for (name, data) in &unique {
        let mut field = [0u8; ENTRY_NAME_LEN];
        for (slot, byte) in field.iter_mut().zip(name.bytes()) {
            *slot = byte;
        }
        out.extend_from_slice(&field);
        out.extend_from_slice(&(offset as u64).to_le_bytes());
        out.extend_from_slice(&(data.len() as u64).to_le_bytes());
        offset += pad(data.len());
    }
    for (_, data) in &unique {
        out.resize(pad(out.len()), 0);
        out.extend_from_slice(data);
    }
    out.resize(pad(out.len()), 0);
    let total = (out.len() as u64).to_le_bytes();
    for (slot, byte) in out.iter_mut().skip(16).zip(total) {
        *slot = byte;
    }
    Ok(out)
}

/// Builds a bundle like [`try_write_bundle`].
///
/// # Panics
///
/// If a name is empty, longer than 48 bytes or contains NUL, if two entries
/// share a name but not their data, or if there are more than
/// [`MAX_BUNDLE_ENTRIES`] entries. This is a host-side build tool function;
/// use [`try_write_bundle`] to handle these cases.
pub fn write_bundle(entries: &[(&str, &[u8])]) -> Vec<u8> {
    match try_write_bundle(entries) {
        Ok(bundle) => bundle,
        Err(e) => panic!("cannot write boot bundle: {e}"),
    }
}
