//! Attacks through calls and waits: WFI/WFE storms, CPU_SUSPEND with bogus entry points, PSCI
//! naming foreign CPUs, foreign doorbells, non-zero immediates, and a storm of random hypercalls
//! and SMCs from the seeded generator.

use guest_shim::bulkhead;
use guest_shim::psci;
use guest_shim::smccc::{self, SmcccError};
use guest_shim::timer;

use super::{sleep_us, Report, Rng};

/// NOT_SUPPORTED, INVALID_PARAMETERS and DENIED as x0 values.
const NOT_SUPPORTED: u64 = -1i64 as u64;
const INVALID_PARAMETERS: u64 = -2i64 as u64;

/// 100,000 `sevl; wfe` pairs and 200 WFIs each woken by the virtual timer 20 us later: the
/// partition's own time, nobody else's.
pub(super) fn wfi_wfe_storm(report: &mut Report<'_>) {
    let start = timer::counter();
    for _ in 0..100_000 {
        // SAFETY: SEVL sets our own event register, so the WFE returns at once.
        unsafe { core::arch::asm!("sevl", "wfe", options(nomem, nostack)) };
    }
    for _ in 0..200 {
        sleep_us(20);
    }
    let us = (timer::counter() - start) * 1_000_000 / timer::frequency();
    report.attack(
        "wfi-wfe-storm",
        true,
        format_args!("wfe=100000 wfi=200 guest-us={us}"),
    );
}

/// CPU_SUSPEND with power states of every kind (standby, power-down, reserved bits) and entry
/// points outside our RAM, at 0 and at the hypervisor's usual load address: each returns here
/// (a standby, woken by the timer armed first) or with an error; none jumps anywhere.
pub(super) fn cpu_suspend_bogus(report: &mut Report<'_>, rng: &mut Rng) {
    let mut results = [0u64; 8];
    for (i, result) in results.iter_mut().enumerate() {
        let state = match i {
            0 => 0,
            1 => 1 << 16, // power-down (PSCI 0.2 format)
            2 => 1 << 30, // power-down (extended format)
            3 => u64::from(u32::MAX),
            _ => rng.next(),
        };
        let entry = match i % 4 {
            0 => 0,
            1 => 0x4008_0000 - 0x1000,
            2 => 0xdead_0000_0000,
            _ => rng.next(),
        };
        timer::arm_virtual_timer(timer::counter() + timer::frequency() / 10_000);
        *result = smccc::call(
            psci::CPU_SUSPEND | (1 << 30),
            [state, entry, rng.next(), 0, 0, 0],
        )[0];
        timer::stop_virtual_timer();
        crate::sleep::drain();
    }
    // Returning at all is the point: a jump to the bogus entry would never get here.
    let ok = results
        .iter()
        .all(|&r| r == 0 || r == INVALID_PARAMETERS || r == NOT_SUPPORTED || r as i64 == -9);
    report.attack(
        "cpu-suspend-bogus",
        ok,
        format_args!(
            "calls=8 results={:?} returned-here=true",
            results.map(|r| r as i64)
        ),
    );
}

/// CPU_ON and AFFINITY_INFO naming every other CPU (and random MPIDRs): INVALID_PARAMETERS,
/// never a foreign CPU switched on or reported.
pub(super) fn foreign_psci(report: &mut Report<'_>, rng: &mut Rng) {
    let mut wrong = 0u32;
    let mut calls = 0u32;
    let mut targets = [0u64; 15];
    for (i, target) in targets.iter_mut().enumerate() {
        *target = if i < 7 {
            i as u64 + 1
        } else {
            rng.next() & 0xff_00ff_ffff
        };
    }
    for target in targets {
        let on = smccc::call(psci::CPU_ON_64, [target, 0x4000_0000, 0, 0, 0, 0])[0];
        let info = smccc::call(psci::AFFINITY_INFO | (1 << 30), [target, 0, 0, 0, 0, 0])[0];
        calls += 2;
        wrong += u32::from(on != INVALID_PARAMETERS) + u32::from(info != INVALID_PARAMETERS);
    }
    report.attack(
        "foreign-psci",
        wrong == 0,
        format_args!("calls={calls} not-invalid-parameters={wrong}"),
    );
}

/// Rings doorbells the attacker does not have (it owns no channel), and asks about them.
pub(super) fn foreign_doorbells(report: &mut Report<'_>, rng: &mut Rng) {
    let mut answered = 0u32;
    let mut indexes = [0u64; 32];
    for (i, index) in indexes.iter_mut().enumerate() {
        *index = if i < 16 { i as u64 } else { rng.next() };
    }
    let mut calls = 0u32;
    for index in indexes {
        for function in [bulkhead::DOORBELL_RING, bulkhead::DOORBELL_INFO] {
            let x0 = smccc::call(function, [index, rng.next(), 0, 0, 0, 0])[0];
            calls += 1;
            if SmcccError::from_w0(x0).is_none() {
                answered += 1;
            }
        }
    }
    report.attack(
        "foreign-doorbells",
        answered == 0,
        format_args!("calls={calls} succeeded={answered}"),
    );
}

/// `hvc #1` and `smc #1`: NOT_SUPPORTED.
pub(super) fn nonzero_immediates(report: &mut Report<'_>) {
    let (mut hvc, mut smc) = (u64::from(psci::PSCI_VERSION), u64::from(psci::PSCI_VERSION));
    // SAFETY: hypervisor calls with immediate 1; they return with x0..x3 written (x1..x3 are
    // declared clobbered) and nothing else changed.
    unsafe {
        core::arch::asm!("hvc #1", inout("x0") hvc, out("x1") _, out("x2") _, out("x3") _,
            options(nostack));
        core::arch::asm!("smc #1", inout("x0") smc, out("x1") _, out("x2") _, out("x3") _,
            options(nostack));
    }
    report.attack(
        "nonzero-immediates",
        hvc == NOT_SUPPORTED && smc == NOT_SUPPORTED,
        format_args!("hvc1={hvc:#x} smc1={smc:#x}"),
    );
}

/// Function IDs a random call must not make: they end or suspend this partition (the attacks
/// above make them on purpose), print on the shared console, or overflow an EL2 stack in a
/// test-hooks build. Compared with the SMC32/SMC64 bit cleared.
fn excluded(function: u32) -> bool {
    let f = function & !(1 << 30);
    matches!(
        f,
        // PSCI CPU_SUSPEND, CPU_OFF, SYSTEM_OFF, SYSTEM_RESET, CPU_FREEZE,
        // CPU_DEFAULT_SUSPEND, SYSTEM_SUSPEND, SYSTEM_RESET2, SYSTEM_OFF2.
        0x8400_0001
            | 0x8400_0002
            | 0x8400_0008
            | 0x8400_0009
            | 0x8400_000b
            | 0x8400_000c
            | 0x8400_000e
            | 0x8400_0012
            | 0x8400_0015
    ) || f == bulkhead::CONSOLE_WRITE & !(1 << 30)
        || f == bulkhead::CONSOLE_WRITE_BUFFER & !(1 << 30)
        || f == bulkhead::TEST_OVERFLOW_EL2_STACK
}

/// A random function ID: half fully random, half in a standard service's range (Arm
/// architecture, SiP, OEM, standard, standard hypervisor, vendor hypervisor, TOS), fast or
/// yielding, SMC32 or SMC64, with a random function number.
fn random_function(rng: &mut Rng) -> u32 {
    loop {
        let r = rng.next();
        let function = if r & 1 == 0 {
            (r >> 32) as u32
        } else {
            let owner = [0u32, 2, 3, 4, 5, 6, 50][(r >> 1) as usize % 7];
            let fast = (r >> 8) & 3 != 0;
            let smc64 = (r >> 10) & 1 != 0;
            (u32::from(fast) << 31)
                | (u32::from(smc64) << 30)
                | (owner << 24)
                | ((r >> 16) as u32 & 0xff)
        };
        if !excluded(function) {
            return function;
        }
    }
}

/// `calls` HVCs (and a tenth as many SMCs) with random function IDs and arguments, in bursts
/// of `burst` with a sleep of `sleep_us` between (so the storm spans the RTOS's window and
/// Linux's heartbeat without taking the host thread from them).
pub(super) fn random_calls(
    report: &mut Report<'_>,
    rng: &mut Rng,
    seed: u64,
    calls: u64,
    burst: u64,
    sleep: u64,
) {
    let start = timer::counter();
    let (mut not_supported, mut other_errors, mut answered) = (0u64, 0u64, 0u64);
    let smcs = calls / 10;
    for n in 0..calls + smcs {
        let function = random_function(rng);
        let args = [
            rng.next(),
            rng.next(),
            rng.next(),
            rng.next(),
            rng.next(),
            rng.next(),
        ];
        let x0 = if n < calls {
            smccc::call(function, args)[0]
        } else {
            smccc::call_smc(function, args)[0]
        };
        match SmcccError::from_w0(x0) {
            Some(SmcccError::NotSupported) => not_supported += 1,
            Some(_) => other_errors += 1,
            None => answered += 1,
        }
        if burst != 0 && (n + 1) % burst == 0 && sleep != 0 {
            sleep_us(sleep);
        }
    }
    let ms = (timer::counter() - start) * 1000 / timer::frequency();
    report.attack(
        "random-calls",
        true,
        format_args!(
            "seed={seed:#x} hvc={calls} smc={smcs} not-supported={not_supported} other-errors={other_errors} answered={answered} guest-ms={ms}"
        ),
    );
}
