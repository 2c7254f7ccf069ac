//! Emulated devices: every device a partition sees that the hypervisor models rather than
//! passes through (the vGIC distributor and redistributors, the virtual PL011, the SBSA
//! generic watchdog, the management window, and the virtio-mmio transports still to come) sits on one bus.
//!
//! - [`MmioDevice`] is the one interface: a read or a write at an offset with a width, giving
//!   a value and [`DeviceEffect`]s for the caller to apply. Models stay pure state machines.
//! - [`bus::DeviceBus`] is a partition's map from IPA windows to devices, registered from its
//!   configuration once at boot; a lookup is a binary search.
//! - [`access`] holds the rules every access obeys (natural alignment, widths, what a load
//!   puts in its register: truncation, sign extension, 32-bit forms), in one place.
//!
//! Nothing here touches hardware.
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

pub mod access;
pub mod bus;
pub mod mgmt_window;
pub mod pl011;
pub mod sbsa_watchdog;

pub use access::{AccessWidth, DeviceAccess, MmioFault};
pub use bus::{DeviceBus, DeviceId};

use crate::vgic::Effect;

/// Something an emulated device asks of the world after an access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceEffect {
    /// A change to the physical GIC or a virtual interrupt (vGIC models).
    Gic(Effect),
}

/// The effects of one access (a vGIC write to a whole bank may make dozens).
pub type DeviceEffects = heapless::Vec<DeviceEffect, 48>;

/// An emulated device: a pure state machine behind a register window.
///
/// `offset` is relative to the device's window and already checked against the access rules
/// ([`access::check`]); a model answers every offset and width on purpose (RAZ/WI or a fault).
pub trait MmioDevice {
    /// A read of `access.width` at `access.offset` by vCPU `access.vcpu`: the value in the
    /// low bits (the caller truncates and extends it for the register).
    fn read(&mut self, access: DeviceAccess) -> Result<u64, MmioFault>;

    /// A write of `value` (already truncated to the access width); effects are appended.
    fn write(
        &mut self,
        access: DeviceAccess,
        value: u64,
        effects: &mut DeviceEffects,
    ) -> Result<(), MmioFault>;
}

/// Performs one access on `device`: a read when `store` is `None`, else a write of it.
/// Returns the value read (0 for a write).
pub fn perform(
    device: &mut dyn MmioDevice,
    access: DeviceAccess,
    store: Option<u64>,
    effects: &mut DeviceEffects,
) -> Result<u64, MmioFault> {
    match store {
        None => device.read(access).map(|raw| access.width.truncate(raw)),
        Some(value) => device
            .write(access, access.width.truncate(value), effects)
            .map(|()| 0),
    }
}
