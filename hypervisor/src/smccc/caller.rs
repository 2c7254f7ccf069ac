//! What the dispatcher may know about, and do for, the partition that made a call.
//!
//! The hypervisor implements this for the running vCPU (`crate::caller`); tests and the fuzz
//! targets (feature `fakes`) use `FakeCaller`. The dispatcher never touches hardware or guest memory except through it.

use super::guest_memory::GuestMemoryError;
use super::soc_id::SocId;
use crate::doorbell::Doorbell;
use crate::entropy::{EntropySource, NoEntropy};
use crate::management::{FreeMemory, PartitionStatus};

/// The calling partition, as the dispatcher sees it.
pub trait Caller {
    /// The partition's id (1-based, configuration order).
    fn partition_id(&self) -> usize;
    /// The partition's name.
    fn partition_name(&self) -> &str;
    /// How many vCPUs the partition has.
    fn vcpu_count(&self) -> usize;
    /// The calling vCPU's index in the partition.
    fn vcpu_index(&self) -> usize;

    /// Copies the caller's memory at `[ipa, ipa + out.len())` into `out`.
    ///
    /// # Errors
    /// [`GuestMemoryError::NotRam`] unless the whole range lies in one RAM region of the
    /// caller's stage-2 map; nothing is read then.
    fn read_guest(&self, ipa: u64, out: &mut [u8]) -> Result<(), GuestMemoryError>;

    /// Copies `data` into the caller's memory at `[ipa, ipa + data.len())`.
    ///
    /// # Errors
    /// As for [`Caller::read_guest`]; nothing is written then.
    fn write_guest(&self, ipa: u64, data: &[u8]) -> Result<(), GuestMemoryError>;

    /// Checks that `[ipa, ipa + len)` is the caller's RAM, without touching it.
    ///
    /// # Errors
    /// As for [`Caller::read_guest`].
    fn check_guest(&self, ipa: u64, len: u64) -> Result<(), GuestMemoryError>;

    /// Writes bytes to the partition's console (its lines appear prefixed with its name).
    fn console_write(&self, bytes: &[u8]);

    /// The entropy source TRNG calls are served from, if the board has any.
    fn entropy_source(&self) -> Option<EntropySource>;

    /// Fills `out` from the caller's own random stream.
    ///
    /// # Errors
    /// [`NoEntropy`] if the source has nothing to give now (the guest may retry).
    fn fill_random(&self, out: &mut [u8]) -> Result<(), NoEntropy>;

    /// The SoC identification SMCCC_ARCH_SOC_ID reports, if any.
    fn soc_id(&self) -> Option<SocId>;

    /// Whether the configuration lets this partition's calls to `function` (exact W0) reach
    /// the platform firmware (`smc-allow`).
    fn firmware_call_allowed(&self, function: u32) -> bool;

    /// The partition's doorbells (its channels in configuration order), by index.
    fn doorbells(&self) -> &[Doorbell];

    /// Whether the configuration marks the partition `privileged` (the management calls).
    fn privileged(&self) -> bool;
    /// The caller's own restarts since boot and the `mgmt::REASON_*` of its last stop.
    fn own_restarts(&self) -> (u64, u32);
    /// How many partitions the configuration has (refused ones included).
    fn partition_count(&self) -> usize;
    /// The status of partition `index` (configuration order), if there is one.
    fn partition_status(&self, index: usize) -> Option<PartitionStatus>;
    /// The hypervisor's free memory.
    fn free_memory(&self) -> FreeMemory;
}

#[cfg(any(test, feature = "fakes"))]
pub use fake::FakeCaller;

#[cfg(any(test, feature = "fakes"))]
#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "a test double: ranges are checked by `offset` first"
)]
mod fake {
    use super::*;
    use core::cell::RefCell;

    /// A caller for unit tests: one RAM region at `ram_ipa`, a console that records bytes and a
    /// deterministic "random" stream.
    #[derive(Clone, Debug)]
    pub struct FakeCaller {
        /// Partition id.
        pub id: usize,
        /// Partition name.
        pub name: &'static str,
        /// vCPU count.
        pub vcpus: usize,
        /// Calling vCPU.
        pub vcpu: usize,
        /// IPA of the RAM region.
        pub ram_ipa: u64,
        /// The RAM region's contents.
        pub ram: RefCell<Vec<u8>>,
        /// Everything written to the console.
        pub console: RefCell<Vec<u8>>,
        /// The entropy source, if any.
        pub entropy: Option<EntropySource>,
        /// The next "random" byte (counts up).
        pub next_random: RefCell<u8>,
        /// Whether the random stream fails.
        pub random_fails: bool,
        /// SMCCC_ARCH_SOC_ID's answer.
        pub soc: Option<SocId>,
        /// The `smc-allow` list.
        pub allowed: Vec<u32>,
        /// The doorbells.
        pub doorbells: Vec<Doorbell>,
        /// `privileged` in the configuration.
        pub privileged: bool,
        /// Its own restarts and last reason.
        pub restarts: (u64, u32),
        /// Every partition's status (the caller is `id - 1`).
        pub statuses: Vec<PartitionStatus>,
        /// The free memory it reports.
        pub free: FreeMemory,
    }

    impl Default for FakeCaller {
        fn default() -> Self {
            FakeCaller {
                id: 1,
                name: "test",
                vcpus: 1,
                vcpu: 0,
                ram_ipa: 0x4000_0000,
                ram: RefCell::new(vec![0; 0x1000]),
                console: RefCell::new(Vec::new()),
                entropy: Some(EntropySource::Drbg),
                next_random: RefCell::new(1),
                random_fails: false,
                soc: SocId::from_midr(0x410f_d083),
                allowed: Vec::new(),
                doorbells: Vec::new(),
                privileged: false,
                restarts: (0, 0),
                statuses: Vec::new(),
                free: FreeMemory::default(),
            }
        }
    }

    impl FakeCaller {
        fn offset(&self, ipa: u64, len: u64) -> Result<usize, GuestMemoryError> {
            let range = crate::smccc::GuestRange { ipa, len };
            let size = self.ram.borrow().len() as u64;
            ipa.checked_sub(self.ram_ipa)
                .filter(|offset| offset.checked_add(len).is_some_and(|end| end <= size))
                .map(|offset| offset as usize)
                .ok_or(GuestMemoryError::NotRam(range))
        }
    }

    impl Caller for FakeCaller {
        fn partition_id(&self) -> usize {
            self.id
        }
        fn partition_name(&self) -> &str {
            self.name
        }
        fn vcpu_count(&self) -> usize {
            self.vcpus
        }
        fn vcpu_index(&self) -> usize {
            self.vcpu
        }
        fn read_guest(&self, ipa: u64, out: &mut [u8]) -> Result<(), GuestMemoryError> {
            let at = self.offset(ipa, out.len() as u64)?;
            out.copy_from_slice(&self.ram.borrow()[at..at + out.len()]);
            Ok(())
        }
        fn write_guest(&self, ipa: u64, data: &[u8]) -> Result<(), GuestMemoryError> {
            let at = self.offset(ipa, data.len() as u64)?;
            self.ram.borrow_mut()[at..at + data.len()].copy_from_slice(data);
            Ok(())
        }
        fn check_guest(&self, ipa: u64, len: u64) -> Result<(), GuestMemoryError> {
            self.offset(ipa, len).map(|_| ())
        }
        fn console_write(&self, bytes: &[u8]) {
            self.console.borrow_mut().extend_from_slice(bytes);
        }
        fn entropy_source(&self) -> Option<EntropySource> {
            self.entropy
        }
        fn fill_random(&self, out: &mut [u8]) -> Result<(), NoEntropy> {
            if self.random_fails {
                return Err(NoEntropy);
            }
            let mut next = self.next_random.borrow_mut();
            for byte in out {
                *byte = *next;
                *next = next.wrapping_add(1);
            }
            Ok(())
        }
        fn soc_id(&self) -> Option<SocId> {
            self.soc
        }
        fn firmware_call_allowed(&self, function: u32) -> bool {
            self.allowed.contains(&function)
        }
        fn doorbells(&self) -> &[Doorbell] {
            &self.doorbells
        }
        fn privileged(&self) -> bool {
            self.privileged
        }
        fn own_restarts(&self) -> (u64, u32) {
            self.restarts
        }
        fn partition_count(&self) -> usize {
            self.statuses.len()
        }
        fn partition_status(&self, index: usize) -> Option<PartitionStatus> {
            self.statuses.get(index).cloned()
        }
        fn free_memory(&self) -> FreeMemory {
            self.free
        }
    }
}
