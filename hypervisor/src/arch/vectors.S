// EL2 exception vectors. Exceptions from the guest (lower EL) save the guest's general registers
// in a TrapFrame on this CPU's EL2 stack and call `handle_lower_el(frame, kind, ESR_EL2,
// ELR_EL2)`, which returns (x0) whether it changed any of x19..x29 in the frame and (x1) the ELR
// to resume at; then they return to the guest with eret. Two things are left out on that path
// because nothing between the trap and the eret could change them: SPSR_EL2 (EL2 runs with
// interrupts masked, and an exception taken at EL2 never returns, so the register still holds
// the guest's PSTATE at the eret) and, unless x0 says otherwise, x19..x29 (callee-saved, AAPCS64:
// the Rust code gives them back as it found them). The frame's `elr` and `spsr` slots are read
// only by `enter_guest_asm` and `handle_current_el`.
// While a guest runs, this CPU's stack is empty (`enter_guest_asm` resets SP to its top), so every
// trap's frame sits at the same place, right below the top.
// Exceptions taken from EL2 itself are hypervisor bugs, a stack overflow into a guard page among
// them: they switch to this CPU's emergency stack first (the faulting SP may be unusable), then
// `handle_current_el` reports and stops the machine's partitions. They never return.

// TrapFrame layout (keep in sync with arch::frame::TrapFrame): x0..x30, ELR_EL2, SPSR_EL2, pad.
.equ FRAME_SIZE, 34 * 8
// The fast paths' counters are this CPU's, in the two words above its stack's top
// (arch::stack::fast_counter_slots: calls, then timer interrupts), where SP finds them without a
// register: `fast_hvc` counts with SP 16 above the frame's base, `fast_irq_count` with SP 16
// below the stack's top.
.equ CALLS_SLOT, FRAME_SIZE - 16
.equ IRQS_SLOT, 16 + 8

// A lower-EL vector that always takes the general path: x0..x3 into the frame, x2 = ESR_EL2,
// x1 = the kind (the `VectorKind` index).
.macro ENTRY kind
.balign 0x80
    sub     sp, sp, #FRAME_SIZE
    stp     x0, x1, [sp, #0]
    stp     x2, x3, [sp, #16]
    mrs     x2, esr_el2
    mov     x1, #\kind
    b       save_lower_from_x4
.endm

// The lower-EL synchronous vector, in its slot (32 instructions): an HVC #0 goes to `fast_hvc`,
// which answers constant calls; everything else (an emulated device access first of all) saves
// the frame and calls the general path here, without a branch to get there.
.macro SYNC_LOWER
.balign 0x80
    // x2/x3 go straight into their slots of the frame the general path builds (FRAME_SIZE below
    // SP, x2 at +16), so a miss reloads nothing.
    stp     x2, x3, [sp, #-(FRAME_SIZE - 16)]!
    mrs     x2, esr_el2
    movz    w3, #0x5a00, lsl #16        // EC 0x16 (HVC64), IL, imm 0
    cmp     w2, w3
    b.eq    fast_hvc
    lsr     w3, w2, #26                 // a data abort (EC 0x24): perhaps the console's
    cmp     w3, #0x24
    b.eq    fast_console
    stp     x0, x1, [sp, #-16]!         // SP is now the frame's base
    mov     x1, #0
    SAVE_FROM_X4
    mov     x0, sp
    bl      handle_lower_el
    b       return_from_trap
.endm

// The table, once per GIC generation: they differ only in where a guest's IRQ goes first
// (`fast_irq` uses the GICv3 system registers, `fast_irq_v2` the GICv2's memory-mapped
// interfaces). Each CPU starts on `el2_vectors`; on a GICv2 machine it switches to
// `el2_vectors_gicv2` before entering its guest (arch::vcpu::prepare_el2_for_guests).
// An exception taken at EL2: nothing on the stack may be touched, so x0 and x1 are stashed in
// EL0/EL1 thread registers (the machine's partitions are stopped after this, so the guest's
// values there are not needed again) and the kind goes in x0.
.macro CURRENT kind
.balign 0x80
    msr     tpidr_el0, x0
    msr     tpidrro_el0, x1
    mov     x0, #\kind
    b       save_current
.endm

.macro SAVE_REST
    stp     x2, x3, [sp, #16]
    SAVE_FROM_X4
    mrs     x4, spsr_el2
    stp     x3, x4, [sp, #248]
.endm

// x4..x30 into the frame at SP (x0..x3 are there already), x3 = ELR_EL2; x2 is kept (it holds
// ESR_EL2 on the lower-EL paths).
.macro SAVE_FROM_X4
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    str     x30, [sp, #240]
    mrs     x3, elr_el2
.endm

.macro VECTORS irq_fast_path
    CURRENT 0                   // current EL, SP_EL0: sync
    CURRENT 1                   //   irq
    CURRENT 2                   //   fiq
    CURRENT 3                   //   serror
    CURRENT 0                   // current EL, SP_ELx: sync
    CURRENT 1                   //   irq
    CURRENT 2                   //   fiq
    CURRENT 3                   //   serror
    SYNC_LOWER                  // lower EL, AArch64: sync
.balign 0x80                    //   irq
    b       \irq_fast_path
    ENTRY 2                     //   fiq
    ENTRY 3                     //   serror
    ENTRY 4                     // lower EL, AArch32: sync
    ENTRY 5                     //   irq
    ENTRY 6                     //   fiq
    ENTRY 7                     //   serror
.endm

.section .text.vectors, "ax"
.balign 0x800
.global el2_vectors
el2_vectors:
    VECTORS fast_irq
// A slot past its 32 instructions would push the later ones out of place: .org fails then.
.org el2_vectors + 0x800
.balign 0x800
.global el2_vectors_gicv2
el2_vectors_gicv2:
    VECTORS fast_irq_v2
.org el2_vectors_gicv2 + 0x800

// Loads the guest's registers, ELR_EL2 and SPSR_EL2 from the TrapFrame at \base (x0 last).
.macro LOAD_GUEST base
    ldp     x30, x2, [\base, #240]
    ldr     x3, [\base, #256]
    msr     elr_el2, x2
    msr     spsr_el2, x3
    ldp     x2, x3, [\base, #16]
    ldp     x4, x5, [\base, #32]
    ldp     x6, x7, [\base, #48]
    ldp     x8, x9, [\base, #64]
    ldp     x10, x11, [\base, #80]
    ldp     x12, x13, [\base, #96]
    ldp     x14, x15, [\base, #112]
    ldp     x16, x17, [\base, #128]
    ldp     x18, x19, [\base, #144]
    ldp     x20, x21, [\base, #160]
    ldp     x22, x23, [\base, #176]
    ldp     x24, x25, [\base, #192]
    ldp     x26, x27, [\base, #208]
    ldp     x28, x29, [\base, #224]
    ldp     x0, x1, [\base, #0]
.endm

// The general path of every lower-EL vector but the synchronous one (which has it in its slot):
// x0..x3 are saved already, x1 = the kind, x2 = ESR_EL2.
save_lower_from_x4:
    SAVE_FROM_X4
    mov     x0, sp
    bl      handle_lower_el
// w0 = whether x19..x29 in the frame changed (else the callee-saved registers hold the guest's),
// x1 = where the guest resumes.
return_from_trap:
    msr     elr_el2, x1
    ldr     x30, [sp, #240]
    cbnz    w0, 1f
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldr     x18, [sp, #144]
    ldp     x0, x1, [sp, #0]
    add     sp, sp, #FRAME_SIZE
    eret
1:  ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x19, [sp, #144]
    ldp     x20, x21, [sp, #160]
    ldp     x22, x23, [sp, #176]
    ldp     x24, x25, [sp, #192]
    ldp     x26, x27, [sp, #208]
    ldp     x28, x29, [sp, #224]
    ldp     x0, x1, [sp, #0]
    add     sp, sp, #FRAME_SIZE
    eret

// x0 = kind; the interrupted x0 and x1 are in TPIDR_EL0 and TPIDRRO_EL0. The faulting SP goes to
// TPIDR_EL1, SP to the top of this CPU's emergency stack, EMERGENCY_STACKS + (cpu + 1) << shift
// (its guard page comes first), and the frame (with the faulting SP in its pad slot) is saved
// there for `handle_current_el`.
save_current:
    mov     x1, sp
    msr     tpidr_el1, x1
    mrs     x1, tpidr_el2
    cmp     x1, #{MAX_CPUS}
    b.hs    1f
    add     x1, x1, #1
    lsl     x1, x1, #{EMERGENCY_SHIFT}
    mov     sp, x1
    adrp    x1, EMERGENCY_STACKS
    add     x1, x1, :lo12:EMERGENCY_STACKS
    add     sp, sp, x1
    sub     sp, sp, #FRAME_SIZE
    SAVE_REST
    mrs     x2, tpidr_el0
    mrs     x3, tpidrro_el0
    stp     x2, x3, [sp, #0]
    mrs     x2, tpidr_el1
    str     x2, [sp, #264]
    mov     x1, x0
    mov     x0, sp
    bl      handle_current_el
1:  wfe
    b       1b

// Enters a guest vCPU: x0 = a TrapFrame with its entry state (anywhere: it is read once). SP
// goes back to the top of this CPU's stack first, so every entry, and every trap after it,
// starts at the same depth however deep the caller was: leaving a guest can never nest.
.global enter_guest_asm
enter_guest_asm:
    mov     x19, x0
    bl      el2_stack_top
    mov     sp, x0
    mov     x0, x19
    LOAD_GUEST x0                       // x0 itself last
    eret

// ---------------------------------------------------------------------------------------------
// Fast paths. They run before anything is saved, touch only the registers they restore, and fall
// back to the general path (`slow_sync`, `slow_irq`) on anything unusual.

// HVC #0 with a function whose answer never changes (SMCCC_VERSION, PSCI_VERSION, the vendor
// UID and revision, ...): answered from FAST_CALLS, a table of (function, x0, x1, x2, x3)
// ending with function 0, filled at boot from the dispatcher's own answers. Entered from the
// synchronous vector (SYNC_LOWER) once the syndrome matched, with x2/x3 in their frame slots and
// SP 16 above the frame's base.
fast_hvc:
    movz    w3, #{RING_LO}              // BULKHEAD_DOORBELL_RING: doorbell_fast_path.S
    movk    w3, #{RING_HI}, lsl #16
    cmp     w0, w3
    b.eq    fast_doorbell_ring
    adrp    x2, FAST_CALLS
    add     x2, x2, :lo12:FAST_CALLS
1:  ldr     x3, [x2], #40
    cbz     x3, 2f
    cmp     w0, w3
    b.ne    1b
    ldr     x0, [sp, #CALLS_SLOT]       // this CPU's count of answered calls += 1
    add     x0, x0, #1
    str     x0, [sp, #CALLS_SLOT]
    ldp     x0, x1, [x2, #-32]
    ldp     x2, x3, [x2, #-16]
    add     sp, sp, #(FRAME_SIZE - 16)
    eret
2:  stp     x0, x1, [sp, #-16]!         // SP is now the frame's base
    mrs     x2, esr_el2
    mov     x1, #0
    b       save_lower_from_x4

// Both timer fast paths start here: save x0/x1, load VTIMER_LR[cpu] into x1, and take the
// general path while it is 0 (the guest has the timer's PPI disabled).
.macro VTIMER_LR_OR_SLOW
    stp     x0, x1, [sp, #-16]!
    mrs     x0, tpidr_el2
    adrp    x1, VTIMER_LR
    add     x1, x1, :lo12:VTIMER_LR
    ldr     x1, [x1, x0, lsl #3]
    cbz     x1, fast_irq_slow
.endm

// The virtual timer of this CPU's vCPU: when VTIMER_LR[cpu] holds a list register value for it
// and list register 0 is empty, acknowledge, drop priority and inject with the HW bit, so the
// guest's EOI deactivates the physical interrupt. Anything else is acknowledged here and handed
// to the general path through PENDING_ACK[cpu] (the raw acknowledge value). GICv3 here; GICv2
// in fast_irq_v2 below.
// DOORBELL_SGI goes on to fast_doorbell_irq (doorbell_fast_path.S).
fast_irq:
    stp     x0, x1, [sp, #-16]!
    mrs     x0, tpidr_el2
    adrp    x1, VTIMER_LR
    add     x1, x1, :lo12:VTIMER_LR
    ldr     x1, [x1, x0, lsl #3]
    mrs     x0, S3_4_C12_C11_5          // ICH_ELRSR_EL2
    tbz     x0, #0, fast_irq_slow
    mrs     x0, S3_0_C12_C12_0          // ICC_IAR1_EL1
    cmp     w0, #27
    b.ne    fast_irq_not_timer
    cbz     x1, fast_irq_pass_on        // the guest has the timer's PPI disabled
    msr     S3_0_C12_C12_1, x0          // ICC_EOIR1_EL1: priority drop only (EOImode 1)
    msr     S3_4_C12_C12_0, x1          // ICH_LR0_EL2
fast_irq_count:
    ldr     x0, [sp, #IRQS_SLOT]        // this CPU's count of injected timer interrupts += 1
    add     x0, x0, #1
    str     x0, [sp, #IRQS_SLOT]
    ldp     x0, x1, [sp], #16
    eret
fast_irq_not_timer:
    cmp     w0, #{DOORBELL_SGI}
    b.eq    fast_doorbell_irq
fast_irq_pass_on:                       // an interrupt other than the timer: pass it on
    stp     x2, x3, [sp, #-16]!
    mrs     x1, tpidr_el2
    adrp    x2, PENDING_ACK
    add     x2, x2, :lo12:PENDING_ACK
    str     w0, [x2, x1, lsl #2]
    ldp     x2, x3, [sp], #16
fast_irq_slow:
    ldp     x0, x1, [sp], #16
    sub     sp, sp, #FRAME_SIZE
    stp     x0, x1, [sp, #0]
    stp     x2, x3, [sp, #16]
    mrs     x2, esr_el2                 // not written by an interrupt: passed for uniformity
    mov     x1, #1
    b       save_lower_from_x4

// The same on a GICv2 (GIC-400), whose CPU and hypervisor interfaces are memory-mapped (EL2's
// identity map has them as device memory): GICH_ELRSR0 bit 0 says list register 0 is empty,
// GICC_IAR acknowledges (for PPI 27 the source-CPU bits are 0, so the raw value is the INTID),
// GICC_EOIR drops the priority and GICH_LR0 takes the 32-bit entry.
fast_irq_v2:
    VTIMER_LR_OR_SLOW
    stp     x2, x3, [sp, #-16]!
    adrp    x2, BULKHEAD_GICV2_GICH
    ldr     x2, [x2, :lo12:BULKHEAD_GICV2_GICH]
    ldr     w0, [x2, #0x30]             // GICH_ELRSR0
    tbz     w0, #0, 1f
    adrp    x3, BULKHEAD_GICV2_GICC
    ldr     x3, [x3, :lo12:BULKHEAD_GICV2_GICC]
    ldr     w0, [x3, #0x0c]             // GICC_IAR
    cmp     w0, #27
    b.ne    2f
    str     w0, [x3, #0x10]             // GICC_EOIR: priority drop only (EOImode 1)
    str     w1, [x2, #0x100]            // GICH_LR0
    ldp     x2, x3, [sp], #16
    b       fast_irq_count
2:  ldp     x2, x3, [sp], #16
    b       fast_irq_pass_on
1:  ldp     x2, x3, [sp], #16
    b       fast_irq_slow
