//! Interrupts at run time: the glue between the physical GIC, the vGIC models and the vCPUs.
//!
//! [`state::InterruptState`] holds the logic and its state over a [`gic::PhysicalGic`]; on the
//! board one instance over the real GIC serves every CPU ([`board`]), on the host the tests
//! drive their own over a fake.

pub mod fast_doorbells;
pub mod gic;
pub mod spi_targets;
pub mod state;

#[cfg(target_os = "none")]
mod board;
#[cfg(test)]
mod tests;

#[cfg(target_os = "none")]
pub use board::*;
pub use state::{InterruptState, PeerDown};
