//! Partition management as plain functions: every partition's status, the hypervisor's free
//! memory, and starting, stopping and restarting a partition by name. The SMCCC management
//! calls (`smccc/management.rs`, for a `privileged` partition) and the hypervisor console's
//! commands are two front ends of these.
//!
//! The status is plain data ([`PartitionStatus`]), encoded for guests as the fixed record of
//! `bulkhead_abi::mgmt` ([`PartitionStatus::to_record`]). The operations that change a
//! partition are [`crate::vcpu::manage`], over the [`crate::vcpu::Machine`] trait.
#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use core::sync::atomic::{AtomicU64, Ordering};

use bulkhead_abi::mgmt;
use bulkhead_config::model::OnStop;
use heapless::String;

use crate::partition::PartitionState;
use crate::system::{Partition, System};

pub use crate::vcpu::manage::{manage, ManageError, ManageOp};

/// Free physical memory once boot placed every partition (the hypervisor allocates none after
/// boot: restarts reuse each partition's memory and stage-2 tables).
static FREE_RAM: AtomicU64 = AtomicU64::new(0);

/// Records the allocator's free memory at the end of boot.
pub fn record_free_ram(bytes: u64) {
    FREE_RAM.store(bytes, Ordering::Relaxed);
}

/// The hypervisor's free memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FreeMemory {
    /// Physical RAM no partition, firmware or hypervisor uses, in bytes.
    pub ram_bytes: u64,
    /// Translation tables left in the static pool.
    pub tables_free: u64,
    /// The pool's size, in tables.
    pub tables_total: u64,
}

/// The hypervisor's free memory now: the RAM recorded at boot and the table pool's state
/// (`tables_used` of it handed out).
pub fn free_memory(tables_used: usize) -> FreeMemory {
    let total = crate::table_pool::POOL_TABLES;
    FreeMemory {
        ram_bytes: FREE_RAM.load(Ordering::Relaxed),
        tables_free: total.saturating_sub(tables_used) as u64,
        tables_total: total as u64,
    }
}

/// One partition as management reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartitionStatus {
    /// Its name.
    pub name: String<32>,
    /// Its id (1-based).
    pub id: u32,
    /// `mgmt::STATE_*`.
    pub state: u32,
    /// Its vCPU count.
    pub vcpus: u32,
    /// Bit n: a vCPU runs on physical CPU n.
    pub cpu_mask: u32,
    /// Restarts since boot.
    pub restarts: u64,
    /// `mgmt::FLAG_*`.
    pub flags: u32,
    /// `mgmt::REASON_*` of its last stop or restart.
    pub last_reason: u32,
    /// Trap counts summed over its vCPUs (`mgmt::TRAPS` order).
    pub traps: [u64; mgmt::TRAP_COUNTERS],
}

impl PartitionStatus {
    /// The status of `partition`, its per-CPU trap counts from `traps`.
    pub fn of(partition: &Partition, traps: &dyn Fn(usize) -> [u64; mgmt::TRAP_COUNTERS]) -> Self {
        let mut summed = [0u64; mgmt::TRAP_COUNTERS];
        let mut cpu_mask = 0u32;
        for &cpu in &partition.cpus {
            cpu_mask |= 1u32.checked_shl(cpu as u32).unwrap_or(0);
            for (sum, count) in summed.iter_mut().zip(traps(cpu)) {
                *sum = sum.wrapping_add(count);
            }
        }
        let mut flags = 0;
        if partition.privileged {
            flags |= mgmt::FLAG_PRIVILEGED;
        }
        if partition.on_stop == OnStop::Restart {
            flags |= mgmt::FLAG_RESTART_ON_STOP;
        }
        PartitionStatus {
            name: partition.name.clone(),
            id: partition.id as u32,
            state: match partition.state() {
                PartitionState::Running => mgmt::STATE_RUNNING,
                PartitionState::Stopped => mgmt::STATE_STOPPED,
                PartitionState::Refused => mgmt::STATE_REFUSED,
            },
            vcpus: partition.cpus.len() as u32,
            cpu_mask,
            restarts: partition.restarts.count(),
            flags,
            last_reason: partition.restarts.last_reason(),
            traps: summed,
        }
    }

    /// The record BULKHEAD_MGMT_LIST writes (`bulkhead_abi::mgmt::Record`).
    pub fn to_record(&self) -> [u8; mgmt::RECORD_SIZE] {
        let mut record = mgmt::Record {
            id: self.id,
            state: self.state,
            vcpus: self.vcpus,
            cpu_mask: self.cpu_mask,
            restarts: self.restarts,
            flags: self.flags,
            last_reason: self.last_reason,
            traps: self.traps,
            ..Default::default()
        };
        record.set_name(&self.name);
        record.encode()
    }
}

/// The word a state is printed as.
pub use mgmt::state_name;

/// Every partition's status, in configuration order.
pub fn list<'a>(
    system: &'a System,
    traps: &'a dyn Fn(usize) -> [u64; mgmt::TRAP_COUNTERS],
) -> impl Iterator<Item = PartitionStatus> + 'a {
    system
        .partitions
        .iter()
        .map(move |p| PartitionStatus::of(p, traps))
}

/// The index (configuration order) of the partition called `name`.
pub fn find(system: &System, name: &str) -> Option<usize> {
    system.partitions.iter().position(|p| p.name == name)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::vcpu::fake::system;

    #[test]
    fn status_sums_traps_over_the_partitions_cpus() {
        let system = system(OnStop::Restart);
        let traps = |cpu: usize| [cpu as u64 + 1, 0, 0, 10, 0, 0, 0, 1];
        let all: std::vec::Vec<_> = list(&system, &traps).collect();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].name.as_str(), "linux");
        assert_eq!(all[0].cpu_mask, 0b011);
        assert_eq!(all[0].vcpus, 2);
        assert_eq!(all[0].traps[0], 1 + 2);
        assert_eq!(all[0].traps[3], 20);
        assert_eq!(all[0].flags, mgmt::FLAG_RESTART_ON_STOP);
        assert_eq!(all[1].cpu_mask, 0b100);
        assert_eq!(find(&system, "rtos"), Some(1));
        assert_eq!(find(&system, "nope"), None);
    }

    #[test]
    fn records_have_the_abi_layout() {
        let status = PartitionStatus {
            name: String::try_from("rtos").unwrap_or_default(),
            id: 2,
            state: mgmt::STATE_STOPPED,
            vcpus: 1,
            cpu_mask: 0b100,
            restarts: 7,
            flags: mgmt::FLAG_PRIVILEGED,
            last_reason: mgmt::REASON_FAULT,
            traps: [1, 2, 3, 4, 5, 6, 7, 8],
        };
        let r = status.to_record();
        assert_eq!(&r[..5], b"rtos\0");
        assert_eq!(r[mgmt::ID], 2);
        assert_eq!(r[mgmt::STATE], 1);
        assert_eq!(r[mgmt::CPU_MASK], 4);
        assert_eq!(r[mgmt::RESTARTS], 7);
        assert_eq!(r[mgmt::FLAGS], 1);
        assert_eq!(r[mgmt::LAST_REASON], 3);
        assert_eq!(r[mgmt::TRAPS + 7 * 8], 8);
    }

    #[test]
    fn free_memory_counts_the_tables_left() {
        let free = free_memory(10);
        assert_eq!(free.tables_total, crate::table_pool::POOL_TABLES as u64);
        assert_eq!(free.tables_free, free.tables_total - 10);
        assert_eq!(free_memory(usize::MAX).tables_free, 0);
    }
}
