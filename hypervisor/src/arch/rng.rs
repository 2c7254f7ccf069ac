//! The CPU's random number instructions (FEAT_RNG): RNDR.

use aarch64_cpu::registers::{Readable, ID_AA64ISAR0_EL1};

/// How often a failing RNDR is retried before giving up (it fails only if the hardware could
/// not produce a number "in a reasonable amount of time", Arm ARM D23.2).
const RNDR_RETRIES: usize = 16;

/// Whether this CPU implements RNDR (ID_AA64ISAR0_EL1.RNDR != 0).
pub fn available() -> bool {
    ID_AA64ISAR0_EL1.read(ID_AA64ISAR0_EL1::RNDR) != 0
}

/// Reads RNDR once: `None` if the hardware had no number ready (PSTATE.Z set).
///
/// Only call this when [`available`] is true: without FEAT_RNG the encoding is UNDEFINED.
fn read_rndr() -> Option<u64> {
    let value: u64;
    let ok: u64;
    // SAFETY: RNDR (S3_3_C2_C4_0) only returns a number and sets NZCV; callers check
    // `available()` first, so the instruction exists. `cset` reads the flags it set.
    unsafe {
        core::arch::asm!(
            "mrs {value}, s3_3_c2_c4_0",
            "cset {ok}, ne",
            value = out(reg) value,
            ok = out(reg) ok,
            options(nomem, nostack),
        )
    };
    (ok != 0).then_some(value)
}

/// Fills `out` from RNDR; `false` if the CPU has no RNDR or it kept failing.
pub fn fill(out: &mut [u8]) -> bool {
    if !available() {
        return false;
    }
    for chunk in out.chunks_mut(8) {
        let Some(value) = (0..RNDR_RETRIES).find_map(|_| read_rndr()) else {
            return false;
        };
        let bytes = value.to_le_bytes();
        chunk.copy_from_slice(bytes.get(..chunk.len()).unwrap_or_default());
    }
    true
}
