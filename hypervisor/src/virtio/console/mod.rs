//! virtio-console (virtio 1.2 §5.3) as a serial link: one port in each of two partitions,
//! joined as a null-modem cable ([`link::SerialLink`]). With VIRTIO_CONSOLE_F_MULTIPORT the
//! port is announced on the control queues with its configured name (Linux:
//! `/dev/virtio-ports/<name>`); a driver without it (the RTOS's `virtio-drivers`) uses port 0's
//! queues directly.

pub mod control;
pub mod device;
pub mod link;

#[cfg(test)]
mod tests;

pub use device::ConsoleDevice;
pub use link::SerialLink;

/// VIRTIO_CONSOLE_F_MULTIPORT (bit 1).
pub const F_MULTIPORT: u64 = 1 << 1;

/// Port 0's receive queue (device to driver).
pub const RX: u16 = 0;
/// Port 0's transmit queue (driver to device).
pub const TX: u16 = 1;
/// The control receive queue (device to driver; multiport only).
pub const CONTROL_RX: u16 = 2;
/// The control transmit queue (driver to device; multiport only).
pub const CONTROL_TX: u16 = 3;
