//! A small preemptive real-time runtime for aarch64 EL1, for Bulkhead's RTOS partitions and
//! for bare metal: the same image boots on QEMU `virt` under Bulkhead and without it.
//!
//! What it supports:
//! - fixed-priority scheduling of periodic and event-driven tasks on one stack (a stack
//!   resource policy kernel: jobs run to completion, preempted only by more urgent tasks and by
//!   interrupts) — [`kernel`], [`sched`];
//! - message queues between tasks that activate their receiver — [`channel`];
//! - deadline-miss detection and per-task statistics (releases, completed jobs, misses with
//!   their kind, latency and response time) — [`stats`];
//! - the virtual timer (PPI 27) through the guest's own GIC (v2 or v3, via `arm-gic`), read
//!   from the device tree — [`devicetree`], [`runtime`];
//! - drivers behind `embedded-hal` 1.0 and `embedded-io` — [`drivers`];
//! - `defmt` logging through the console as `DEFMT:` lines, decoded on the host by
//!   `cargo xtask defmt-decode` — [`console`].
//!
//! Principles (see the repository's style guide): all `unsafe` is in [`arch`]; everything else
//! is safe Rust tested on the host (`cargo test -p bulkhead-rtos`), with the machine behind the
//! [`port::Port`] trait; nothing allocates; nothing a job calls waits for a device.
#![cfg_attr(not(test), no_std)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod arch;
pub mod channel;
pub mod console;
pub mod context;
pub mod devicetree;
pub mod drivers;
pub mod kernel;
pub mod port;
#[cfg(target_os = "none")]
pub mod runtime;
pub mod sched;
pub mod stats;
pub mod task;
pub mod time;

pub use context::{Context, Job};
pub use task::{Activation, Priority, Task, TaskConfig, TaskId};
pub use time::{Duration, Frequency, Instant};
