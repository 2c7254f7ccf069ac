//! Bulkhead: a type-1 static partitioning hypervisor for ARM64.
//!
//! Bulkhead runs at EL2 and splits one board into fixed partitions, each with its own CPUs,
//! memory (stage-2 translation), devices and interrupts, decided once from a configuration.
//! Guests see one small, standard interface: the Arm SMC Calling Convention.
//!
//! Principles:
//! - Unsafe code, inline assembly and system-register access live in [`arch`] only; everything
//!   else is safe Rust that also compiles, and is unit-tested, on the host.
//! - The trap path has one shape: snapshot the syndrome, decode it into an [`trap::Exit`], decide
//!   an outcome in pure code, then apply it.
//! - A guest can never crash the hypervisor: bad calls get SMCCC error codes, faults stop only the
//!   faulting partition with a report.
#![cfg_attr(not(any(test, feature = "fakes")), no_std)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![deny(unsafe_op_in_unsafe_fn)]

/// The most CPUs Bulkhead manages (GICv2 targets at most 8).
pub const MAX_CPUS: usize = bulkhead_config::MAX_CPUS;
/// Bulkhead's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg(target_os = "none")]
pub mod arch;
pub mod boot;
pub mod caller;
#[cfg(target_os = "none")]
mod cpu;
pub mod interrupts;
// The hypervisor's own devices' drivers live in `arch` (they hold MMIO); reached by their
// old paths.
#[cfg(target_os = "none")]
use arch::{board_reset, mini_uart, pl011};
#[cfg(target_os = "none")]
pub mod fatal;
#[cfg(all(target_os = "none", feature = "test-hooks"))]
mod test_hooks;

pub mod console;
pub mod console_spec;
pub mod devices;
pub mod doorbell;
pub mod el2_map;
pub mod el2_state;
pub mod entropy;
pub mod host_dt;
pub mod management;
pub mod pagetable;
pub mod partition;
pub mod phys_alloc;
pub mod smccc;
pub mod system;
pub mod table_pool;
pub mod trap;
pub mod trap_stats;
pub mod vcpu;
pub mod vgic;
pub mod virtio;
