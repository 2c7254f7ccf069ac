//! The linear stream table (Arm IHI 0070, 3.3.1 "Linear Stream tables"): 2^LOG2SIZE STEs in
//! one contiguous, size-aligned block, indexed by StreamID. A StreamID at or past 2^LOG2SIZE
//! is out of range: the SMMU terminates its transactions (C_BAD_STREAMID, 3.3.1), so the table
//! need only reach the highest assigned stream.

use super::ste::{Ste, STE_BYTES};

/// The fewest entries a table has: 2^8, PCIe bus 0's every requester ID.
pub const MIN_LOG2SIZE: u8 = 8;
/// The most entries the driver builds: 2^8 (16 KiB), PCIe bus 0 (its memory is a static
/// block, `arch::smmu`).
pub const MAX_LOG2SIZE: u8 = 8;

/// A linear table's geometry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinearTable {
    log2size: u8,
}

/// Why a stream cannot be put in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableError {
    /// The stream ID needs more bits than the SMMU has (SMMU_IDR1.SIDSIZE) or the driver
    /// builds ([`MAX_LOG2SIZE`]).
    StreamTooLarge(u32),
    /// The memory given for the table is smaller than the table.
    TooSmall,
}

impl LinearTable {
    /// The smallest table that holds stream `max_sid` on an SMMU of `sid_bits` StreamID bits.
    pub fn for_streams(max_sid: u32, sid_bits: u8) -> Result<LinearTable, TableError> {
        let needed = u32::BITS.saturating_sub(max_sid.leading_zeros()) as u8;
        let log2size = needed.max(MIN_LOG2SIZE).min(sid_bits.max(1));
        if needed > log2size || needed > MAX_LOG2SIZE {
            return Err(TableError::StreamTooLarge(max_sid));
        }
        Ok(LinearTable { log2size })
    }

    /// SMMU_STRTAB_BASE_CFG.LOG2SIZE.
    pub fn log2size(self) -> u8 {
        self.log2size
    }

    /// How many STEs it has.
    pub fn entries(self) -> usize {
        1 << self.log2size
    }

    /// Its size in bytes, which is also its alignment (IHI 0070 6.3.23: the base is aligned
    /// to the table's size).
    pub fn bytes(self) -> usize {
        self.entries().saturating_mul(STE_BYTES)
    }

    /// Fills `table` with abort entries (`V = 1, Config = abort`) for every stream.
    pub fn fill_abort(self, table: &mut [u8]) -> Result<(), TableError> {
        let table = table.get_mut(..self.bytes()).ok_or(TableError::TooSmall)?;
        let abort = Ste::abort().to_bytes();
        for entry in table.chunks_exact_mut(STE_BYTES) {
            entry.copy_from_slice(&abort);
        }
        Ok(())
    }

    /// Writes `ste` as stream `sid`'s entry. The SMMU reads an STE in one or more accesses of
    /// at least 64 bits, so the driver writes an entry only while the SMMU may not use it (at
    /// boot, before SMMUEN; afterwards from abort to valid, followed by CMD_CFGI_STE:
    /// IHI 0070 3.21.3.1).
    pub fn write(self, table: &mut [u8], sid: u32, ste: &Ste) -> Result<(), TableError> {
        let index = usize::try_from(sid).map_err(|_| TableError::StreamTooLarge(sid))?;
        if index >= self.entries() {
            return Err(TableError::StreamTooLarge(sid));
        }
        let start = index.saturating_mul(STE_BYTES);
        let entry = table
            .get_mut(start..start.saturating_add(STE_BYTES))
            .ok_or(TableError::TooSmall)?;
        entry.copy_from_slice(&ste.to_bytes());
        Ok(())
    }

    /// Reads stream `sid`'s entry back (for tests and the boot log).
    pub fn read(self, table: &[u8], sid: u32) -> Option<Ste> {
        let index = usize::try_from(sid).ok().filter(|&i| i < self.entries())?;
        let start = index.checked_mul(STE_BYTES)?;
        let entry = table.get(start..start.checked_add(STE_BYTES)?)?;
        let mut words = [0u64; 8];
        for (word, chunk) in words.iter_mut().zip(entry.chunks_exact(8)) {
            let mut raw = [0; 8];
            raw.copy_from_slice(chunk);
            *word = u64::from_le_bytes(raw);
        }
        Some(Ste(words))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pagetable::stage2;
    use crate::smmu::ste::Stage2;
    use std::vec;

    #[test]
    fn table_reaches_the_highest_stream_and_at_least_bus_0() {
        assert_eq!(LinearTable::for_streams(0x10, 16).unwrap().log2size(), 8);
        assert_eq!(LinearTable::for_streams(0xff, 16).unwrap().log2size(), 8);
        let table = LinearTable::for_streams(0x10, 16).unwrap();
        assert_eq!(table.entries(), 256);
        assert_eq!(table.bytes(), 16 * 1024);
    }

    #[test]
    fn streams_beyond_the_smmu_or_the_driver_are_refused() {
        assert_eq!(
            LinearTable::for_streams(0x80, 7),
            Err(TableError::StreamTooLarge(0x80))
        );
        assert_eq!(
            LinearTable::for_streams(0x100, 16),
            Err(TableError::StreamTooLarge(0x100))
        );
        // A small SMMU still gets a table no larger than its StreamID space.
        assert_eq!(LinearTable::for_streams(3, 4).unwrap().log2size(), 4);
    }

    #[test]
    fn every_stream_aborts_but_the_assigned_one() {
        let table = LinearTable::for_streams(0x10, 16).unwrap();
        let mut memory = vec![0xa5u8; table.bytes()];
        table.fill_abort(&mut memory).unwrap();
        let ste = Ste::stage2(
            Stage2 {
                root: 0x4800_0000,
                vmid: 1,
                vtcr: stage2::vtcr(2),
            },
            4,
        )
        .unwrap();
        table.write(&mut memory, 0x10, &ste).unwrap();
        for sid in 0..256 {
            let entry = table.read(&memory, sid).unwrap();
            if sid == 0x10 {
                assert_eq!(entry, ste);
            } else {
                assert!(entry.is_abort(), "stream {sid:#x}");
            }
        }
        assert_eq!(table.read(&memory, 256), None);
        assert_eq!(
            table.write(&mut memory, 256, &ste),
            Err(TableError::StreamTooLarge(256))
        );
        assert_eq!(
            table.fill_abort(&mut memory[..64]),
            Err(TableError::TooSmall)
        );
    }
}
