//! The EL1 exception vectors (VBAR_EL1). IRQs taken from EL1 with SP_EL1 (the only way the RTOS
//! runs) save the caller-saved registers, ELR and SPSR, read the counter and call
//! [`crate::runtime`]'s handler; that handler may run jobs with IRQs unmasked, so interrupts
//! nest on the same stack. Every other exception is a fault: it is reported and the partition
//! (or the machine) is powered off.

use crate::time::Instant;

core::arch::global_asm!(
    ".macro RTOS_FAULT kind",
    "    .balign 128",
    "    mov x0, #\\kind",
    "    mrs x1, esr_el1",
    "    mrs x2, elr_el1",
    "    mrs x3, far_el1",
    "    mrs x4, spsr_el1",
    "    b rtos_exception",
    ".endm",
    "",
    ".section .text.vectors, \"ax\"",
    ".balign 2048",
    ".global rtos_vectors",
    "rtos_vectors:",
    "    RTOS_FAULT 0", // current EL, SP_EL0: synchronous
    "    RTOS_FAULT 1", // IRQ
    "    RTOS_FAULT 2", // FIQ
    "    RTOS_FAULT 3", // SError
    "    RTOS_FAULT 4", // current EL, SP_ELx: synchronous
    "    .balign 128",  // current EL, SP_ELx: IRQ
    "    sub sp, sp, #192",
    "    stp x0, x1, [sp, #0]",
    "    mrs x0, cntvct_el0", // the third instruction of the vector: the entry time
    "    b rtos_irq_entry",
    "    RTOS_FAULT 6", // FIQ
    "    RTOS_FAULT 7", // SError
    "    RTOS_FAULT 8", // lower EL, AArch64
    "    RTOS_FAULT 9",
    "    RTOS_FAULT 10",
    "    RTOS_FAULT 11",
    "    RTOS_FAULT 12", // lower EL, AArch32
    "    RTOS_FAULT 13",
    "    RTOS_FAULT 14",
    "    RTOS_FAULT 15",
    "",
    "rtos_irq_entry:",
    "    stp x2, x3, [sp, #16]",
    "    stp x4, x5, [sp, #32]",
    "    stp x6, x7, [sp, #48]",
    "    stp x8, x9, [sp, #64]",
    "    stp x10, x11, [sp, #80]",
    "    stp x12, x13, [sp, #96]",
    "    stp x14, x15, [sp, #112]",
    "    stp x16, x17, [sp, #128]",
    "    stp x18, x29, [sp, #144]",
    "    mrs x1, elr_el1",
    "    mrs x2, spsr_el1",
    "    stp x30, x1, [sp, #160]",
    "    str x2, [sp, #176]",
    "    bl rtos_irq",
    "    ldr x2, [sp, #176]",
    "    ldp x30, x1, [sp, #160]",
    "    msr elr_el1, x1",
    "    msr spsr_el1, x2",
    "    ldp x18, x29, [sp, #144]",
    "    ldp x16, x17, [sp, #128]",
    "    ldp x14, x15, [sp, #112]",
    "    ldp x12, x13, [sp, #96]",
    "    ldp x10, x11, [sp, #80]",
    "    ldp x8, x9, [sp, #64]",
    "    ldp x6, x7, [sp, #48]",
    "    ldp x4, x5, [sp, #32]",
    "    ldp x2, x3, [sp, #16]",
    "    ldp x0, x1, [sp, #0]",
    "    add sp, sp, #192",
    "    eret",
);

/// Called by the IRQ vector with the counter it read on entry.
#[no_mangle]
extern "C" fn rtos_irq(entry: u64) {
    crate::runtime::on_irq(Instant(entry));
}

/// The vector's names, by its index in the table.
const VECTOR_NAMES: [&str; 16] = [
    "sync-sp0",
    "irq-sp0",
    "fiq-sp0",
    "serror-sp0",
    "sync",
    "irq",
    "fiq",
    "serror",
    "sync-lower64",
    "irq-lower64",
    "fiq-lower64",
    "serror-lower64",
    "sync-lower32",
    "irq-lower32",
    "fiq-lower32",
    "serror-lower32",
];

/// Called by every vector except the IRQ one.
#[no_mangle]
extern "C" fn rtos_exception(kind: u64, esr: u64, elr: u64, far: u64, spsr: u64) -> ! {
    let name = VECTOR_NAMES.get(kind as usize).copied().unwrap_or("?");
    crate::runtime::fault(format_args!(
        "exception={name} esr={esr:#x} elr={elr:#x} far={far:#x} spsr={spsr:#x}"
    ))
}
