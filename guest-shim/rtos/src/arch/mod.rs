//! Everything that touches the machine, and all of the crate's `unsafe`: the boot code and
//! vectors, system registers, the GIC and device pointers, critical sections, the defmt
//! logger's state and [`static_cell::StaticCell`]. The rest of the crate is safe Rust tested on
//! the host.

pub mod static_cell;

#[cfg(not(target_os = "none"))]
mod host;

#[cfg(target_os = "none")]
pub mod boot;
#[cfg(target_os = "none")]
pub mod cpu;
#[cfg(target_os = "none")]
mod critical_section_impl;
#[cfg(target_os = "none")]
pub mod gic;
#[cfg(target_os = "none")]
mod logger;
#[cfg(target_os = "none")]
pub mod mmio;
#[cfg(target_os = "none")]
pub mod port;
#[cfg(target_os = "none")]
pub mod test_crash;
#[cfg(target_os = "none")]
mod vectors;

#[cfg(target_os = "none")]
pub use port::{Aarch64Port, GenericTimer};
