//! The width of one data access, as a syndrome encodes it (ESR_EL2.ISS.SAS) and as emulated
//! devices take it.

/// The width of one access (its value is its size in bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum AccessWidth {
    /// 8 bits.
    Byte = 1,
    /// 16 bits.
    Half = 2,
    /// 32 bits.
    Word = 4,
    /// 64 bits.
    Double = 8,
}

impl AccessWidth {
    /// The width of a `bytes`-byte access, if it is one (1, 2, 4 or 8).
    pub fn from_bytes(bytes: u8) -> Option<Self> {
        // A table, not a match: this runs on every emulated access.
        const BY_SIZE: [Option<AccessWidth>; 9] = [
            None,
            Some(AccessWidth::Byte),
            Some(AccessWidth::Half),
            None,
            Some(AccessWidth::Word),
            None,
            None,
            None,
            Some(AccessWidth::Double),
        ];
        BY_SIZE.get(usize::from(bytes)).copied().flatten()
    }

    /// The width a data abort's SAS field (ISS bits [23:22]) names: `sas` 0..=3 is a byte,
    /// halfword, word or doubleword (only the low two bits are looked at).
    pub fn from_sas(sas: u64) -> Self {
        match sas & 0b11 {
            0 => AccessWidth::Byte,
            1 => AccessWidth::Half,
            2 => AccessWidth::Word,
            _ => AccessWidth::Double,
        }
    }

    /// Its size in bytes.
    pub fn bytes(self) -> u8 {
        self as u8
    }

    /// Its size in bits.
    pub fn bits(self) -> u32 {
        u32::from(self.bytes()) * 8
    }

    /// The mask of its bits.
    pub fn mask(self) -> u64 {
        u64::MAX >> (64 - self.bits())
    }

    /// `value` cut to this width.
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
    }
}
