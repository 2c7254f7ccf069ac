//! The guest register frame saved by `vectors.S` on every trap from a lower EL.

/// The guest's general registers and exception return state: what `enter_guest_asm` loads, what
/// `vectors.S` saves for an exception taken at EL2. A trap from a guest saves x0..x30 only (ELR_EL2
/// is passed to the handler, SPSR_EL2 stays in its register: see `vectors.S`).
#[repr(C)]
#[derive(Clone, Debug, Default)]
pub struct TrapFrame {
    /// x0..x30.
    pub x: [u64; 31],
    /// ELR_EL2: where the guest resumes.
    pub elr: u64,
    /// SPSR_EL2: the guest's PSTATE on return.
    pub spsr: u64,
    /// Keeps the frame 16-byte aligned.
    pub pad: u64,
}

const _: () = assert!(core::mem::size_of::<TrapFrame>() == 34 * 8);

/// What the return path of `vectors.S` does after a trap from a guest (returned in x0 and x1).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resume {
    /// Nonzero if any of x19..x29 in the frame changed: only then are they reloaded (the Rust
    /// code preserves the callee-saved registers, so otherwise they still hold the guest's).
    pub callee_saved_written: u64,
    /// ELR_EL2: where the guest resumes.
    pub elr: u64,
}
