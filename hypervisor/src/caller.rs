//! The running vCPU as the SMCCC dispatcher's [`Caller`], and the pieces of the trap path that
//! serve it: guest memory checked against the partition's stage-2 RAM map, the hypercall
//! console, the entropy pool, the firmware allow-list and the partition's doorbells.

mod console;
mod firmware;

pub use firmware::allow_firmware_calls;

use crate::entropy::{EntropySource, NoEntropy, POOL};
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
        guest_ram::read(pa, out);
        Ok(())
    }

    fn write_guest(&self, ipa: u64, data: &[u8]) -> Result<(), GuestMemoryError> {
        let pa = self.checked_pa(ipa, data.len())?;
        guest_ram::write(pa, data);
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
}

/// Copies to and from guest RAM by physical address (bare-metal builds only: the host has no
/// guest RAM, and nothing runs this code there).
mod guest_ram {
    /// Copies `out.len()` bytes from partition RAM at `pa`.
    #[cfg(target_os = "none")]
    pub fn read(pa: u64, out: &mut [u8]) {
        // A guest with its MMU off reads and writes memory past the caches: drop any stale line
        // EL2 may hold first. EL2 never leaves dirty lines in partition RAM, so nothing of the
        // guest's is lost.
        crate::arch::clean_invalidate_dcache_range(pa, out.len() as u64);
        // SAFETY: `pa` comes from `Partition::ram_to_pa` for exactly this length: RAM of the
        // calling partition, identity-mapped at EL2.
        unsafe { crate::arch::memory::read_guest_phys(pa, out) };
    }

    /// Copies `data` into partition RAM at `pa`.
    #[cfg(target_os = "none")]
    pub fn write(pa: u64, data: &[u8]) {
        // SAFETY: as for `read`: the calling partition's own RAM, checked for this length.
        unsafe { crate::arch::memory::write_guest_phys(pa, data) };
        // Make the bytes visible to a guest running with its MMU and caches off.
        crate::arch::clean_invalidate_dcache_range(pa, data.len() as u64);
    }

    /// Host builds: no guest RAM.
    #[cfg(not(target_os = "none"))]
    pub fn read(_pa: u64, out: &mut [u8]) {
        out.fill(0);
    }

    /// Host builds: no guest RAM.
    #[cfg(not(target_os = "none"))]
    pub fn write(_pa: u64, _data: &[u8]) {}
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
