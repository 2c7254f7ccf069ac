//! The vsock devices of the running system: one table ([`VsockDevices`]) behind one lock,
//! built at boot, and each partition's window and interrupt.
//!
//! Every vCPU of a partition with a vsock device takes the lock for each access to its
//! registers: a packet moves between two partitions' queues while it is held.

use bulkhead_config::model::{Config, VSOCK_WINDOW_SIZE};
use bulkhead_config::range::Range;

use super::devices::VsockDevices;
use super::routes::EndpointId;

/// The [`crate::devices::DeviceId::Virtio`] index of a partition's vsock device (serial
/// link ends use the indices from 0).
pub const VSOCK_DEVICE: u8 = u8::MAX;

/// A partition's vsock device: where it is and what it raises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VsockWindow {
    /// Its register window (IPA).
    pub window: Range,
    /// Its interrupt: a purely virtual SPI of the partition's vGIC.
    pub intid: u32,
    /// Its endpoint in [`VSOCK`].
    pub endpoint: EndpointId,
}

/// The system's vsock devices (`None`: no partition has one).
pub static VSOCK: spin::Mutex<Option<VsockDevices>> = spin::Mutex::new(None);

/// Builds the table from `config` (at boot, once). Without a vsock device in the configuration
/// the table stays `None` untouched: building and moving an empty one cost boot 8,400
/// instructions.
pub fn init(config: &Config<'_>) {
    if config.partitions.iter().any(|p| p.vsock.is_some()) {
        *VSOCK.lock() = VsockDevices::from_config(config);
    }
}

/// The vsock device of the partition called `name`, if it has one.
pub fn window_of(config: &Config<'_>, name: &str) -> Option<VsockWindow> {
    let index = config.partition_index(name)?;
    let device = config.partitions.get(index)?.vsock?;
    let endpoint = VSOCK.lock().as_ref()?.end_of(index)?.endpoint;
    Some(VsockWindow {
        window: Range::new(device.window.start, VSOCK_WINDOW_SIZE),
        intid: device.intid,
        endpoint,
    })
}
