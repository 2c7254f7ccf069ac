//! The doorbell round trip (`doorbell=ring` and `doorbell=answer`): partition A reads the
//! counter and rings B; B's IRQ vector rings A back; the first instruction of A's IRQ vector
//! reads the counter again. Both wait in `wfi`, never spinning: under `-icount` QEMU runs the
//! CPUs round-robin on one thread, so a spinning CPU would be counted.
//!
//! Under Bulkhead, A and B are two partitions on CPUs 0 and 1 and ring each other with
//! BULKHEAD_DOORBELL_RING on their doorbell 0 (whose INTID BULKHEAD_DOORBELL_INFO gives).
//! Bare, only A's image runs: it finds no Bulkhead, starts its second CPU as B with PSCI
//! CPU_ON, and the two ring each other with SGI 1 (ICC_SGI1R_EL1), the baseline.
//!
//! The handshake: B rings once when it is ready; A makes [`WARMUP`] untimed round trips, the
//! timed ones and [`WARMUP`] untimed ones again, so B's way into its answering loop and out of
//! it (its report, its power-off) land in no sample.
//!
//! Every handler is entered from the IRQ vector with the counter in x9 (entry.rs) and
//! acknowledges into x10; the waiting code puts the handler in x12 and declares x0..x3 and
//! x9..x14 clobbered.

use core::fmt::Write;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use guest_shim::boot_info::{parse_u64, BootInfo};
use guest_shim::bulkhead::{self, Bulkhead};
use guest_shim::console::Pl011;
use guest_shim::gic::{self, GicV3, REDISTRIBUTOR_STRIDE};
use guest_shim::{psci, smccc};

use crate::stats::Stats;

/// BULKHEAD_DOORBELL_RING, as the handlers load it.
const RING: u64 = bulkhead::DOORBELL_RING as u64;
/// The SGI the bare baseline rings with.
const BARE_SGI: u32 = 1;
/// The doorbell's priority.
const PRIORITY: u8 = 0xa0;
/// Untimed round trips before and after the timed ones: B's first answer also runs its way
/// from its "ready" ring into its `wfi` loop, its last one its way out.
const WARMUP: u64 = 1;
/// The rings B answers for A's `rounds` timed round trips.
const fn answers(rounds: u64) -> u64 {
    rounds + 2 * WARMUP
}

// The handlers: A's acknowledges and returns to x11; B's ring back (hypercall or SGI) before
// ending the interrupt, count in x13 and return to their `wfi` loop.
core::arch::global_asm!(
    ".section .text.bench_doorbell, \"ax\"",
    ".balign 4",
    ".global bench_doorbell_irq",
    "bench_doorbell_irq:",
    "    mrs x10, S3_0_C12_C12_0", // ICC_IAR1_EL1
    "    msr S3_0_C12_C12_1, x10", // ICC_EOIR1_EL1
    "    msr elr_el1, x11",
    "    eret",
    ".global bench_answer_hvc_irq",
    "bench_answer_hvc_irq:",
    "    mrs x10, S3_0_C12_C12_0",
    "    mov x0, x14", // BULKHEAD_DOORBELL_RING
    "    mov x1, #0",  // doorbell 0
    "    hvc #0",
    "    msr S3_0_C12_C12_1, x10",
    "    add x13, x13, #1",
    "    eret",
    ".global bench_answer_sgi_irq",
    "bench_answer_sgi_irq:",
    "    mrs x10, S3_0_C12_C12_0",
    "    msr S3_0_C12_C11_5, x14", // ICC_SGI1R_EL1: SGI 1 to CPU 0
    "    msr S3_0_C12_C12_1, x10",
    "    add x13, x13, #1",
    "    eret",
    // The bare baseline's second CPU (PSCI CPU_ON): vectors, its own stack, then Rust.
    ".global bench_secondary_entry",
    "bench_secondary_entry:",
    "    adrp x2, bench_vectors",
    "    add x2, x2, :lo12:bench_vectors",
    "    msr vbar_el1, x2",
    "    isb",
    "    adrp x2, __stack2_top",
    "    add x2, x2, :lo12:__stack2_top",
    "    mov sp, x2",
    "    bl bench_secondary_main",
    "1:  wfi",
    "    b 1b",
);

extern "C" {
    fn bench_secondary_entry();
}

/// How one side rings the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bell {
    /// BULKHEAD_DOORBELL_RING on doorbell 0.
    Hypercall,
    /// SGI [`BARE_SGI`] to the CPU with this Aff0 (the bare baseline).
    Sgi(u8),
}

/// The bare baseline's plan for its second CPU: the redistributor base and the rings to
/// answer (set before CPU_ON, read once by the second CPU).
static BARE_GICR: AtomicUsize = AtomicUsize::new(0);
static BARE_ROUNDS: AtomicU64 = AtomicU64::new(0);

/// The distributor and redistributor-region base of `gic=<GICD>,<GICR>`.
fn gic_frames(info: &BootInfo<'_>) -> Option<(usize, usize)> {
    let (distributor, redistributors) = info.arg("gic")?.split_once(',')?;
    Some((
        parse_u64(distributor)? as usize,
        parse_u64(redistributors)? as usize,
    ))
}

/// Sets up the GIC for this CPU (redistributor `index` of the region at `redistributors`)
/// to take `intid` at [`PRIORITY`], routed to itself.
fn init_gic(distributor: usize, redistributors: usize, index: usize, intid: u32) {
    // SAFETY: the boot arguments name this partition's (or machine's) GIC; this CPU uses only
    // its own redistributor and the doorbell's configuration.
    let gic = unsafe { GicV3::new(distributor, redistributors + index * REDISTRIBUTOR_STRIDE) };
    gic.enable_distributor();
    gic.wake_redistributor();
    gic.configure(intid, PRIORITY, 0);
    gic.set_enabled(intid, true);
    gic::enable_cpu_interface();
}

/// Waits in `wfi` for one interrupt; returns its INTID.
#[allow(named_asm_labels)]
fn wait() -> u64 {
    let intid: u64;
    // SAFETY: IRQs are unmasked only around the `wfi` loop; the vector and
    // `bench_doorbell_irq` clobber x9..x12 (declared) and return to the label after it.
    unsafe {
        core::arch::asm!(
            "adr x12, bench_doorbell_irq",
            "adr x11, 2f",
            "msr daifclr, #2",
            "1: wfi",
            "b 1b",
            "2: msr daifset, #2",
            out("x9") _, out("x10") intid, out("x11") _, out("x12") _,
            options(nostack),
        );
    }
    intid & 0xff_ffff
}

/// One round trip: (counter before ringing, counter at the IRQ vector's first instruction, the
/// acknowledged INTID).
fn round_trip(bell: Bell) -> (u64, u64, u64) {
    let (t0, t1, intid): (u64, u64, u64);
    match bell {
        // SAFETY: BULKHEAD_DOORBELL_RING changes x0..x3 only (x4..x17 are preserved); the
        // vector and `bench_doorbell_irq` clobber x9..x12; IRQs are unmasked only around the
        // `wfi` loop. All declared.
        Bell::Hypercall => unsafe {
            core::arch::asm!(
                "adr x12, bench_doorbell_irq",
                "adr x11, 2f",
                "isb",
                "mrs {t0}, cntvct_el0",
                "hvc #0",
                "msr daifclr, #2",
                "1: wfi",
                "b 1b",
                "2: msr daifset, #2",
                t0 = out(reg) t0,
                inout("x0") RING => _, inout("x1") 0u64 => _,
                lateout("x2") _, lateout("x3") _,
                out("x9") t1, out("x10") intid, out("x11") _, out("x12") _,
                options(nostack),
            );
        },
        // SAFETY: as above, with an SGI instead of the hypercall.
        Bell::Sgi(target) => unsafe {
            core::arch::asm!(
                "adr x12, bench_doorbell_irq",
                "adr x11, 2f",
                "isb",
                "mrs {t0}, cntvct_el0",
                "msr S3_0_C12_C11_5, {sgi}",
                "msr daifclr, #2",
                "1: wfi",
                "b 1b",
                "2: msr daifset, #2",
                t0 = out(reg) t0,
                sgi = in(reg) gic::sgi_value(BARE_SGI, target),
                out("x9") t1, out("x10") intid, out("x11") _, out("x12") _,
                options(nostack),
            );
        },
    }
    (t0, t1, intid & 0xff_ffff)
}

/// Answers `rounds` rings, each from the IRQ vector, ringing back with `bell`.
fn answer(bell: Bell, rounds: u64) {
    let (handler, argument) = match bell {
        Bell::Hypercall => (bench_answer_hvc_irq as *const () as usize, RING),
        Bell::Sgi(target) => (
            bench_answer_sgi_irq as *const () as usize,
            gic::sgi_value(BARE_SGI, target),
        ),
    };
    // SAFETY: IRQs are unmasked only around the `wfi` loop; the vector and the handler clobber
    // x0..x3 (the hypercall), x9, x10 and x13 (the count), read x12 (the handler) and x14 (the
    // ring's function ID or SGI value). All declared.
    unsafe {
        core::arch::asm!(
            "mov x13, #0",
            "msr daifclr, #2",
            "1: wfi",
            "cmp x13, {rounds}",
            "b.lo 1b",
            "msr daifset, #2",
            rounds = in(reg) rounds,
            in("x12") handler, in("x14") argument,
            out("x0") _, out("x1") _, out("x2") _, out("x3") _,
            out("x9") _, out("x10") _, out("x13") _,
            options(nostack),
        );
    }
}

extern "C" {
    fn bench_answer_hvc_irq();
    fn bench_answer_sgi_irq();
}

/// Partition A: `rounds` timed round trips; prints `HIL:BENCH doorbell-round-trip ...` with
/// the INTID its vector acknowledged as the value.
pub fn ring(out: &mut Pl011, info: &BootInfo<'_>, rounds: u64) {
    let Some((distributor, redistributors)) = gic_frames(info) else {
        let _ = writeln!(out, "HIL:BENCH error doorbell needs gic=<GICD>,<GICR>");
        return;
    };
    let bell = match bulkhead::detect() {
        Some(hv) => {
            let Some(intid) = doorbell_intid(out, &hv) else {
                return;
            };
            init_gic(distributor, redistributors, 0, intid);
            Bell::Hypercall
        }
        None => {
            init_gic(distributor, redistributors, 0, BARE_SGI);
            BARE_GICR.store(redistributors, Ordering::Relaxed);
            BARE_ROUNDS.store(answers(rounds), Ordering::Relaxed);
            let entry = bench_secondary_entry as *const () as usize as u64;
            let started = smccc::call(psci::CPU_ON_64, [1, entry, 0, 0, 0, 0])[0];
            if started != 0 {
                let _ = writeln!(out, "HIL:BENCH error CPU_ON {started:#x}");
                return;
            }
            Bell::Sgi(1)
        }
    };
    // B rings once when it is ready.
    wait();
    for _ in 0..WARMUP {
        round_trip(bell);
    }
    let mut stats = Stats::new();
    let mut last = 0;
    for _ in 0..rounds {
        let (t0, t1, intid) = round_trip(bell);
        stats.add(t1.wrapping_sub(t0));
        last = intid;
    }
    for _ in 0..WARMUP {
        round_trip(bell);
    }
    let _ = writeln!(out, "HIL:BENCH doorbell-round-trip {stats} value={last:#x}");
}

/// Partition B under Bulkhead: rings A once ready, answers A's rings (warm-up ones included),
/// reports and stops.
pub fn answer_partition(out: &mut Pl011, info: &BootInfo<'_>, rounds: u64) -> ! {
    if let (Some((distributor, redistributors)), Some(hv)) = (gic_frames(info), bulkhead::detect())
    {
        if let Some(intid) = doorbell_intid(out, &hv) {
            init_gic(distributor, redistributors, 0, intid);
            let _ = hv.doorbell_ring(0);
            answer(Bell::Hypercall, answers(rounds));
            let _ = writeln!(out, "HIL:BENCH doorbell-answer rings={rounds}");
        }
    }
    psci::system_off()
}

/// Doorbell 0's INTID, from BULKHEAD_DOORBELL_INFO.
fn doorbell_intid(out: &mut Pl011, hv: &Bulkhead) -> Option<u32> {
    match hv.doorbell_info(0) {
        Ok(doorbell) => Some(doorbell.intid),
        Err(error) => {
            let _ = writeln!(out, "HIL:BENCH error doorbell-info {error:?}");
            None
        }
    }
}

/// The bare baseline's second CPU: its redistributor, a ring to say it is ready, the answers,
/// then PSCI CPU_OFF. It prints nothing: both CPUs share one UART.
#[no_mangle]
extern "C" fn bench_secondary_main() -> ! {
    let redistributors = BARE_GICR.load(Ordering::Relaxed);
    // SAFETY: CPU 1's redistributor in the machine's GIC; the distributor is CPU 0's to drive.
    let gic = unsafe { GicV3::new(0, redistributors + REDISTRIBUTOR_STRIDE) };
    gic.wake_redistributor();
    gic.configure(BARE_SGI, PRIORITY, 0);
    gic.set_enabled(BARE_SGI, true);
    gic::enable_cpu_interface();
    gic::send_sgi(BARE_SGI, 0);
    answer(Bell::Sgi(0), BARE_ROUNDS.load(Ordering::Relaxed));
    smccc::call(psci::CPU_OFF, [0; 6]);
    loop {
        core::hint::spin_loop();
    }
}
