//! One BULKHEAD_MGMT_LIST record (`bulkhead_abi::mgmt`), decoded and printed.

use std::fmt;

use bulkhead_abi::mgmt;

/// A partition as LIST reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Its name.
    pub name: String,
    /// Its id (1-based).
    pub id: u32,
    /// `mgmt::STATE_*`.
    pub state: u32,
    /// Its vCPU count.
    pub vcpus: u32,
    /// Bit n: a vCPU on physical CPU n.
    pub cpu_mask: u32,
    /// Restarts since boot.
    pub restarts: u64,
    /// `mgmt::FLAG_*`.
    pub flags: u32,
}

impl Record {
    /// Decodes a record (through `bulkhead_abi::mgmt::Record`, the codec the hypervisor writes
    /// with).
    pub fn parse(bytes: &[u8; mgmt::RECORD_SIZE]) -> Self {
        let record = mgmt::Record::decode(bytes);
        Record {
            name: String::from_utf8_lossy(
                record.name.split(|&b| b == 0).next().unwrap_or_default(),
            )
            .into_owned(),
            id: record.id,
            state: record.state,
            vcpus: record.vcpus,
            cpu_mask: record.cpu_mask,
            restarts: record.restarts,
            flags: record.flags,
        }
    }
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = mgmt::state_name(self.state);
        write!(
            f,
            "partition {} id={} state={} vcpus={} cpus={:#x} restarts={}{}",
            self.name,
            self.id,
            state,
            self.vcpus,
            self.cpu_mask,
            self.restarts,
            if self.flags & mgmt::FLAG_PRIVILEGED != 0 {
                " privileged"
            } else {
                ""
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_decodes_and_prints() {
        let mut bytes = [0u8; mgmt::RECORD_SIZE];
        bytes[..4].copy_from_slice(b"rtos");
        bytes[mgmt::ID] = 2;
        bytes[mgmt::STATE] = mgmt::STATE_STOPPED as u8;
        bytes[mgmt::VCPUS] = 1;
        bytes[mgmt::CPU_MASK] = 4;
        bytes[mgmt::RESTARTS] = 3;
        let record = Record::parse(&bytes);
        assert_eq!(
            record.to_string(),
            "partition rtos id=2 state=stopped vcpus=1 cpus=0x4 restarts=3"
        );
    }
}
