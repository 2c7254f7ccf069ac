// The doorbell fast path (see arch::doorbell_fast_path): BULKHEAD_DOORBELL_RING answered at the
// sender's synchronous vector, and the ring taken at the receiver's IRQ vector, GICv3 only.
// Both fall back to the general path on anything unusual: an entry of 0, a peer not running,
// a list register in use, a flag of doorbell 8 or above, more than one flag raised.

.equ FR_SHIFT, 8                        // FAST_RINGS: 16 entries of 16 bytes per CPU
.equ FL_SHIFT, 4                        // FAST_DOORBELL_FLAGS: 16 bytes per CPU
.equ LR_SHIFT, 7                        // FAST_DOORBELL_LRS: 16 words per CPU

.text
// Entered from fast_hvc once W0 = BULKHEAD_DOORBELL_RING, with the guest's x2/x3 in their frame
// slots (SP = frame base + 16) and W1 = the doorbell index. On success: x0..x3 = 0 (the general
// path's answer), the peer's flag raised and DOORBELL_SGI sent to its CPU.
.global fast_doorbell_ring
fast_doorbell_ring:
    stp     x0, x1, [sp, #-16]!         // SP = the frame's base; x0..x3 in their slots
    cmp     w1, #{MAX_CHANNELS}
    b.hs    fast_doorbell_miss
    mrs     x2, tpidr_el2
    adrp    x3, FAST_RINGS
    add     x3, x3, :lo12:FAST_RINGS
    add     x3, x3, x2, lsl #FR_SHIFT
    add     x3, x3, w1, uxtw #4
    ldp     x0, x1, [x3]                // x0 = flag index << 56 | SGI1R; x1 = &peer state
    cbz     x0, fast_doorbell_miss
    ldrb    w1, [x1]
    cbnz    w1, fast_doorbell_miss      // the peer is not running: PEER_DOWN, from Rust
    adrp    x2, FAST_DOORBELL_FLAGS
    add     x2, x2, :lo12:FAST_DOORBELL_FLAGS
    lsr     x3, x0, #56
    mov     w1, #1
    strb    w1, [x2, x3]
    and     x0, x0, #0x00ffffffffffffff
    dsb     ishst                       // the flag is visible before the SGI
    msr     S3_0_C12_C11_5, x0          // ICC_SGI1R_EL1
    mov     x0, #0
    mov     x1, #0
    mov     x2, #0
    mov     x3, #0
    add     sp, sp, #{FRAME_SIZE}
    eret
fast_doorbell_miss:
    mrs     x2, esr_el2
    mov     x1, #0
    b       save_lower_from_x4

// Entered from fast_irq with x0 = the acknowledged DOORBELL_SGI, x1 scratch, the guest's x0/x1
// pushed (SP = their slot). Injects the one raised doorbell through list register 0 when every
// list register is empty, then drops and deactivates the SGI; anything else is passed on (the
// general path, `interrupts::fast_doorbells`, takes every flag).
.global fast_doorbell_irq
fast_doorbell_irq:
    stp     x2, x3, [sp, #-16]!
    mrs     x1, S3_4_C12_C11_5          // ICH_ELRSR_EL2
    adrp    x2, FAST_ALL_LRS
    ldr     x2, [x2, :lo12:FAST_ALL_LRS]
    bics    xzr, x2, x1
    b.ne    9f                          // a list register is in use
    dmb     ishld                       // the flags after the SGI
    mrs     x1, tpidr_el2
    adrp    x2, FAST_DOORBELL_FLAGS
    add     x2, x2, :lo12:FAST_DOORBELL_FLAGS
    add     x2, x2, x1, lsl #FL_SHIFT
    ldr     x3, [x2]                    // doorbells 0..7, a byte each
    cbz     x3, 9f
    rbit    x3, x3
    clz     x3, x3
    lsr     x3, x3, #3                  // the lowest raised doorbell
    adrp    x0, FAST_DOORBELL_LRS
    add     x0, x0, :lo12:FAST_DOORBELL_LRS
    add     x0, x0, x1, lsl #LR_SHIFT
    ldr     x0, [x0, x3, lsl #3]
    cbz     x0, 9f                      // disabled or routed elsewhere: the general path
    strb    wzr, [x2, x3]
    msr     S3_4_C12_C12_0, x0          // ICH_LR0_EL2
    ldp     x0, x3, [x2]                // another doorbell raised meanwhile?
    orr     x0, x0, x3
    cbnz    x0, 9f                      // the general path takes the rest
    mov     x0, #{DOORBELL_SGI}
    msr     S3_0_C12_C12_1, x0          // ICC_EOIR1_EL1: priority drop
    msr     S3_0_C12_C11_1, x0          // ICC_DIR_EL1: deactivate
    ldp     x2, x3, [sp], #16
    ldp     x0, x1, [sp], #16
    eret
9:  mov     x0, #{DOORBELL_SGI}         // the raw acknowledge value (no source on GICv3)
    ldp     x2, x3, [sp], #16
    b       fast_irq_pass_on
