// memcpy and memset for the hypervisor, in place of compiler_builtins' (whose word loop moves 8
// bytes in 4 instructions and whose differently-aligned path takes 20 per 8 bytes): 64 bytes
// per 10 instructions with ldp/stp. Boot moves its built system, the vGIC's distributors and the
// parsed configuration through them (reset to the first guest instruction: 188,012 -> 149,228
// instructions), and so does every struct move on the trap path.
//
// They run before the MMU is on too, where all memory is Device memory and an unaligned access
// faults (the Raspberry Pi 4 faults; QEMU does not check): the wide loops start only once the
// destination is 8-byte aligned with a source of the same alignment, or once SCTLR_EL2.M says
// memory is Normal (SCTLR_EL2.A is 0, so unaligned Normal accesses are allowed). Anything
// else goes byte by byte. They use x0..x11 only (caller-saved), no stack.

.text
// memcpy(x0 = dst, x1 = src, x2 = n) -> x0 = dst. The ranges do not overlap.
.global memcpy
.type memcpy, %function
memcpy:
    mov     x3, x0
    cmp     x2, #16
    b.lo    9f                          // short: bytes
    eor     x4, x0, x1
    tst     x4, #7
    b.eq    1f                          // co-aligned: align both, then the wide loop
    mrs     x4, sctlr_el2
    tbz     x4, #0, 9f                  // differently aligned, MMU off: bytes
    b       2f                          // MMU on: unaligned source loads are fine
1:  tst     x3, #7
    b.eq    2f
    ldrb    w4, [x1], #1
    strb    w4, [x3], #1
    sub     x2, x2, #1                  // n >= 16 and at most 7 bytes here: stays above 8
    b       1b
2:  subs    x2, x2, #64                 // x2 = what is left - 64
    b.lo    4f
3:  ldp     x4, x5, [x1], #16
    ldp     x6, x7, [x1], #16
    ldp     x8, x9, [x1], #16
    ldp     x10, x11, [x1], #16
    stp     x4, x5, [x3], #16
    stp     x6, x7, [x3], #16
    stp     x8, x9, [x3], #16
    stp     x10, x11, [x3], #16
    subs    x2, x2, #64
    b.hs    3b
4:  adds    x2, x2, #(64 - 8)           // x2 = what is left - 8
    b.lo    6f
5:  ldr     x4, [x1], #8
    str     x4, [x3], #8
    subs    x2, x2, #8
    b.hs    5b
6:  add     x2, x2, #8                  // what is left: 0..7
9:  cbz     x2, 8f
7:  ldrb    w4, [x1], #1
    strb    w4, [x3], #1
    subs    x2, x2, #1
    b.ne    7b
8:  ret
.size memcpy, . - memcpy

// memset(x0 = dst, w1 = byte, x2 = n) -> x0 = dst.
.global memset
.type memset, %function
memset:
    mov     x3, x0
    and     x4, x1, #0xff
    orr     x4, x4, x4, lsl #8
    orr     x4, x4, x4, lsl #16
    orr     x4, x4, x4, lsl #32
    cmp     x2, #16
    b.lo    9f
1:  tst     x3, #7
    b.eq    2f
    strb    w4, [x3], #1
    sub     x2, x2, #1
    b       1b
2:  subs    x2, x2, #64
    b.lo    4f
3:  stp     x4, x4, [x3], #16
    stp     x4, x4, [x3], #16
    stp     x4, x4, [x3], #16
    stp     x4, x4, [x3], #16
    subs    x2, x2, #64
    b.hs    3b
4:  adds    x2, x2, #(64 - 8)
    b.lo    6f
5:  str     x4, [x3], #8
    subs    x2, x2, #8
    b.hs    5b
6:  add     x2, x2, #8
9:  cbz     x2, 8f
7:  strb    w4, [x3], #1
    subs    x2, x2, #1
    b.ne    7b
8:  ret
.size memset, . - memset
