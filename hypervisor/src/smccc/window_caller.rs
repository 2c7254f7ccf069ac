//! The caller of a call made through the management window (`devices::mgmt_window`): the
//! partition that wrote the window's CALL register, whose "guest memory" for the call is the
//! window's DATA area only (userspace has no guest-physical buffer to offer). Everything else
//! is the partition's own [`Caller`], so the dispatcher's checks (privilege above all) are the
//! same as for its HVCs.

use core::cell::RefCell;

use super::caller::Caller;
use super::guest_memory::{GuestMemoryError, GuestRange};
use super::soc_id::SocId;
use crate::devices::mgmt_window::DATA_SIZE;
use crate::doorbell::Doorbell;
use crate::entropy::{EntropySource, NoEntropy};
use crate::management::{FreeMemory, PartitionStatus};

/// `inner` with its memory replaced by a window's DATA area at IPA `data_ipa`.
pub struct WindowCaller<'a> {
    /// The partition that wrote CALL.
    pub inner: &'a dyn Caller,
    /// The IPA of the window's DATA area.
    pub data_ipa: u64,
    /// The DATA area as the call leaves it.
    pub data: RefCell<[u8; DATA_SIZE]>,
}

impl WindowCaller<'_> {
    /// The offset of `[ipa, ipa + len)` in DATA, if it lies wholly inside.
    fn offset(&self, ipa: u64, len: u64) -> Result<usize, GuestMemoryError> {
        let refused = GuestMemoryError::NotRam(GuestRange { ipa, len });
        let offset = ipa.checked_sub(self.data_ipa).ok_or(refused)?;
        let end = offset.checked_add(len).ok_or(refused)?;
        if end > DATA_SIZE as u64 {
            return Err(refused);
        }
        usize::try_from(offset).map_err(|_| refused)
    }
}

impl Caller for WindowCaller<'_> {
    fn partition_id(&self) -> usize {
        self.inner.partition_id()
    }
    fn partition_name(&self) -> &str {
        self.inner.partition_name()
    }
    fn vcpu_count(&self) -> usize {
        self.inner.vcpu_count()
    }
    fn vcpu_index(&self) -> usize {
        self.inner.vcpu_index()
    }
    fn read_guest(&self, ipa: u64, out: &mut [u8]) -> Result<(), GuestMemoryError> {
        let at = self.offset(ipa, out.len() as u64)?;
        let data = self.data.borrow();
        let from = data
            .get(at..at.saturating_add(out.len()))
            .ok_or(GuestMemoryError::NotRam(GuestRange {
                ipa,
                len: out.len() as u64,
            }))?;
        out.copy_from_slice(from);
        Ok(())
    }
    fn write_guest(&self, ipa: u64, bytes: &[u8]) -> Result<(), GuestMemoryError> {
        let at = self.offset(ipa, bytes.len() as u64)?;
        let mut data = self.data.borrow_mut();
        let to =
            data.get_mut(at..at.saturating_add(bytes.len()))
                .ok_or(GuestMemoryError::NotRam(GuestRange {
                    ipa,
                    len: bytes.len() as u64,
                }))?;
        to.copy_from_slice(bytes);
        Ok(())
    }
    fn check_guest(&self, ipa: u64, len: u64) -> Result<(), GuestMemoryError> {
        self.offset(ipa, len).map(|_| ())
    }
    fn console_write(&self, bytes: &[u8]) {
        self.inner.console_write(bytes);
    }
    fn entropy_source(&self) -> Option<EntropySource> {
        self.inner.entropy_source()
    }
    fn fill_random(&self, out: &mut [u8]) -> Result<(), NoEntropy> {
        self.inner.fill_random(out)
    }
    fn soc_id(&self) -> Option<SocId> {
        self.inner.soc_id()
    }
    fn firmware_call_allowed(&self, _function: u32) -> bool {
        // Nothing made through the window reaches the firmware.
        false
    }
    fn doorbells(&self) -> &[Doorbell] {
        self.inner.doorbells()
    }
    fn privileged(&self) -> bool {
        self.inner.privileged()
    }
    fn own_restarts(&self) -> (u64, u32) {
        self.inner.own_restarts()
    }
    fn partition_count(&self) -> usize {
        self.inner.partition_count()
    }
    fn partition_status(&self, index: usize) -> Option<PartitionStatus> {
        self.inner.partition_status(index)
    }
    fn free_memory(&self) -> FreeMemory {
        self.inner.free_memory()
    }
}
