//! The first instructions (boot counter, stack, .bss) and the EL1 exception vectors.

use core::fmt::Write;

use guest_shim::console::Pl011;
use guest_shim::psci;

core::arch::global_asm!(
    ".section .text.entry, \"ax\"",
    ".global _start",
    "_start:",
    // First the counter: under -icount shift=0 it is the number of instructions since reset.
    "    mrs x1, cntvct_el0",
    "    mov x19, x0",
    "    mov x20, x1",
    "    adrp x2, bench_vectors",
    "    add x2, x2, :lo12:bench_vectors",
    "    msr vbar_el1, x2",
    "    isb",
    "    adrp x2, __stack_top",
    "    add x2, x2, :lo12:__stack_top",
    "    mov sp, x2",
    "    adrp x2, __bss_start",
    "    add x2, x2, :lo12:__bss_start",
    "    adrp x3, __bss_end",
    "    add x3, x3, :lo12:__bss_end",
    "1:  cmp x2, x3",
    "    b.hs 2f",
    "    str xzr, [x2], #8",
    "    b 1b",
    "2:  mov x0, x19",
    "    mov x1, x20",
    "    bl bench_main",
    "3:  wfi",
    "    b 3b",
    // Every EL1 exception is a failed benchmark (e.g. an HVC that bare QEMU does not answer):
    // report it and power off instead of hanging.
    ".section .text.vectors, \"ax\"",
    ".balign 2048",
    ".global bench_vectors",
    "bench_vectors:",
    // Current EL with SP_EL0 (0x000..0x180) and SP_ELx synchronous (0x200).
    ".rept 5",
    "    .balign 128",
    "    mrs x0, esr_el1",
    "    mrs x1, elr_el1",
    "    mrs x2, far_el1",
    "    b bench_exception",
    ".endr",
    // Current EL with SP_ELx, IRQ (0x280): the interrupt benchmarks. Its first instruction
    // reads the counter into x9; then it jumps to the handler the waiting code put in x12
    // (`timer_irq::once`, the `doorbell` waits), which declares x9..x12 clobbered.
    "    .balign 128",
    "    mrs x9, cntvct_el0",
    "    br x12",
    // FIQ, SError and every lower-EL vector: a failed benchmark.
    ".rept 10",
    "    .balign 128",
    "    mrs x0, esr_el1",
    "    mrs x1, elr_el1",
    "    mrs x2, far_el1",
    "    b bench_exception",
    ".endr",
);

/// The base of the console PL011 the exception report is written to (set by `bench_main`).
pub static CONSOLE: core::sync::atomic::AtomicUsize =
    core::sync::atomic::AtomicUsize::new(0x0900_0000);

#[no_mangle]
extern "C" fn bench_exception(esr: u64, elr: u64, far: u64) -> ! {
    let base = CONSOLE.load(core::sync::atomic::Ordering::Relaxed);
    // SAFETY: the console of our device tree (or QEMU virt's UART); we are going down anyway.
    let mut out = unsafe { Pl011::new(base) };
    let _ = writeln!(
        out,
        "HIL:BENCH error exception esr={esr:#x} elr={elr:#x} far={far:#x}"
    );
    psci::system_off()
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let base = CONSOLE.load(core::sync::atomic::Ordering::Relaxed);
    // SAFETY: as in `bench_exception`.
    let mut out = unsafe { Pl011::new(base) };
    let _ = writeln!(out, "HIL:BENCH error panic {info}");
    psci::system_off()
}
