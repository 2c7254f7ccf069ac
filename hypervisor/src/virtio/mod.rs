//! Virtio devices served by the hypervisor itself (virtio 1.2): the virtio-mmio transport
//! ([`transport`]), split virtqueues ([`queue`]) read through a partition's own stage-2 view
//! ([`guest_memory`]), and the device models behind [`backend::Backend`].
//!
//! Without VIRTIO_F_ACCESS_PLATFORM a stock Linux driver puts buffers anywhere in its RAM, so
//! only the hypervisor, which sees all of a partition's RAM, can be the device. Everything here
//! is pure and host-tested; the real [`guest_memory::GuestMemory`] lives in `arch`.
#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)
)]

pub mod backend;
pub mod console;
#[cfg(any(test, feature = "fakes"))]
pub mod fake_driver;
pub mod guest_memory;
pub mod links;
pub mod queue;
pub mod transport;
pub mod vsock;

#[cfg(test)]
mod tests;

pub use backend::{Backend, QueueAccess};
pub use guest_memory::GuestMemory;
pub use queue::{Chain, Queue, QueueError, Segment};
pub use transport::Transport;

/// VIRTIO_F_INDIRECT_DESC (bit 28).
pub const F_INDIRECT_DESC: u64 = 1 << 28;
/// VIRTIO_F_EVENT_IDX (bit 29; not offered).
pub const F_EVENT_IDX: u64 = 1 << 29;
/// VIRTIO_F_VERSION_1 (bit 32): the modern interface, required.
pub const F_VERSION_1: u64 = 1 << 32;
/// VIRTIO_F_ACCESS_PLATFORM (bit 33; never offered).
pub const F_ACCESS_PLATFORM: u64 = 1 << 33;

/// Device status bits (virtio 1.2 §2.1).
pub mod status {
    /// The guest found the device.
    pub const ACKNOWLEDGE: u32 = 1;
    /// The guest has a driver for it.
    pub const DRIVER: u32 = 2;
    /// The driver is set up and running the device.
    pub const DRIVER_OK: u32 = 4;
    /// Feature negotiation is done.
    pub const FEATURES_OK: u32 = 8;
    /// The device met an error it cannot recover from without a reset.
    pub const DEVICE_NEEDS_RESET: u32 = 64;
    /// The driver gave up on the device.
    pub const FAILED: u32 = 128;
}

/// Virtio device IDs.
pub mod device_id {
    /// virtio-console.
    pub const CONSOLE: u32 = 3;
    /// virtio-vsock.
    pub const SOCKET: u32 = 19;
}
