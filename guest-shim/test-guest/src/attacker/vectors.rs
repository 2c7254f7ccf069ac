//! The attacker's own EL1 exception vectors: every synchronous exception it takes (an abort
//! the hypervisor injected, an alignment fault, an UNDEFINED EL2 register access) is counted,
//! its ESR_EL1 and FAR_EL1 kept, and the instruction stepped over. Interrupts stay masked, so
//! only synchronous exceptions arrive.

use core::sync::atomic::{AtomicU64, Ordering};

/// Synchronous exceptions taken so far.
#[no_mangle]
static ATTACKER_TRAPS: AtomicU64 = AtomicU64::new(0);
/// ESR_EL1 of the last one.
#[no_mangle]
static ATTACKER_ESR: AtomicU64 = AtomicU64::new(0);
/// FAR_EL1 of the last one.
#[no_mangle]
static ATTACKER_FAR: AtomicU64 = AtomicU64::new(0);

core::arch::global_asm!(
    ".section .text.attacker_vectors, \"ax\"",
    ".balign 2048",
    ".global attacker_vectors",
    "attacker_vectors:",
    ".rept 16",
    "    b attacker_sync",
    "    .balign 128",
    ".endr",
    "attacker_sync:",
    "    stp x0, x1, [sp, #-16]!",
    "    mrs x0, esr_el1",
    "    adrp x1, ATTACKER_ESR",
    "    str x0, [x1, :lo12:ATTACKER_ESR]",
    "    mrs x0, far_el1",
    "    adrp x1, ATTACKER_FAR",
    "    str x0, [x1, :lo12:ATTACKER_FAR]",
    "    adrp x1, ATTACKER_TRAPS",
    "    ldr x0, [x1, :lo12:ATTACKER_TRAPS]",
    "    add x0, x0, #1",
    "    str x0, [x1, :lo12:ATTACKER_TRAPS]",
    "    mrs x0, elr_el1",
    "    add x0, x0, #4",
    "    msr elr_el1, x0",
    "    ldp x0, x1, [sp], #16",
    "    eret",
);

/// Points VBAR_EL1 at the table.
pub(crate) fn install() {
    // SAFETY: `attacker_vectors` is a complete, 2 KiB-aligned vector table whose handler
    // preserves every register but the EL1 exception registers.
    unsafe {
        core::arch::asm!(
            "adrp {t}, attacker_vectors",
            "add {t}, {t}, :lo12:attacker_vectors",
            "msr vbar_el1, {t}",
            "isb",
            t = out(reg) _,
            options(nostack),
        )
    };
}

/// A synchronous exception taken while running a probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Taken {
    /// ESR_EL1.
    pub(crate) esr: u64,
    /// FAR_EL1.
    pub(crate) far: u64,
}

impl Taken {
    /// ESR.EC.
    pub(crate) fn class(&self) -> u64 {
        self.esr >> 26 & 0x3f
    }

    /// ESR.ISS.DFSC/IFSC (aborts).
    pub(crate) fn status(&self) -> u64 {
        self.esr & 0x3f
    }
}

/// Runs `f` and says whether it took a synchronous exception (the last one, if several).
pub(crate) fn probe<R>(f: impl FnOnce() -> R) -> (R, Option<Taken>) {
    let before = ATTACKER_TRAPS.load(Ordering::SeqCst);
    let result = f();
    let after = ATTACKER_TRAPS.load(Ordering::SeqCst);
    let taken = (after != before).then(|| Taken {
        esr: ATTACKER_ESR.load(Ordering::SeqCst),
        far: ATTACKER_FAR.load(Ordering::SeqCst),
    });
    (result, taken)
}
