//! The guest side of Bulkhead's interface, for bare-metal and RTOS partitions.
//!
//! Guests program against the Arm SMC Calling Convention (`hvc #0`): discovery first
//! ([`smccc::version`], [`bulkhead::detect`]), then standard services ([`smccc`] architecture
//! calls, [`psci`], [`trng`]) and Bulkhead's own ([`bulkhead`]: partition information, a
//! hypercall console and doorbells to other partitions), with a minimal GICv3 driver ([`gic`])
//! to receive them and a driver for the SBSA generic watchdog a partition may have
//! ([`watchdog`]). The standard modules are not specific to Bulkhead, so the same code
//! also runs bare on QEMU `virt`, where QEMU answers PSCI.
#![no_std]
#![deny(clippy::undocumented_unsafe_blocks)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod boot_info;
pub mod bulkhead;
pub mod console;
pub mod gic;
pub mod management;
pub mod mmio;
pub mod psci;
pub mod smccc;
pub mod timer;
pub mod trng;
pub mod virtio_port;
pub mod watchdog;
