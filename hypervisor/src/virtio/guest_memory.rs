//! How a virtio device reaches a partition's memory: only through [`GuestMemory`], whose
//! implementations check every guest-physical range against that partition's own RAM (its
//! stage-2 view). The walker copies what it reads into hypervisor memory before it looks at it.

/// A guest-physical range outside the partition's RAM (or one that wraps).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutsideRam {
    /// Where the range starts.
    pub ipa: u64,
    /// How long it is.
    pub len: u64,
}

/// One partition's RAM as a virtio device sees it, by guest-physical address (IPA).
pub trait GuestMemory {
    /// Whether `[ipa, ipa + len)` lies wholly in the partition's RAM (false if it wraps).
    fn contains(&self, ipa: u64, len: u64) -> bool;

    /// Copies `out.len()` bytes at `ipa` into `out`.
    fn read(&self, ipa: u64, out: &mut [u8]) -> Result<(), OutsideRam>;

    /// Copies `data` to `ipa`.
    fn write(&mut self, ipa: u64, data: &[u8]) -> Result<(), OutsideRam>;

    /// Orders the reads before it against the reads after it, as the driver's writes were
    /// ordered (a `dmb` on hardware; nothing on the host).
    fn read_barrier(&self) {}

    /// Orders the writes before it against the writes after it (a `dmb` on hardware).
    fn write_barrier(&self) {}

    /// Reads a little-endian `u16` at `ipa`.
    fn read_u16(&self, ipa: u64) -> Result<u16, OutsideRam> {
        let mut bytes = [0; 2];
        self.read(ipa, &mut bytes)?;
        Ok(u16::from_le_bytes(bytes))
    }

    /// Writes a little-endian `u16` at `ipa`.
    fn write_u16(&mut self, ipa: u64, value: u16) -> Result<(), OutsideRam> {
        self.write(ipa, &value.to_le_bytes())
    }
}

/// A host fake: one contiguous RAM region at `base` (tests and fuzz targets).
#[cfg(any(test, feature = "fakes"))]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeMemory {
    /// The region's first IPA.
    pub base: u64,
    /// Its bytes.
    pub bytes: std::vec::Vec<u8>,
}

#[cfg(any(test, feature = "fakes"))]
impl FakeMemory {
    /// `size` zero bytes at `base`.
    pub fn new(base: u64, size: usize) -> Self {
        FakeMemory {
            base,
            bytes: std::vec![0; size],
        }
    }

    fn span(&self, ipa: u64, len: usize) -> Option<core::ops::Range<usize>> {
        let start = usize::try_from(ipa.checked_sub(self.base)?).ok()?;
        let end = start.checked_add(len)?;
        (end <= self.bytes.len()).then_some(start..end)
    }
}

#[cfg(any(test, feature = "fakes"))]
impl GuestMemory for FakeMemory {
    fn contains(&self, ipa: u64, len: u64) -> bool {
        usize::try_from(len).is_ok_and(|len| self.span(ipa, len).is_some())
    }

    fn read(&self, ipa: u64, out: &mut [u8]) -> Result<(), OutsideRam> {
        let outside = OutsideRam {
            ipa,
            len: out.len() as u64,
        };
        let span = self.span(ipa, out.len()).ok_or(outside)?;
        out.copy_from_slice(self.bytes.get(span).ok_or(outside)?);
        Ok(())
    }

    fn write(&mut self, ipa: u64, data: &[u8]) -> Result<(), OutsideRam> {
        let outside = OutsideRam {
            ipa,
            len: data.len() as u64,
        };
        let span = self.span(ipa, data.len()).ok_or(outside)?;
        self.bytes
            .get_mut(span)
            .ok_or(outside)?
            .copy_from_slice(data);
        Ok(())
    }
}
