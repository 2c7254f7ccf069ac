//! Virtio devices the hypervisor serves to partitions (virtio 1.2, modern interface).
//!
//! - [`vsock`]: the virtio-vsock switch between partitions (pure, host-tested).
#![forbid(unsafe_code)]

pub mod vsock;
