//! `cpu-cycles=N`: switch vCPU 1 on (PSCI CPU_ON) and let it switch itself off (CPU_OFF) N
//! times, and read the EL2 stack high-water mark of its CPU after the first 100 cycles and after
//! the last (scenario `cpu_on_off_cycles`: the two must be equal). Before that it checks that an
//! `hvc`/`smc` with a non-zero immediate gets NOT_SUPPORTED.
//!
//! `then=last-cpu-off` (see main.rs) ends with both vCPUs switching themselves off, vCPU 0
//! first; `then=overflow-el2-stack` asks a test-hooks hypervisor to overflow its EL2 stack.

use core::fmt::Write;
use core::sync::atomic::{AtomicU64, Ordering};

use guest_shim::boot_info::parse_u64;
use guest_shim::console::Pl011;
use guest_shim::{bulkhead, psci, smccc};

/// The cycle after which the first high-water mark is read: by then every path of a cycle has
/// run (the first entry comes from the CPU's start, the second from the reset stack).
const WARM_UP: u64 = 100;
/// AFFINITY_INFO's answer for a vCPU that is off.
const AFFINITY_OFF: u64 = 1;

/// How many times vCPU 1 ran (it adds one at each entry, with its MMU and caches off, as
/// vCPU 0 reads it).
#[no_mangle]
static SECONDARY_RUNS: AtomicU64 = AtomicU64::new(0);

core::arch::global_asm!(
    ".section .text",
    // vCPU 1: count the run, then CPU_OFF. No stack needed.
    ".global cycle_secondary",
    "cycle_secondary:",
    "    adrp x1, SECONDARY_RUNS",
    "    add x1, x1, :lo12:SECONDARY_RUNS",
    "    ldr x2, [x1]",
    "    add x2, x2, #1",
    "    str x2, [x1]",
    "    dsb sy",
    "    movz w0, #0x0002",
    "    movk w0, #0x8400, lsl #16",
    "    hvc #0",
    "1:  b 1b",
    // vCPU 1 for `then=last-cpu-off`: wait until vCPU 0 is off, then switch itself off.
    ".global last_secondary",
    "last_secondary:",
    "2:  movz w0, #0x0004",
    "    movk w0, #0x8400, lsl #16",
    "    mov x1, #0",
    "    mov x2, #0",
    "    hvc #0",
    "    cmp x0, #1",
    "    b.ne 2b",
    "    movz w0, #0x0002",
    "    movk w0, #0x8400, lsl #16",
    "    hvc #0",
    "3:  b 3b",
);

extern "C" {
    fn cycle_secondary();
    fn last_secondary();
}

fn affinity_info(target: u64) -> u64 {
    smccc::call(psci::AFFINITY_INFO, [target, 0, 0, 0, 0, 0])[0]
}

fn cpu_on(target: u64, entry: u64, context: u64) -> u64 {
    smccc::call(psci::CPU_ON_64, [target, entry, context, 0, 0, 0])[0]
}

/// PSCI_VERSION through `hvc #1` / `smc #1`: must be NOT_SUPPORTED (SMCCC uses immediate 0).
fn nonzero_immediates(out: &mut Pl011) {
    let mut hvc: u64 = u64::from(psci::PSCI_VERSION);
    let mut smc: u64 = u64::from(psci::PSCI_VERSION);
    // SAFETY: a hypervisor call with immediate 1; it returns to the next instruction, with
    // x1..x3 (results) and x4..x17 (SMCCC 1.0) possibly changed.
    unsafe {
        core::arch::asm!("hvc #1", inout("x0") hvc,
            lateout("x1") _, lateout("x2") _, lateout("x3") _, lateout("x4") _, lateout("x5") _,
            lateout("x6") _, lateout("x7") _, lateout("x8") _, lateout("x9") _, lateout("x10") _,
            lateout("x11") _, lateout("x12") _, lateout("x13") _, lateout("x14") _,
            lateout("x15") _, lateout("x16") _, lateout("x17") _, options(nostack))
    };
    // SAFETY: a trapped SMC with immediate 1; the hypervisor steps over it (clobbers as above).
    unsafe {
        core::arch::asm!("smc #1", inout("x0") smc,
            lateout("x1") _, lateout("x2") _, lateout("x3") _, lateout("x4") _, lateout("x5") _,
            lateout("x6") _, lateout("x7") _, lateout("x8") _, lateout("x9") _, lateout("x10") _,
            lateout("x11") _, lateout("x12") _, lateout("x13") _, lateout("x14") _,
            lateout("x15") _, lateout("x16") _, lateout("x17") _, options(nostack))
    };
    for (what, x0) in [("hvc", hvc), ("smc", smc)] {
        let ok = smccc::SmcccError::from_w0(x0) == Some(smccc::SmcccError::NotSupported);
        let verdict = if ok { "PASS" } else { "FAIL" };
        let _ = writeln!(out, "HIL:TEST {what}-imm1 {verdict} x0={x0:#x}");
    }
}

/// The high-water mark of vCPU 1's EL2 stack, or `u64::MAX` if the call failed.
fn high_water(hv: Option<&bulkhead::Bulkhead>) -> (u64, u64) {
    hv.and_then(|hv| hv.stack_high_water(1).ok())
        .unwrap_or((u64::MAX, 0))
}

/// One cycle: vCPU 1 on, and wait until it is off again. `false` if CPU_ON was refused.
fn cycle(out: &mut Pl011, n: u64) -> bool {
    let result = cpu_on(1, cycle_secondary as *const () as u64, n);
    if result != 0 {
        let _ = writeln!(
            out,
            "HIL:CYCLES FAIL cycle {n}: CPU_ON returned {result:#x}"
        );
        return false;
    }
    while affinity_info(1) != AFFINITY_OFF {
        core::hint::spin_loop();
    }
    true
}

/// Runs the cycles and reports.
pub fn run(out: &mut Pl011, cycles: &str) {
    nonzero_immediates(out);
    let cycles = parse_u64(cycles).unwrap_or(0);
    let hv = bulkhead::detect();
    let _ = writeln!(
        out,
        "HIL:CYCLES start cycles={cycles} bulkhead={}",
        hv.is_some()
    );
    let mut first = (u64::MAX, 0);
    let mut done = 0;
    while done < cycles {
        if !cycle(out, done) {
            break;
        }
        done += 1;
        if done == WARM_UP {
            first = high_water(hv.as_ref());
        }
        if done % 1000 == 0 {
            let _ = writeln!(out, "HIL:CYCLES progress {done}");
        }
    }
    let last = high_water(hv.as_ref());
    let runs = SECONDARY_RUNS.load(Ordering::Acquire);
    let _ = writeln!(
        out,
        "HIL:CYCLES done cycles={done} runs={runs} high-water-first={} high-water-last={} stack-size={}",
        first.0, last.0, last.1
    );
}

/// `then=last-cpu-off`: vCPU 1 waits for vCPU 0 to be off, then switches itself off: the
/// partition's last vCPU is off and the hypervisor must stop the partition.
pub fn last_cpu_off(out: &mut Pl011) -> ! {
    let result = cpu_on(1, last_secondary as *const () as u64, 0);
    let _ = writeln!(
        out,
        "HIL:GUEST cpu-off vcpu=0 (vCPU 1 on: {result:#x}, off last)"
    );
    smccc::call(psci::CPU_OFF, [0; 6]);
    let _ = writeln!(out, "HIL:GUEST FAIL CPU_OFF returned");
    loop {
        core::hint::spin_loop();
    }
}

/// `then=overflow-el2-stack`: asks the hypervisor to overflow its EL2 stack (test-hooks builds).
pub fn overflow_el2_stack(out: &mut Pl011) -> ! {
    let _ = writeln!(out, "HIL:GUEST overflowing the EL2 stack");
    let x0 = smccc::call(bulkhead::TEST_OVERFLOW_EL2_STACK, [0; 6])[0];
    let _ = writeln!(out, "HIL:GUEST FAIL the hypervisor survived: x0={x0:#x}");
    loop {
        core::hint::spin_loop();
    }
}
