//! The virtio-vsock device one partition sees (virtio 1.2 §5.10), as a [`Backend`] of the
//! virtio-mmio transport: device ID 19, three queues (rx 0, tx 1, event 2), no feature bits
//! (streams only: SEQPACKET is not offered), and a configuration space holding `guest_cid`.
//!
//! The device itself only says that its queues moved: moving packets needs the peer's queues
//! too, so the [`super::hub::Hub`] does it after each notification, through the transport's
//! [`crate::virtio::Transport::with_queues`].

use crate::virtio::backend::{Backend, QueueAccess};
use crate::virtio::device_id;
use crate::virtio::queue::QueueError;

/// The receive queue (device to driver).
pub const RX: u16 = 0;
/// The transmit queue (driver to device).
pub const TX: u16 = 1;
/// The event queue (the device never posts events: no transport reset happens live).
pub const EVENT: u16 = 2;

/// One partition's virtio-vsock device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VsockDevice {
    /// `struct virtio_vsock_config { le64 guest_cid; }`.
    config: [u8; 8],
    /// The driver reset the device since the hub last looked: its connections end.
    pub(super) reset_seen: bool,
}

impl VsockDevice {
    /// A device for the partition with context ID `cid`.
    pub fn new(cid: u64) -> Self {
        Self {
            config: cid.to_le_bytes(),
            reset_seen: false,
        }
    }

    /// The partition's context ID.
    pub fn cid(&self) -> u64 {
        u64::from_le_bytes(self.config)
    }
}

impl Backend for VsockDevice {
    fn device_id(&self) -> u32 {
        device_id::SOCKET
    }

    fn device_features(&self) -> u64 {
        0
    }

    fn queue_count(&self) -> u16 {
        3
    }

    fn config(&self) -> &[u8] {
        &self.config
    }

    fn reset(&mut self) {
        self.reset_seen = true;
    }

    fn on_notify(&mut self, _queue: u16, _access: &mut QueueAccess<'_>) -> Result<(), QueueError> {
        // The hub runs after every notification and looks at all queues.
        Ok(())
    }
}
