//! The timer-interrupt latency benchmark: from the virtual timer's deadline to the first
//! instruction of the guest's IRQ vector, with the guest's own GICv3 programmed as a partition
//! (or a bare-metal OS) would.

use guest_shim::gic::{self, GicV3};

use crate::stats::Stats;

/// The virtual timer's interrupt (PPI 11 = INTID 27).
const VTIMER_INTID: u32 = 27;
/// How far ahead each deadline is set (ticks).
const DELAY: u64 = 2000;

/// Enables group-1 interrupts and the virtual timer's PPI on this CPU's redistributor (the
/// first frame: vCPU 0), and the system register CPU interface.
pub fn init_gic(distributor: usize, redistributor: usize) {
    // SAFETY: both frames come from this partition's boot arguments (its own GIC), and the
    // guest owns the virtual timer's PPI it configures.
    let gic = unsafe { GicV3::new(distributor, redistributor) };
    gic.wake_redistributor();
    gic.configure(VTIMER_INTID, 0xa0, 0);
    gic.set_enabled(VTIMER_INTID, true);
    gic.enable_distributor();
    gic::enable_cpu_interface();
}

// The IRQ handler `once` installs (the vector read the counter into x9 and jumped here):
// acknowledge, stop the timer, end the interrupt, return to `bench_timer_return`.
core::arch::global_asm!(
    ".section .text.bench_timer_irq, \"ax\"",
    ".balign 4",
    ".global bench_timer_irq",
    "bench_timer_irq:",
    "    mrs x10, S3_0_C12_C12_0", // ICC_IAR1_EL1
    "    msr cntv_ctl_el0, xzr",
    "    msr S3_0_C12_C12_1, x10", // ICC_EOIR1_EL1
    "    adr x11, bench_timer_return",
    "    msr elr_el1, x11",
    "    eret",
);

/// One interrupt: arms the timer `DELAY` ticks ahead, spins with IRQs unmasked, and returns
/// (deadline, counter at the vector's first instruction, the acknowledged INTID).
// The vector returns to a label defined here; `inline(never)` keeps it unique.
#[allow(named_asm_labels)]
#[inline(never)]
fn once() -> (u64, u64, u64) {
    let (deadline, arrival, iar): (u64, u64, u64);
    // SAFETY: the IRQ vector (entry.rs) reads the counter into x9 and jumps to x12,
    // `bench_timer_irq`, which acknowledges into x10, stops the timer, ends the interrupt and
    // returns to `bench_timer_return`; all of that is declared here. This function is never
    // inlined, so the label is defined once.
    unsafe {
        core::arch::asm!(
            "adr x12, bench_timer_irq",
            "mrs {now}, cntvct_el0",
            "add {cval}, {now}, {delay}",
            "msr cntv_cval_el0, {cval}",
            "mov {now}, #1",
            "msr cntv_ctl_el0, {now}",
            "isb",
            "msr daifclr, #2",
            "1: b 1b",
            ".global bench_timer_return",
            "bench_timer_return:",
            "msr daifset, #2",
            now = out(reg) _,
            cval = out(reg) deadline,
            delay = in(reg) DELAY,
            out("x9") arrival,
            out("x10") iar,
            out("x11") _,
            out("x12") _,
            options(nostack),
        );
    }
    (deadline, arrival, iar)
}

/// Runs `iterations` interrupts; the latency of each is arrival minus deadline.
pub fn measure(iterations: u64) -> (Stats, u64) {
    let mut stats = Stats::new();
    let mut intid = 0;
    for _ in 0..iterations {
        let (deadline, arrival, iar) = once();
        stats.add(arrival.saturating_sub(deadline));
        intid = iar & 0xff_ffff;
    }
    (stats, intid)
}
