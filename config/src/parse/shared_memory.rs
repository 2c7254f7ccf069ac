//! A channel's `shared-memory` node while it is being read: `reg` (the physical region), `ipa`
//! (where each end sees it) and `access` ("rw" or "ro" per end), all required. Where the region
//! may lie is checked by `crate::validate` (`validate/shared_memory.rs`).

use super::at::At;
use super::rules;
use crate::cells;
use crate::error::{ConfigError, ErrorKind};
use crate::model::{Channel, SharedMemory};

/// The properties a `shared-memory` node takes, for error messages.
const PROPERTIES: &str = "reg, ipa, access";

/// What is known about the `shared-memory` node being read.
#[derive(Default)]
pub(super) struct SharedMemoryReader<'a> {
    at: At<'a>,
    /// Whether the node is open (begun and not ended) in the current channel.
    open: bool,
    value: SharedMemory,
    reg: bool,
    ipa: bool,
    access: bool,
}

impl<'a> SharedMemoryReader<'a> {
    /// Whether a `shared-memory` node is being read.
    pub(super) fn seen(&self) -> bool {
        self.open
    }

    /// Starts reading the node at `at`.
    pub(super) fn begin(&mut self, at: At<'a>) {
        *self = SharedMemoryReader {
            at,
            open: true,
            ..Self::default()
        };
    }

    /// Takes in one property of the node.
    pub(super) fn property(&mut self, name: &str, value: &[u8]) -> Result<(), ConfigError> {
        let result = match name {
            "reg" => rules::reg(value).map(|range| {
                self.value.phys = range;
                self.reg = true;
            }),
            "ipa" => ipas(value).map(|ipa| {
                self.value.ipa = ipa;
                self.ipa = true;
            }),
            "access" => access(value).map(|writable| {
                self.value.writable = writable;
                self.access = true;
            }),
            _ => rules::check_ignored(name, value, PROPERTIES),
        };
        result.map_err(|kind| self.at.err(kind))
    }

    /// Ends the node: says what it lacks, or stores it in the channel.
    pub(super) fn end(&mut self, slot: &mut Channel<'a>) -> Result<(), ConfigError> {
        self.open = false;
        let missing = |name| self.at.err(ErrorKind::MissingProperty { name });
        if !self.reg {
            return Err(missing("reg"));
        }
        if !self.ipa {
            return Err(missing("ipa"));
        }
        if !self.access {
            return Err(missing("access"));
        }
        slot.shared = Some(self.value);
        Ok(())
    }
}

/// Decodes `ipa`: two two-cell addresses, one per end in the order of `partitions`.
fn ipas(value: &[u8]) -> Result<[u64; 2], ErrorKind> {
    let why = "must be 4 cells: the IPA of each partition's window (two cells each), in the order of `partitions`";
    let mut list = cells::u32_list(value).ok_or_else(|| rules::bad("ipa", why))?;
    match (
        list.next(),
        list.next(),
        list.next(),
        list.next(),
        list.next(),
    ) {
        (Some(a_hi), Some(a_lo), Some(b_hi), Some(b_lo), None) => Ok([
            (u64::from(a_hi) << 32) | u64::from(a_lo),
            (u64::from(b_hi) << 32) | u64::from(b_lo),
        ]),
        _ => Err(rules::bad("ipa", why)),
    }
}

/// Decodes `access`: two strings, "rw" or "ro", one per end.
fn access(value: &[u8]) -> Result<[bool; 2], ErrorKind> {
    let why =
        "must be two strings, \"rw\" or \"ro\", one per partition in the order of `partitions`";
    let mut list = cells::string_list(value).ok_or_else(|| rules::bad("access", why))?;
    let one = |s: Option<&str>| match s {
        Some("rw") => Ok(true),
        Some("ro") => Ok(false),
        _ => Err(rules::bad("access", why)),
    };
    let a = one(list.next())?;
    let b = one(list.next())?;
    if list.next().is_some() {
        return Err(rules::bad("access", why));
    }
    Ok([a, b])
}
