//! Bulkhead's partition configuration.
//!
//! A configuration is a device-tree source file compiled by `dtc` into a DTB.
//! This crate
//!
//! * parses the DTB into a [`Config`] ([`Config::parse`]), checking syntax:
//!   node and property names, cell counts, required items, capacities;
//! * checks a [`Config`] against a [`Board`] ([`validate()`]), reporting every
//!   conflict at once: overlapping memory, CPUs given twice, images that do
//!   not fit, devices passed through twice, firmware calls that may not be
//!   allow-listed, channels between partitions that do not exist or whose
//!   doorbell interrupts collide, and so on;
//! * defines the boot [`Bundle`] that carries the configuration and the guest
//!   images, appended to the hypervisor image.
//!
//! The hypervisor uses it at EL2 without a heap, on blobs it did not produce:
//! nothing here allocates (except the `alloc`-gated bundle writer), and nothing
//! panics on malformed input. The format is described in
//! `docs/configuration.md`.

#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Everything here reads blobs the hypervisor did not produce: no panics, no overflow.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
// Tests may compute freely; unwrap, indexing and panics in tests are allowed by clippy.toml.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]
// Errors carry their evidence by value because the hypervisor has no heap to
// box them in; a ~200-byte `Err` is the price of a self-explaining message.
#![allow(
    clippy::result_large_err,
    reason = "no heap at EL2; errors carry their evidence by value"
)]

pub mod board;
pub mod bundle;
mod cells;
pub mod dma;
pub mod error;
pub mod fdt_scan;
mod limits;
pub mod model;
mod parse;
pub mod range;
mod report;
mod structure;
mod text;
pub mod validate;

/// Helpers for unit tests (this crate's, and with the `test-support` feature other crates'):
/// compiling DTS with `dtc`, malformed blobs, the qemu-virt board.
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;

pub use board::{Board, Reserved};
#[cfg(any(feature = "alloc", test))]
pub use bundle::{try_write_bundle, write_bundle, BundleWriteError};
pub use bundle::{Bundle, BundleError, Entries, CONFIG_ENTRY};
pub use error::{ConfigError, ErrorKind};
pub use limits::{
    CONSOLE_INTID, MAX_CHANNELS, MAX_CPUS, MAX_DEVICES, MAX_DOORBELL_INTID, MAX_ERRORS,
    MAX_FILE_NAME, MAX_IRQS_PER_DEVICE, MAX_NAME, MAX_PARTITIONS, MAX_REGIONS, MAX_SERIAL_LINKS,
    MAX_SMC_ALLOW, MAX_STREAM_IDS,
};
pub use model::{
    Channel, ChannelEnd, ChannelKind, Config, Device, DmaMaster, ImageRef, MemoryRegion, OnStop,
    PartitionConfig, Watchdog,
};
pub use parse::COMPATIBLE;
pub use range::Range;
pub use validate::{validate, PAGE_SIZE};
