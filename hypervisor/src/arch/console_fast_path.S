// The console fast path (see arch::console_fast_path): a UARTFR read or a UARTDR write (byte,
// halfword or word) of the vCPU's virtual PL011, answered from this CPU's CONSOLE_FAST slot without
// saving the frame. Entered from `fast_hvc` when the trap is not an HVC, with x2 = ESR_EL2 and
// the guest's x2/x3 already in their frame slots (SP = frame base + 16). Anything else goes on
// to the general path with the frame exactly as `fast_hvc`'s miss leaves it.

// CONSOLE_FAST slot layout (keep in sync with arch::console_fast_path::ConsoleFast).
.equ CF_WINDOW, 0
.equ CF_FLAGS, 8
.equ CF_CONTROL, 12
.equ CF_TAIL, 16                       // bytes ever staged (this CPU writes)
.equ CF_FLAG_READS, 20
.equ CF_COUNT, 24
.equ CF_HEAD, 32                       // bytes ever taken (the model writes)
.equ CF_BYTES, 40
.equ CF_SHIFT, 7                        // 128 bytes per CPU
.equ CF_WRITE_OK, 0                     // control bits
.equ CF_HELD, 1

.text
.global fast_console
fast_console:
    stp     x0, x1, [sp, #-16]!         // SP = the frame's base; x0..x3 in their slots
    // A byte, halfword or word access (SAS [23:22] < 3; Linux's amba-pl011 uses halfwords,
    // earlycon mmio32 words), with EC, IL, ISV, SSE [31:24, 21], EA [9], CM [8], S1PTW [7] and
    // WnR [6] saying: a plain access with a valid syndrome, zero-extending, not a cache
    // maintenance, walk or external abort.
    ubfx    w0, w2, #22, #2
    cmp     w0, #3
    b.eq    fast_console_miss
    movz    w0, #0x03c0
    movk    w0, #0xff20, lsl #16
    and     w0, w2, w0
    movz    w1, #0x9300, lsl #16        // EC 0x24, IL, ISV, read
    cmp     w0, w1
    b.eq    fast_console_read
    movk    w1, #0x0040                 // ... write
    cmp     w0, w1
    b.eq    fast_console_write
fast_console_miss:
    mov     x1, #0
    b       save_lower_from_x4

// x0 = this CPU's slot if the access is in its console page (else to the general path);
// clobbers x1, x3.
.macro CONSOLE_SLOT
    mrs     x1, hpfar_el2
    and     x1, x1, #0x00000ffffffffff0 // FIPA: IPA [51:12] in [43:4]
    lsl     x1, x1, #8
    mrs     x3, tpidr_el2
    adrp    x0, CONSOLE_FAST
    add     x0, x0, :lo12:CONSOLE_FAST
    add     x0, x0, x3, lsl #CF_SHIFT
    ldr     x3, [x0, #CF_WINDOW]
    cmp     x1, x3
    b.ne    fast_console_miss
.endm

// A read of UARTFR (its low byte, halfword or the word; its bits above 8 are 0) only, and not the third flag read in a row while bytes are staged.
fast_console_read:
    mrs     x1, far_el2
    and     x1, x1, #0xfff
    cmp     x1, #0x18
    b.ne    fast_console_miss
    CONSOLE_SLOT
    ldr     w1, [x0, #CF_FLAG_READS]
    add     w1, w1, #1
    cmp     w1, #{POLLING}
    b.lo    1f
    ldr     w3, [x0, #CF_TAIL]
    ldr     w2, [x0, #CF_HEAD]
    cmp     w3, w2
    b.ne    fast_console_miss           // bytes staged
    ldr     w3, [x0, #CF_CONTROL]
    tbnz    w3, #CF_HELD, fast_console_miss
    mrs     x2, esr_el2                 // x2 held the syndrome: reload it
    mov     w1, #{POLLING}              // saturate: a polling loop never wraps the count
1:  str     w1, [x0, #CF_FLAG_READS]
    ldr     x1, [x0, #CF_COUNT]
    add     x1, x1, #1
    str     x1, [x0, #CF_COUNT]
    ldr     w1, [x0, #CF_FLAGS]         // zero-extended: right for a W or an X destination
    ubfx    x2, x2, #16, #5             // SRT
    cmp     x2, #4
    b.hs    2f
    str     x1, [sp, x2, lsl #3]        // x0..x3: into the slot reloaded below
    b       fast_console_done
2:  adr     x3, fast_console_read_table
    add     x3, x3, x2, lsl #3
    br      x3
fast_console_read_table = . - 4 * 8     // entry n (n >= 4) at table + 8n
    mov     x4, x1
    b       fast_console_done
    mov     x5, x1
    b       fast_console_done
    mov     x6, x1
    b       fast_console_done
    mov     x7, x1
    b       fast_console_done
    mov     x8, x1
    b       fast_console_done
    mov     x9, x1
    b       fast_console_done
    mov     x10, x1
    b       fast_console_done
    mov     x11, x1
    b       fast_console_done
    mov     x12, x1
    b       fast_console_done
    mov     x13, x1
    b       fast_console_done
    mov     x14, x1
    b       fast_console_done
    mov     x15, x1
    b       fast_console_done
    mov     x16, x1
    b       fast_console_done
    mov     x17, x1
    b       fast_console_done
    mov     x18, x1
    b       fast_console_done
    mov     x19, x1
    b       fast_console_done
    mov     x20, x1
    b       fast_console_done
    mov     x21, x1
    b       fast_console_done
    mov     x22, x1
    b       fast_console_done
    mov     x23, x1
    b       fast_console_done
    mov     x24, x1
    b       fast_console_done
    mov     x25, x1
    b       fast_console_done
    mov     x26, x1
    b       fast_console_done
    mov     x27, x1
    b       fast_console_done
    mov     x28, x1
    b       fast_console_done
    mov     x29, x1
    b       fast_console_done
    mov     x30, x1
    b       fast_console_done
    b       fast_console_done           // x31: xzr
    nop

// A byte, halfword or word write: UARTDR only, while the model allows it, neither a newline nor a full
// stage.
fast_console_write:
    mrs     x1, far_el2
    tst     x1, #0xfff
    b.ne    fast_console_miss
    CONSOLE_SLOT
    ldr     w1, [x0, #CF_CONTROL]
    tbz     w1, #CF_WRITE_OK, fast_console_miss
    ubfx    x2, x2, #16, #5             // SRT
    cmp     x2, #4
    b.hs    2f
    ldr     x1, [sp, x2, lsl #3]
    b       fast_console_value
2:  adr     x3, fast_console_write_table
    add     x3, x3, x2, lsl #3
    br      x3
fast_console_write_table = . - 4 * 8
    mov     x1, x4
    b       fast_console_value
    mov     x1, x5
    b       fast_console_value
    mov     x1, x6
    b       fast_console_value
    mov     x1, x7
    b       fast_console_value
    mov     x1, x8
    b       fast_console_value
    mov     x1, x9
    b       fast_console_value
    mov     x1, x10
    b       fast_console_value
    mov     x1, x11
    b       fast_console_value
    mov     x1, x12
    b       fast_console_value
    mov     x1, x13
    b       fast_console_value
    mov     x1, x14
    b       fast_console_value
    mov     x1, x15
    b       fast_console_value
    mov     x1, x16
    b       fast_console_value
    mov     x1, x17
    b       fast_console_value
    mov     x1, x18
    b       fast_console_value
    mov     x1, x19
    b       fast_console_value
    mov     x1, x20
    b       fast_console_value
    mov     x1, x21
    b       fast_console_value
    mov     x1, x22
    b       fast_console_value
    mov     x1, x23
    b       fast_console_value
    mov     x1, x24
    b       fast_console_value
    mov     x1, x25
    b       fast_console_value
    mov     x1, x26
    b       fast_console_value
    mov     x1, x27
    b       fast_console_value
    mov     x1, x28
    b       fast_console_value
    mov     x1, x29
    b       fast_console_value
    mov     x1, x30
    b       fast_console_value
    mov     x1, xzr                     // x31: xzr
    b       fast_console_value
fast_console_value:
    and     w1, w1, #0xff
    cmp     w1, #0x0a
    b.eq    fast_console_miss
    ldr     w3, [x0, #CF_TAIL]
    add     x2, x0, #CF_HEAD
    ldar    w2, [x2]                    // what the model took (acquire: its reads of the ring are done)
    sub     w2, w3, w2
    cmp     w2, #{STAGE}
    b.hs    fast_console_miss           // full
    and     w2, w3, #({STAGE} - 1)
    add     x2, x2, x0
    strb    w1, [x2, #CF_BYTES]
    add     w3, w3, #1
    add     x2, x0, #CF_TAIL
    stlr    w3, [x2]                    // release: the byte before the index
    str     wzr, [x0, #CF_FLAG_READS]
    ldr     x1, [x0, #CF_COUNT]
    add     x1, x1, #1
    str     x1, [x0, #CF_COUNT]
fast_console_done:                      // step over the access, reload x0..x3, return
    mrs     x0, elr_el2
    add     x0, x0, #4
    msr     elr_el2, x0
    ldp     x0, x1, [sp, #0]
    ldp     x2, x3, [sp, #16]
    add     sp, sp, #{FRAME_SIZE}
    eret
