//! Guest buffers named in SMCCC arguments: claims to check, never addresses to trust.

use core::fmt;

/// The most bytes one call copies from or to a guest buffer, so a call's time at EL2 stays
/// bounded; calls that take a buffer report how many bytes they handled.
pub const MAX_TRANSFER: usize = 256;

/// A range of the caller's intermediate physical address space, as the guest claims it in its
/// arguments: not yet checked against its stage-2 map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestRange {
    /// First IPA.
    pub ipa: u64,
    /// Length in bytes.
    pub len: u64,
}

impl fmt::Display for GuestRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IPA {:#018x} + {:#x}", self.ipa, self.len)
    }
}

/// Why a guest buffer was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuestMemoryError {
    /// The range is not entirely inside one RAM region of the caller (unmapped, a device or
    /// the virtual console, past the end of its RAM, or wrapping around).
    NotRam(GuestRange),
}

impl fmt::Display for GuestMemoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GuestMemoryError::NotRam(range) => write!(f, "{range} is not the caller's RAM"),
        }
    }
}
