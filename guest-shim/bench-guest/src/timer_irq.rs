//! The timer-interrupt latency benchmark: from the virtual timer's deadline to the first
//! instruction of the guest's IRQ vector, with the guest's own GICv3 programmed as a partition
//! (or a bare-metal OS) would.

use crate::stats::Stats;

/// The virtual timer's interrupt (PPI 11 = INTID 27).
const VTIMER_INTID: u32 = 27;
/// GICD_CTLR: EnableGrp1 [1], ARE [4].
const GICD_CTLR_GRP1_ARE: u32 = (1 << 1) | (1 << 4);
/// GICR_WAKER (RD_base + 0x14): ProcessorSleep [1], ChildrenAsleep [2].
const GICR_WAKER: usize = 0x14;
/// SGI_base frame of the redistributor.
const SGI_BASE: usize = 0x1_0000;
const GICR_IGROUPR0: usize = SGI_BASE + 0x80;
const GICR_ISENABLER0: usize = SGI_BASE + 0x100;
const GICR_IPRIORITYR: usize = SGI_BASE + 0x400;
/// How far ahead each deadline is set (ticks).
const DELAY: u64 = 2000;

fn write32(addr: usize, value: u32) {
    // SAFETY: an address of this partition's own GIC (from its boot arguments); a plain store
    // the hypervisor can emulate (or, bare, the hardware takes).
    unsafe { guest_shim::mmio::write32(addr, value) }
}

fn read32(addr: usize) -> u32 {
    // SAFETY: as for `write32`, a plain load without side effects.
    unsafe { guest_shim::mmio::read32(addr) }
}

/// Enables group-1 interrupts and the virtual timer's PPI on this CPU's redistributor (the
/// first frame: vCPU 0), and the system register CPU interface.
pub fn init_gic(distributor: usize, redistributor: usize) {
    write32(redistributor + GICR_WAKER, 0);
    while read32(redistributor + GICR_WAKER) & (1 << 2) != 0 {}
    write32(redistributor + GICR_IGROUPR0, u32::MAX);
    // One byte per INTID, written as the aligned word that holds it (the other three PPIs of
    // the word stay disabled): a 32-bit store at a byte offset is an alignment fault on a
    // real GIC, as QEMU's bare-metal run shows.
    let priority_word = GICR_IPRIORITYR + (VTIMER_INTID as usize & !3);
    write32(
        redistributor + priority_word,
        0xa0 << (8 * (VTIMER_INTID % 4)),
    );
    write32(redistributor + GICR_ISENABLER0, 1 << VTIMER_INTID);
    write32(distributor, GICD_CTLR_GRP1_ARE);
    // SAFETY: enables the system register interface, lets every priority through and enables
    // group 1 at this CPU's interface: the guest's own (virtual) CPU interface.
    unsafe {
        core::arch::asm!(
            "mrs {t}, S3_0_C12_C12_5", // ICC_SRE_EL1
            "orr {t}, {t}, #1",
            "msr S3_0_C12_C12_5, {t}",
            "isb",
            "mov {t}, #0xff",
            "msr S3_0_C4_C6_0, {t}", // ICC_PMR_EL1
            "mov {t}, #1",
            "msr S3_0_C12_C12_7, {t}", // ICC_IGRPEN1_EL1
            "isb",
            t = out(reg) _,
            options(nostack),
        );
    }
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
