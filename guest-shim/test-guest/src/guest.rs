//! The test guest proper (bare-metal target only).

use core::fmt::Write;

use guest_shim::boot_info::{parse_u64, BootInfo};
use guest_shim::console::Pl011;
use guest_shim::smccc::{self, SmcccError};
use guest_shim::{psci, timer};

core::arch::global_asm!(
    ".section .text.entry, \"ax\"",
    ".global _start",
    "_start:",
    // The boot counter first: with -icount shift=0 it counts instructions since reset.
    "    mrs x1, cntvct_el0",
    "    mov x19, x0",
    "    mov x20, x1",
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
    "    bl guest_main",
    "3:  wfi",
    "    b 3b",
);

const TEST_RESERVED_ID: u32 = 0x8001_0000 | (1 << 20);
const TEST_YIELDING_ID: u32 = 0x0400_0000;
const TEST_UNKNOWN_IDS: [u32; 3] = [0x8600_ff00, 0xc500_0001, 0xb000_0000];

/// Counts and prints `HIL:TEST` results.
pub(crate) struct Checks<'a> {
    pub(crate) out: &'a mut Pl011,
    pub(crate) passed: u32,
    pub(crate) failed: u32,
}

impl Checks<'_> {
    /// Records one result and prints `HIL:TEST <name> PASS|FAIL <detail>`.
    pub(crate) fn check(&mut self, name: &str, ok: bool, detail: core::fmt::Arguments<'_>) {
        let verdict = if ok { "PASS" } else { "FAIL" };
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
        let _ = writeln!(self.out, "HIL:TEST {name} {verdict} {detail}");
    }
}

fn run_checks(out: &mut Pl011) {
    let mut checks = Checks {
        out,
        passed: 0,
        failed: 0,
    };
    let version = smccc::version();
    checks.check(
        "smccc-version",
        matches!(version, Ok(v) if v >= smccc::Version { major: 1, minor: 1 }),
        format_args!("{version:?}"),
    );
    let features = smccc::arch_features(smccc::SMCCC_VERSION);
    checks.check(
        "smccc-arch-features",
        features == Ok(0),
        format_args!("{features:?}"),
    );
    let missing = smccc::arch_features(0x8000_8000);
    checks.check(
        "smccc-arch-features-unknown",
        missing == Err(SmcccError::NotSupported),
        format_args!("{missing:?}"),
    );
    let version = psci::version();
    checks.check(
        "psci-version",
        version.major >= 1,
        format_args!("{version}"),
    );
    let off = psci::features(psci::SYSTEM_OFF);
    checks.check(
        "psci-features-system-off",
        off == Ok(0),
        format_args!("{off:?}"),
    );
    for id in TEST_UNKNOWN_IDS {
        let x0 = smccc::call(id, [1, 2, 3, 4, 5, 6])[0];
        checks.check(
            "unknown-function-id",
            SmcccError::from_w0(x0) == Some(SmcccError::NotSupported),
            format_args!("{id:#010x} -> {x0:#x}"),
        );
    }
    for (name, id) in [
        ("reserved-bits", TEST_RESERVED_ID),
        ("yielding-call", TEST_YIELDING_ID),
    ] {
        let x0 = smccc::call(id, [0; 6])[0];
        checks.check(
            name,
            SmcccError::from_w0(x0) == Some(SmcccError::NotSupported),
            format_args!("{id:#010x} -> {x0:#x}"),
        );
    }
    let (passed, failed) = (checks.passed, checks.failed);
    let _ = writeln!(checks.out, "HIL:CHECKS passed={passed} failed={failed}");
}

#[no_mangle]
extern "C" fn guest_main(dtb: usize, boot_counter: u64) -> ! {
    // SAFETY: the boot protocol gives the device tree's address in x0; its header gives its size.
    let blob: &[u8] = unsafe {
        let header = core::slice::from_raw_parts(dtb as *const u8, 8);
        let size = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
        core::slice::from_raw_parts(dtb as *const u8, size.min(1 << 20))
    };
    let info = BootInfo::parse(blob).unwrap_or_default();
    // SAFETY: the console node of our own device tree is a PL011 mapped for us.
    let mut out = unsafe { Pl011::new(info.console.unwrap_or(0x0900_0000)) };
    let _ = writeln!(
        out,
        "HIL:GUEST start boot-counter={boot_counter} bootargs=\"{}\"",
        info.bootargs
    );

    if info.arg("checks") == Some("1") {
        run_checks(&mut out);
    }
    if let Some(addresses) = info.arg("attack") {
        crate::attack::run(&mut out, &info, addresses);
    }
    if info.arg("attacker") == Some("1") {
        crate::attacker::run(&mut out, &info);
    }
    if let Some(rounds) = info.arg("guard").and_then(parse_u64) {
        crate::guard::run(&mut out, &info, rounds);
    }
    if info.arg("abi") == Some("1") {
        crate::abi::run(&mut out, &info);
    }
    if let Some(role) = info.arg("doorbell") {
        crate::doorbell::run(&mut out, &info, role);
    }
    if let Some(role) = info.arg("ipc") {
        crate::ipc::run(&mut out, &info, role);
    }
    if let Some(address) = info.arg("virtio-attack") {
        crate::virtio_attack::run(&mut out, &info, address);
    }
    if let Some(size) = info.arg("pattern-guard").and_then(parse_u64) {
        crate::virtio_attack::guard_pattern(&mut out, &info, size);
    }
    if let Some(address) = info.arg("serial") {
        crate::serial_link::run(&mut out, &info, address);
    }
    if info.arg("console-rx") == Some("1") {
        crate::console_rx::run(&mut out, &info);
    }
    if info.arg("trng") == Some("1") {
        crate::trng_report::run(&mut out);
    }
    if let Some(role) = info.arg("mgmt") {
        crate::mgmt::run(&mut out, &info, role);
    }
    if let Some(cycles) = info.arg("cpu-cycles") {
        crate::cpu_cycles::run(&mut out, cycles);
    }
    if let Some(seconds) = info.arg("flood").and_then(parse_u64) {
        crate::console_modes::flood(&mut out, seconds * 1000);
    }
    if let Some(ms) = info.arg("flood-ms").and_then(parse_u64) {
        crate::console_modes::flood(&mut out, ms);
    }
    if info.arg("prompt") == Some("1") {
        let after = info.arg("prompt-after-ms").and_then(parse_u64).unwrap_or(0);
        crate::console_modes::prompt(&mut out, info.console.unwrap_or(0x0900_0000), after);
    }
    let beats = info.arg("heartbeat").and_then(parse_u64).unwrap_or(0);
    let period_us = info.arg("period-ms").and_then(parse_u64).unwrap_or(100) * 1000;
    let stamp = info.arg("stamp") == Some("1");
    // `sleep=1`: wait between beats in WFI on the virtual timer, as a real guest would, not
    // spinning on the counter (under -icount a spinning vCPU sets no deadline, so the others'
    // round-robin slices run on and its reading of the counter jumps by them).
    let sleep = info.arg("sleep") == Some("1");
    if sleep {
        let (gicd, gicr) = crate::sleep::gic_from_args(&info);
        crate::sleep::init(gicd, gicr);
    }
    let mut seq = 0u64;
    while beats == 0 || seq < beats {
        if stamp {
            let micros = timer::counter() * 1_000_000 / timer::frequency();
            let _ = writeln!(out, "HIL:HEARTBEAT {seq} t-us={micros}");
        } else {
            let _ = writeln!(out, "HIL:HEARTBEAT {seq}");
        }
        seq += 1;
        if sleep {
            crate::sleep::sleep_us(period_us);
        } else {
            timer::delay_us(period_us);
        }
    }
    match info.arg("then") {
        Some("off") => {
            let _ = writeln!(out, "HIL:GUEST system-off");
            psci::system_off()
        }
        Some("reset") => {
            let _ = writeln!(out, "HIL:GUEST system-reset");
            psci::system_reset()
        }
        Some("reset2") => {
            let _ = writeln!(out, "HIL:GUEST system-reset2 warm");
            let refused = psci::system_reset2(psci::ResetType::Warm, 0);
            let _ = writeln!(out, "HIL:GUEST FAIL SYSTEM_RESET2 returned {refused:?}");
            loop {
                core::hint::spin_loop();
            }
        }
        Some("undef") => {
            let _ = writeln!(out, "HIL:GUEST executing an undefined instruction");
            // SAFETY: deliberately not: with no vectors of its own (VBAR_EL1 0), taking the
            // UNDEF fetches from IPA 0x200, outside its memory, and the partition stops.
            unsafe { core::arch::asm!("udf #0", options(nomem, nostack)) };
            let _ = writeln!(out, "HIL:GUEST FAIL the undefined instruction returned");
            loop {
                core::hint::spin_loop();
            }
        }
        Some("last-cpu-off") => crate::cpu_cycles::last_cpu_off(&mut out),
        Some("overflow-el2-stack") => crate::cpu_cycles::overflow_el2_stack(&mut out),
        Some("fault") => {
            let addr = info
                .arg("fault-addr")
                .and_then(parse_u64)
                .unwrap_or(0x8000_0000);
            let _ = writeln!(out, "HIL:GUEST writing outside its memory at {addr:#x}");
            // SAFETY: deliberately not: this write must fault at stage 2 and stop the partition.
            unsafe { core::ptr::write_volatile(addr as *mut u32, 0xdead_beef) };
            let _ = writeln!(out, "HIL:GUEST FAIL the write went through");
            loop {
                core::hint::spin_loop();
            }
        }
        _ => loop {
            core::hint::spin_loop();
        },
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    // SAFETY: best effort on the default console address; we are going down anyway.
    let mut out = unsafe { Pl011::new(0x0900_0000) };
    let _ = writeln!(out, "HIL:GUEST PANIC {info}");
    psci::system_off()
}
