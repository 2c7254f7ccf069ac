//! The guest side of Bulkhead's interface, for bare-metal and RTOS partitions.
//!
//! Guests program against the Arm SMC Calling Convention (`hvc #0`): discovery first
//! ([`smccc::version`]), then standard services such as [`psci`]. Nothing here is specific to
//! Bulkhead's internals, so the same code also runs bare on QEMU `virt`, where QEMU answers PSCI.
#![no_std]
#![deny(clippy::undocumented_unsafe_blocks)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod boot_info;
pub mod console;
pub mod psci;
pub mod smccc;
pub mod timer;
