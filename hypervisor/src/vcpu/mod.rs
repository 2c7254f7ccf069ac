//! The trap policy: what a vCPU's exit means, decided in pure code.
//!
//! The trap path has one shape: the arch layer captures the guest's registers and syndrome,
//! [`crate::trap::Exit::decode`] turns the syndrome into an exit, [`policy::handle_exit`]
//! decides an [`Outcome`] (register writes, how far to step ELR, whether the vCPU resumes,
//! leaves its guest, or the machine powers off), and `cpu.rs` applies it. Every piece of
//! global state the decision needs (power states, device models behind their locks, the
//! console, the physical GIC, the firmware) is reached through the [`Machine`] trait, which
//! `cpu.rs` implements over the hypervisor's globals and `arch`, and a fake implements in the
//! host tests.
//!
//! Also here, over the same trait: what a CPU does between guests ([`entry::try_enter`]),
//! PSCI's vCPU power calls ([`psci`]), stopping or restarting a partition ([`stop`]), and a
//! partition's watchdog over time ([`watchdog`]).
#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg_attr(
    any(test, feature = "fakes"),
    allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)
)]

pub mod entry;
pub mod inject;
pub mod machine;
pub mod manage;
pub mod mgmt_window;
pub mod outcome;
pub mod policy;
pub mod psci;
pub mod stop;
pub mod sysreg;
pub mod traps;
pub mod watchdog;

#[cfg(any(test, feature = "fakes"))]
pub mod fake;
#[cfg(any(test, feature = "fakes"))]
pub mod fake_sysreg;
#[cfg(test)]
mod manage_tests;
#[cfg(test)]
mod mgmt_window_tests;
#[cfg(test)]
mod sysreg_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod watchdog_tests;

pub use machine::{Machine, Power};
pub use outcome::{Next, Outcome};
