//! The interface between the virtio-mmio transport and a device model (console, vsock, ...):
//! the transport owns the registers, feature negotiation, status and the queues' registers; a
//! [`Backend`] says what device it is and does the work when the driver notifies a queue,
//! through a [`QueueAccess`] that only reaches this partition's memory.

use super::guest_memory::GuestMemory;
use super::queue::{Chain, Queue, QueueError};

/// The most queues a device has.
pub const MAX_QUEUES: usize = 8;

/// A virtio device model behind a [`super::transport::Transport`].
pub trait Backend {
    /// The virtio device ID (3: console, 19: socket).
    fn device_id(&self) -> u32;

    /// The device-specific feature bits offered (the transport adds VIRTIO_F_VERSION_1 and
    /// VIRTIO_F_INDIRECT_DESC).
    fn device_features(&self) -> u64;

    /// How many queues the device has (at most [`MAX_QUEUES`]).
    fn queue_count(&self) -> u16;

    /// The device-specific configuration space, as the driver reads it (little-endian).
    fn config(&self) -> &[u8];

    /// A driver write of `data` at `offset` of the configuration space (ignored by default).
    fn write_config(&mut self, offset: usize, data: &[u8]) {
        let _ = (offset, data);
    }

    /// The driver set DRIVER_OK with `features` negotiated.
    fn activate(&mut self, features: u64) {
        let _ = features;
    }

    /// The device was reset (by the driver or after NEEDS_RESET): back to its initial state.
    fn reset(&mut self);

    /// The driver notified `queue`: take and give back chains through `access`. An error marks
    /// the queue malformed: the device goes to DEVICE_NEEDS_RESET.
    fn on_notify(&mut self, queue: u16, access: &mut QueueAccess<'_>) -> Result<(), QueueError>;
}

/// A backend's way to its partition's queues and memory while it handles a notification.
pub struct QueueAccess<'a> {
    /// The device's queues.
    pub queues: &'a mut [Queue],
    /// The partition's memory, through its stage-2 view.
    pub memory: &'a mut dyn GuestMemory,
    /// The negotiated features.
    pub features: u64,
    /// Set when a used buffer was published (the transport then interrupts the driver).
    pub used: bool,
}

impl QueueAccess<'_> {
    /// Takes the next chain the driver made available on `queue` (`None`: none, or the queue is
    /// not ready).
    pub fn pop(&mut self, queue: u16) -> Result<Option<Chain>, QueueError> {
        let indirect = self.features & super::F_INDIRECT_DESC != 0;
        match self.queues.get_mut(usize::from(queue)) {
            Some(q) if q.ready => q.pop(&*self.memory, indirect),
            _ => Ok(None),
        }
    }

    /// How many chains wait on `queue` (0 if it is not ready).
    pub fn pending(&self, queue: u16) -> Result<u16, QueueError> {
        match self.queues.get(usize::from(queue)) {
            Some(q) if q.ready => q.pending(&*self.memory),
            _ => Ok(0),
        }
    }

    /// Gives `chain` back on `queue` with `written` bytes written.
    pub fn push_used(&mut self, queue: u16, chain: &Chain, written: u32) -> Result<(), QueueError> {
        let q = self
            .queues
            .get_mut(usize::from(queue))
            .filter(|q| q.ready)
            .ok_or(QueueError::BadUsed)?;
        q.push_used(self.memory, chain.head, written)?;
        self.used = true;
        Ok(())
    }

    /// Copies readable bytes of `chain` from `from` into `out`; how many.
    pub fn read(&self, chain: &Chain, from: u64, out: &mut [u8]) -> usize {
        chain.read(&*self.memory, from, out)
    }

    /// Writes `data` into `chain`'s writable part at `from`; how many bytes.
    pub fn write(&mut self, chain: &Chain, from: u64, data: &[u8]) -> usize {
        chain.write(self.memory, from, data)
    }
}
