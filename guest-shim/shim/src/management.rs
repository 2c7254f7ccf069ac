//! Bulkhead's partition management calls (`docs/guest-abi.md`, "Partition management"): a
//! `privileged` partition lists the partitions, starts, stops and restarts them and reads the
//! hypervisor's free memory; every partition reads its own restart count.
//!
//! ```ignore
//! let hv = guest_shim::bulkhead::detect()?;
//! let (restarts, _reason) = hv.own_restarts()?;
//! let mut page = [0u8; 256];
//! let (count, written) = hv.list_into(&mut page, 0)?; // DENIED unless privileged
//! hv.stop_partition(2)?;
//! ```

pub use bulkhead_abi::mgmt;
use bulkhead_abi::{smc64, vendor};

use crate::bulkhead::Bulkhead;
use crate::smccc::{self, SmcccError};

/// The DENIED code (the caller is not `privileged`).
pub const DENIED: i64 = bulkhead_abi::error::vendor::DENIED as i64;
/// The WRONG_STATE code (start of a running partition, stop of a stopped one).
pub const WRONG_STATE: i64 = bulkhead_abi::error::vendor::WRONG_STATE as i64;
/// Every management function ID a privileged partition may call (the SMC32 forms, and the
/// SMC64 form of the list call).
pub const PRIVILEGED_CALLS: [u32; 6] = [
    vendor::MGMT_LIST,
    smc64(vendor::MGMT_LIST),
    vendor::MGMT_START,
    vendor::MGMT_STOP,
    vendor::MGMT_RESTART,
    vendor::MGMT_FREE_MEMORY,
];

/// The hypervisor's free memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FreeMemory {
    /// Physical RAM nothing uses, in bytes.
    pub ram_bytes: u64,
    /// Translation tables left.
    pub tables_free: u64,
    /// The table pool's size.
    pub tables_total: u64,
}

/// One decoded BULKHEAD_MGMT_LIST record (`mgmt::Record::decode`, `.name()`).
pub type PartitionRecord = mgmt::Record;

fn checked(regs: [u64; 4]) -> Result<[u64; 4], SmcccError> {
    match SmcccError::from_register(regs[0]) {
        Some(error) => Err(error),
        None => Ok(regs),
    }
}

impl Bulkhead {
    /// BULKHEAD_MGMT_SELF: this partition's restarts since boot and its last stop reason.
    pub fn own_restarts(&self) -> Result<(u64, u32), SmcccError> {
        let regs = checked(smccc::call(vendor::MGMT_SELF, [0; 6]))?;
        Ok((regs[1], regs[2] as u32))
    }

    /// BULKHEAD_MGMT_LIST (SMC64) into `out` from partition index `first`: (partition count,
    /// records written).
    pub fn list_into(&self, out: &mut [u8], first: u64) -> Result<(u64, u64), SmcccError> {
        let regs = checked(smccc::call(
            smc64(vendor::MGMT_LIST),
            [out.as_ptr() as u64, out.len() as u64, first, 0, 0, 0],
        ))?;
        Ok((regs[1], regs[2]))
    }

    /// Every partition's record, passed to `each` in configuration order.
    pub fn for_each_partition(
        &self,
        mut each: impl FnMut(&PartitionRecord),
    ) -> Result<u64, SmcccError> {
        let mut page = [0u8; 2 * mgmt::RECORD_SIZE];
        let mut first = 0u64;
        loop {
            let (count, written) = self.list_into(&mut page, first)?;
            for chunk in page.chunks_exact(mgmt::RECORD_SIZE).take(written as usize) {
                let mut record = [0u8; mgmt::RECORD_SIZE];
                record.copy_from_slice(chunk);
                each(&PartitionRecord::decode(&record));
            }
            first += written;
            if written == 0 || first >= count {
                return Ok(count);
            }
        }
    }

    /// BULKHEAD_MGMT_START of partition `id`.
    pub fn start_partition(&self, id: u64) -> Result<(), SmcccError> {
        checked(smccc::call(vendor::MGMT_START, [id, 0, 0, 0, 0, 0])).map(|_| ())
    }

    /// BULKHEAD_MGMT_STOP of partition `id`.
    pub fn stop_partition(&self, id: u64) -> Result<(), SmcccError> {
        checked(smccc::call(vendor::MGMT_STOP, [id, 0, 0, 0, 0, 0])).map(|_| ())
    }

    /// BULKHEAD_MGMT_RESTART of partition `id`.
    pub fn restart_partition(&self, id: u64) -> Result<(), SmcccError> {
        checked(smccc::call(vendor::MGMT_RESTART, [id, 0, 0, 0, 0, 0])).map(|_| ())
    }

    /// BULKHEAD_MGMT_FREE_MEMORY.
    pub fn free_memory(&self) -> Result<FreeMemory, SmcccError> {
        let regs = checked(smccc::call(vendor::MGMT_FREE_MEMORY, [0; 6]))?;
        Ok(FreeMemory {
            ram_bytes: regs[1],
            tables_free: regs[2],
            tables_total: regs[3],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_decode() {
        let mut bytes = [0u8; mgmt::RECORD_SIZE];
        bytes[..4].copy_from_slice(b"rtos");
        bytes[mgmt::ID] = 2;
        bytes[mgmt::RESTARTS] = 9;
        bytes[mgmt::TRAPS + 8] = 5;
        let record = PartitionRecord::decode(&bytes);
        assert_eq!(record.name(), "rtos");
        assert_eq!(record.id, 2);
        assert_eq!(record.restarts, 9);
        assert_eq!(record.traps[1], 5);
    }
}
