//! The trap path's pure half: a snapshot of the syndrome registers becomes an [`Exit`].
//!
//! The arch layer reads ESR/FAR/HPFAR once into a [`Snapshot`]; [`Exit::decode`] turns it into
//! a typed exit without touching hardware, so every syndrome can be tested on the host.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
// Tests may compute freely; unwrap, indexing and panics in tests are allowed by clippy.toml.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

mod decode;
mod exit;
pub mod sysreg;
mod width;

pub use exit::{exception_class_name, Conduit, Exit, MmioAccess, SysRegId};
pub use width::AccessWidth;

/// Which vector an exception from a lower EL came through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VectorKind {
    /// Synchronous exception from AArch64.
    Sync,
    /// Physical IRQ while a guest ran.
    Irq,
    /// Physical FIQ while a guest ran.
    Fiq,
    /// SError while a guest ran.
    SError,
    /// Any exception from AArch32 (partitions run AArch64 only).
    Aarch32,
}

impl VectorKind {
    /// Decodes the index `vectors.S` passes for lower-EL vectors (0..=3 AArch64, 4..=7 AArch32).
    pub fn lower(index: u64) -> Self {
        match index {
            0 => VectorKind::Sync,
            1 => VectorKind::Irq,
            2 => VectorKind::Fiq,
            3 => VectorKind::SError,
            _ => VectorKind::Aarch32,
        }
    }
}

/// The syndrome of one trap, read once by the arch layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The vector taken.
    pub kind: VectorKind,
    /// ESR_EL2.
    pub esr: u64,
    /// FAR_EL2.
    pub far: u64,
    /// HPFAR_EL2.
    pub hpfar: u64,
}
