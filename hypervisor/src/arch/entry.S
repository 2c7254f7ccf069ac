// Bulkhead's entry points: the arm64 Image header, the boot CPU's entry and secondary CPUs' entry.
// Everything here runs at EL2 with the MMU off, before Rust has a stack; and the two ways back
// to the top of a CPU's stack.

.section .text.head, "ax"
.global _start
_start:
    // arm64 Image header (Linux Documentation/arch/arm64/booting.rst).
    b       primary_entry               // code0
    .long   0                           // code1
    .quad   0x200000                    // text_offset: loaded at a 2 MiB-aligned base + 2 MiB
    .quad   __image_end - _start        // image_size: xtask rewrites it to cover the bundle
    .quad   0x2                         // flags: little endian, 4 KiB pages, base near DRAM start
    .quad   0, 0, 0                     // res2..res4
    .ascii  "ARM\x64"                   // magic
    .long   0                           // res5

.text
// The boot CPU: x0 = physical address of the host device tree. Its MMU and caches are off (the
// armstub leaves SCTLR_EL2 = 0x30c50830): until `primary_main` turns them on, everything runs
// on Device memory, where the BCM2711 never completes an exclusive (`cargo xtask check-boot`).
// The early vector table reports an exception through the boot console and parks.
primary_entry:
    msr     daifset, #0xf
    mov     x19, x0
    msr     tpidr_el2, xzr              // logical CPU index 0
    bl      el2_stack_top
    mov     sp, x0
    adrp    x1, el2_early_vectors
    add     x1, x1, :lo12:el2_early_vectors
    msr     vbar_el2, x1
    isb
    mov     x0, x19
    adr     x1, _start                  // where the image runs (PC-relative)
    ldr     x2, =_start                 // where it is linked (an absolute literal)
    bl      primary_main
1:  wfe
    b       1b
.ltorg

// The boot CPU's vectors until its MMU is on (`arch::boot::use_full_vectors` switches to
// `el2_vectors`): every entry passes its kind (0-15) to `early_exception_entry`.
.macro EARLY kind
.balign 0x80
    mov     x0, #\kind
    b       early_exception_entry
.endm

.balign 0x800
.global el2_early_vectors
el2_early_vectors:
    .irp kind, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    EARLY   \kind
    .endr

// An exception before the MMU is on: back to the top of the boot stack (the SP may be what
// faulted), then `early_exception(kind, ESR, ELR, FAR)`, which prints and parks.
early_exception_entry:
    mov     x19, x0
    bl      el2_stack_top
    mov     sp, x0
    mov     x0, x19
    mrs     x1, esr_el2
    mrs     x2, elr_el2
    mrs     x3, far_el2
    bl      early_exception
1:  wfe
    b       1b

// A secondary CPU started by PSCI CPU_ON or the spin table.
// It turns on the MMU with the boot CPU's tables before it touches memory through the caches.
.global secondary_entry
secondary_entry:
    msr     daifset, #0xf
    // Find this CPU's logical index from its MPIDR (PSCI passes it in x0, the spin table
    // passes nothing): Aff2..Aff0 and Aff3, as the device tree's `reg` writes them.
    mrs     x1, mpidr_el1
    and     x2, x1, #0xffffff
    lsr     x3, x1, #32
    and     x3, x3, #0xff
    orr     x1, x2, x3, lsl #32
    adrp    x2, CPU_MPIDRS
    add     x2, x2, :lo12:CPU_MPIDRS
    mov     x19, #0
1:  ldr     x3, [x2, x19, lsl #3]
    cmp     x3, x1
    b.eq    2f
    add     x19, x19, #1
    cmp     x19, #{MAX_CPUS}
    b.lo    1b
3:  wfe                                 // not a CPU the boot CPU knows: stay out of the way
    b       3b
2:  msr     tpidr_el2, x19
    adrp    x1, EL2_MMU_STATE
    add     x1, x1, :lo12:EL2_MMU_STATE
    ldp     x2, x3, [x1]                // MAIR_EL2, TCR_EL2
    ldp     x4, x5, [x1, #16]           // TTBR0_EL2, SCTLR_EL2
    msr     mair_el2, x2
    msr     tcr_el2, x3
    msr     ttbr0_el2, x4
    isb
    tlbi    alle2
    dsb     nsh
    isb
    msr     sctlr_el2, x5
    isb
    bl      el2_stack_top
    mov     sp, x0
    adrp    x1, el2_vectors
    add     x1, x1, :lo12:el2_vectors
    msr     vbar_el2, x1
    isb
    mov     x0, x19
    bl      secondary_main
1:  wfe
    b       1b

// x0 = the top of this CPU's EL2 stack (TPIDR_EL2 = logical CPU index): PRIMARY_STACK for CPU
// 0, SECONDARY_STACKS[cpu] otherwise; each stack has its guard page at its start, and its last
// TOP_RESERVED bytes hold the fast paths' counters (vectors.S), so the top is below them.
// Clobbers x1 and x2 only, uses no stack.
.global el2_stack_top
el2_stack_top:
    mrs     x1, tpidr_el2
    cbnz    x1, 1f
    adrp    x0, PRIMARY_STACK
    add     x0, x0, :lo12:PRIMARY_STACK
    add     x0, x0, #{PRIMARY_PAGES}, lsl #12
    sub     x0, x0, #{TOP_RESERVED}
    ret
1:  adrp    x0, SECONDARY_STACKS
    add     x0, x0, :lo12:SECONDARY_STACKS
    mov     x2, #{SECONDARY_STRIDE}
    madd    x0, x1, x2, x0
    add     x0, x0, x2
    sub     x0, x0, #{TOP_RESERVED}
    ret

// reset_stack_and_call_asm(x0 = argument, x1 = f): SP back to this CPU's stack top, then
// f(argument), which never returns. Everything that was on the stack is abandoned.
.global reset_stack_and_call_asm
reset_stack_and_call_asm:
    mov     x19, x0
    mov     x20, x1
    bl      el2_stack_top
    mov     sp, x0
    mov     x0, x19
    mov     x29, xzr                    // the frame chain ends here
    mov     x30, xzr
    br      x20
