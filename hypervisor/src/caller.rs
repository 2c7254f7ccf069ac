//! The running vCPU as the SMCCC dispatcher's [`Caller`], and the pieces of the trap path that
//! serve it: guest memory checked against the partition's stage-2 RAM map, the hypercall
//! console, the entropy pool, the firmware allow-list and the partition's doorbells.

mod console;
mod firmware;

pub use firmware::allow_firmware_calls;

use crate::entropy::{EntropySource, NoEntropy, POOL};
use crate::management::{FreeMemory, PartitionStatus};
use crate::smccc::{Caller, GuestMemoryError, GuestRange, SocId};
use crate::system::Partition;

/// The partition and vCPU that trapped on this CPU.
pub struct RunningVcpu<'a> {
    /// The calling partition.
    pub partition: &'a Partition,
    /// The calling vCPU's index.
    pub vcpu: usize,
}

impl RunningVcpu<'_> {
    /// The host physical address of `[ipa, ipa + len)` if it lies in one RAM region of the
    /// partition: the only way from a guest's claim to memory the hypervisor touches. Devices
    /// and the virtual console are not RAM and never pass.
    fn checked_pa(&self, ipa: u64, len: usize) -> Result<u64, GuestMemoryError> {
        let claim = GuestRange {
            ipa,
            len: len as u64,
        };
        self.partition
            .ram_to_pa(ipa, len as u64)
            .ok_or(GuestMemoryError::NotRam(claim))
    }
}

impl Caller for RunningVcpu<'_> {
    fn partition_id(&self) -> usize {
        self.partition.id
    }

    fn partition_name(&self) -> &str {
        &self.partition.name
    }

    fn vcpu_count(&self) -> usize {
        self.partition.cpus.len()
    }

    fn vcpu_index(&self) -> usize {
        self.vcpu
    }

    fn read_guest(&self, ipa: u64, out: &mut [u8]) -> Result<(), GuestMemoryError> {
        let pa = self.checked_pa(ipa, out.len())?;
        guest_ram::read(self.partition, pa, out);
        Ok(())
    }

    fn write_guest(&self, ipa: u64, data: &[u8]) -> Result<(), GuestMemoryError> {
        let pa = self.checked_pa(ipa, data.len())?;
        guest_ram::write(self.partition, pa, data);
        Ok(())
    }

    fn check_guest(&self, ipa: u64, len: u64) -> Result<(), GuestMemoryError> {
        let claim = GuestRange { ipa, len };
        self.partition
            .ram_to_pa(ipa, len)
            .map(|_| ())
            .ok_or(GuestMemoryError::NotRam(claim))
    }

    fn console_write(&self, bytes: &[u8]) {
        console::write(self.partition, bytes);
    }

    fn entropy_source(&self) -> Option<EntropySource> {
        POOL.source()
    }

    fn fill_random(&self, out: &mut [u8]) -> Result<(), NoEntropy> {
        match POOL.source() {
            Some(EntropySource::Rndr) => hardware::fill_rndr(out),
            Some(EntropySource::Drbg) => POOL.fill(self.partition.id, out, hardware::counter()),
            None => Err(NoEntropy),
        }
    }

    fn soc_id(&self) -> Option<SocId> {
        SocId::from_midr(hardware::midr())
    }

    fn firmware_call_allowed(&self, function: u32) -> bool {
        firmware::allowed(self.partition.id, function)
    }

    fn doorbells(&self) -> &[crate::doorbell::Doorbell] {
        &self.partition.doorbells
    }

    fn privileged(&self) -> bool {
        self.partition.privileged
    }

    fn own_restarts(&self) -> (u64, u32) {
        let log = &self.partition.restarts;
        (log.count(), log.last_reason())
    }

    fn partition_count(&self) -> usize {
        crate::system::SYSTEM
            .get()
            .map_or(0, |system| system.partitions.len())
    }

    fn partition_status(&self, index: usize) -> Option<PartitionStatus> {
        let partition = crate::system::SYSTEM.get()?.partitions.get(index)?;
        Some(PartitionStatus::of(partition, &hardware::trap_counts))
    }

    fn free_memory(&self) -> FreeMemory {
        crate::management::free_memory(hardware::tables_used())
    }
}

/// Copies to and from guest RAM by physical address (bare-metal builds only: the host has no
/// guest RAM, and nothing runs this code there).
mod guest_ram {
    use crate::system::Partition;

    /// Copies `out.len()` bytes from `partition`'s RAM at `pa` (checked again by `arch`).
    #[cfg(target_os = "none")]
    pub fn read(partition: &Partition, pa: u64, out: &mut [u8]) {
        if !crate::arch::partition_ram::PartitionRam::of(partition).read(pa, out) {
            out.fill(0);
        }
    }

    /// Copies `data` into `partition`'s RAM at `pa` (checked again by `arch`).
    #[cfg(target_os = "none")]
    pub fn write(partition: &Partition, pa: u64, data: &[u8]) {
        crate::arch::partition_ram::PartitionRam::of(partition).write(pa, data);
    }

    /// Host builds: no guest RAM.
    #[cfg(not(target_os = "none"))]
    pub fn read(_partition: &Partition, _pa: u64, out: &mut [u8]) {
        out.fill(0);
    }

    /// Host builds: no guest RAM.
    #[cfg(not(target_os = "none"))]
    pub fn write(_partition: &Partition, _pa: u64, _data: &[u8]) {}
}

/// The CPU facts and instructions the caller needs (bare-metal builds; neutral values on the
/// host, where nothing runs this code).
mod hardware {
    use crate::entropy::NoEntropy;

    /// MIDR_EL1 of this CPU.
    #[cfg(target_os = "none")]
    pub fn midr() -> u64 {
        crate::arch::cpu_features().midr
    }

    /// The counter, as a DRBG request's additional input.
    #[cfg(target_os = "none")]
    pub fn counter() -> u64 {
        crate::arch::counter()
    }

    /// Fills `out` from RNDR.
    #[cfg(target_os = "none")]
    pub fn fill_rndr(out: &mut [u8]) -> Result<(), NoEntropy> {
        crate::arch::rng::fill(out).then_some(()).ok_or(NoEntropy)
    }

    /// The trap counts of `cpu`'s vCPU (the general path's and the assembly fast paths').
    pub fn trap_counts(cpu: usize) -> [u64; bulkhead_abi::mgmt::TRAP_COUNTERS] {
        let mut counts = [0u64; bulkhead_abi::mgmt::TRAP_COUNTERS];
        #[cfg(target_os = "none")]
        let fast = crate::arch::fast_path::fast_counts(cpu);
        #[cfg(not(target_os = "none"))]
        let fast = [0u64; 2];
        for (slot, value) in counts
            .iter_mut()
            .zip(crate::trap_stats::counts(cpu).into_iter().chain(fast))
        {
            *slot = value;
        }
        counts
    }

    /// Translation tables the static pool has handed out.
    pub fn tables_used() -> usize {
        crate::table_pool::used_after_boot()
    }

    /// Host builds: no CPU to ask.
    #[cfg(not(target_os = "none"))]
    pub fn midr() -> u64 {
        0
    }

    /// Host builds: no counter.
    #[cfg(not(target_os = "none"))]
    pub fn counter() -> u64 {
        0
    }

    /// Host builds: no RNDR.
    #[cfg(not(target_os = "none"))]
    pub fn fill_rndr(_out: &mut [u8]) -> Result<(), NoEntropy> {
        Err(NoEntropy)
    }
}
