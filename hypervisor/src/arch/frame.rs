//! The guest register frame saved by `vectors.S` on every trap from a lower EL.

/// The guest's general registers and exception return state, as `vectors.S` saves them.
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
