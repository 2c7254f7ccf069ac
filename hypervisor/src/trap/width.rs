//! The width of one data access, as a syndrome encodes it (ESR_EL2.ISS.SAS) and as emulated
//! devices take it.

/// The width of one access. Its value is the log2 of its size in bytes, as SAS encodes it, so a
/// syndrome's field is the width as it stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum AccessWidth {
    /// 8 bits.
    Byte = 0,
    /// 16 bits.
    Half = 1,
    /// 32 bits.
    Word = 2,
    /// 64 bits.
    Double = 3,
}

impl AccessWidth {
    /// The width of a `bytes`-byte access, if it is one (1, 2, 4 or 8).
    pub fn from_bytes(bytes: u8) -> Option<Self> {
        match bytes {
            1 => Some(AccessWidth::Byte),
            2 => Some(AccessWidth::Half),
            4 => Some(AccessWidth::Word),
            8 => Some(AccessWidth::Double),
            _ => None,
        }
    }

    /// The width a data abort's SAS field (ISS bits [23:22]) names: `sas` 0..=3 is a byte,
    /// halfword, word or doubleword (only the low two bits are looked at).
    #[inline]
    pub fn from_sas(sas: u64) -> Self {
        match sas & 0b11 {
            0 => AccessWidth::Byte,
            1 => AccessWidth::Half,
            2 => AccessWidth::Word,
            _ => AccessWidth::Double,
        }
    }

    /// Its size in bytes.
    #[inline]
    pub fn bytes(self) -> u8 {
        1 << (self as u8)
    }

    /// Its size in bits.
    #[inline]
    pub fn bits(self) -> u32 {
        8 << (self as u32)
    }

    /// The mask of its bits.
    #[inline]
    pub fn mask(self) -> u64 {
        // bits() is 8..=64: the shift is 0..=56.
        u64::MAX >> 64u32.wrapping_sub(self.bits())
    }

    /// `value` cut to this width.
    #[inline]
    pub fn truncate(self, value: u64) -> u64 {
        value & self.mask()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_syndrome_size_is_a_width_and_back() {
        for (sas, bytes) in [(0, 1), (1, 2), (2, 4), (3, 8)] {
            let width = AccessWidth::from_sas(sas);
            assert_eq!(width.bytes(), bytes);
            assert_eq!(AccessWidth::from_bytes(bytes), Some(width));
        }
        assert_eq!(AccessWidth::from_bytes(3), None);
        assert_eq!(AccessWidth::Half.mask(), 0xffff);
        assert_eq!(AccessWidth::Double.mask(), u64::MAX);
        assert_eq!(AccessWidth::Byte.bits(), 8);
    }
}
