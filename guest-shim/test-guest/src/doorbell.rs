//! `doorbell=ping|pong|bystander`: the doorbell scenario (`hil-tests/test_doorbell.py`).
//!
//! `ping` and `pong` share a channel. `pong` keeps its doorbell disabled at first, rings `ping`
//! ("ready") and checks that `ping`'s first ring stays latched until it enables it; then they
//! ping-pong `rounds=N` times, and `pong` stops itself, after which `ping` must get PEER_DOWN.
//! `bystander` has no channel: every doorbell index is INVALID_PARAMETER for it, and it never
//! sees an interrupt though it enables the channel's INTIDs in its own GIC. Interrupts stay
//! masked (PSTATE.I): each partition waits in `wfi`, which a pending interrupt ends even when
//! masked, then acknowledges it at its CPU interface; the virtual timer bounds every wait.

use core::fmt::Write;

use guest_shim::boot_info::{parse_u64, BootInfo};
use guest_shim::bulkhead::{self, Bulkhead, DoorbellError};
use guest_shim::console::Pl011;
use guest_shim::gic::{self, GicV3};
use guest_shim::timer;

use crate::guest::Checks;

/// Priority of the doorbell interrupt (lower is more urgent).
const PRIORITY: u8 = 0x80;
/// Priority of the virtual timer, which ends waits that time out.
const TIMER_PRIORITY: u8 = 0xa0;
/// How long to wait for a doorbell or a state change before giving up (guest time).
const TIMEOUT_US: u64 = 10_000_000;
/// INTIDs the bystander enables in its own GIC: the channel's, which are not its.
const FOREIGN_INTIDS: [u32; 2] = [48, 49];
/// How often the bystander reports what it saw.
const REPORT_PERIOD_US: u64 = 200_000;

/// Runs the scenario's role `role`; returns when the role is done (the bystander never is).
pub fn run(out: &mut Pl011, info: &BootInfo<'_>, role: &str) {
    let mut checks = Checks {
        out,
        passed: 0,
        failed: 0,
    };
    let Some(hv) = bulkhead::detect() else {
        checks.check("doorbell-detect", false, format_args!("no Bulkhead"));
        return;
    };
    let Some(gic) = gic_from(info) else {
        checks.check("doorbell-gic", false, format_args!("no gic= argument"));
        return;
    };
    gic.enable_distributor();
    gic.wake_redistributor();
    gic.configure(timer::VIRTUAL_TIMER_INTID, TIMER_PRIORITY, 0);
    gic.set_enabled(timer::VIRTUAL_TIMER_INTID, true);
    gic::enable_cpu_interface();
    let rounds = info.arg("rounds").and_then(parse_u64).unwrap_or(100);
    match role {
        "ping" => ping(&mut checks, &hv, &gic, rounds),
        "pong" => pong(&mut checks, &hv, &gic, rounds),
        _ => bystander(&mut checks, &hv, &gic),
    }
    let (passed, failed) = (checks.passed, checks.failed);
    let _ = writeln!(checks.out, "HIL:CHECKS passed={passed} failed={failed}");
}

/// The GIC named by `gic=<distributor>,<redistributor of vCPU 0>`.
fn gic_from(info: &BootInfo<'_>) -> Option<GicV3> {
    let (distributor, redistributor) = info.arg("gic")?.split_once(',')?;
    let (distributor, redistributor) = (parse_u64(distributor)?, parse_u64(redistributor)?);
    // SAFETY: the boot arguments name this partition's (virtual) GIC; only this code drives it.
    Some(unsafe { GicV3::new(distributor as usize, redistributor as usize) })
}

/// Counter ticks in `micros` microseconds.
fn ticks(micros: u64) -> u64 {
    timer::frequency() / 1_000_000 * micros
}

/// The next interrupt other than the timer's, or `None` once the counter reaches `deadline`.
/// The interrupt is acknowledged and ended.
fn next_interrupt(deadline: u64) -> Option<u32> {
    timer::arm_virtual_timer(deadline);
    let intid = loop {
        gic::wait_for_interrupt();
        match gic::acknowledge() {
            gic::SPURIOUS => continue,
            timer::VIRTUAL_TIMER_INTID => {
                timer::stop_virtual_timer();
                gic::end_of_interrupt(timer::VIRTUAL_TIMER_INTID);
                break None;
            }
            id => {
                gic::end_of_interrupt(id);
                break Some(id);
            }
        }
    };
    timer::stop_virtual_timer();
    intid
}

/// Waits until `intid` arrives (true) or the timeout passes; any other interrupt is counted
/// in `others`.
fn wait_for(intid: u32, others: &mut u64) -> bool {
    let deadline = timer::counter() + ticks(TIMEOUT_US);
    while let Some(id) = next_interrupt(deadline) {
        if id == intid {
            return true;
        }
        *others += 1;
    }
    false
}

/// Waits until `condition` holds (checked every 100 us) or the timeout passes.
fn wait_until(mut condition: impl FnMut() -> bool) -> bool {
    let deadline = timer::counter() + ticks(TIMEOUT_US);
    while timer::counter() < deadline {
        if condition() {
            return true;
        }
        let _ = next_interrupt(timer::counter() + ticks(100));
    }
    false
}

/// The checks every partition with a channel makes on its doorbell 0; returns its INTID.
fn discover(c: &mut Checks<'_>, hv: &Bulkhead, gic: &GicV3) -> Option<u32> {
    let info = hv.doorbell_info(0);
    c.check(
        "doorbell-info",
        matches!(info, Ok(i) if i.count == 1 && i.peer >= 1),
        format_args!("{info:?}"),
    );
    let me = hv.partition_info().map(|p| p.id).unwrap_or(0);
    if let Ok(i) = info {
        let _ = writeln!(
            c.out,
            "HIL:DOORBELL info id={me} peer={} intid={} count={}",
            i.peer, i.intid, i.count
        );
    }
    let (ring, query) = (hv.doorbell_ring(1), hv.doorbell_info(1));
    c.check(
        "doorbell-bad-index",
        ring == Err(DoorbellError::NoSuchDoorbell) && query == Err(DoorbellError::NoSuchDoorbell),
        format_args!("ring(1) -> {ring:?}, info(1) -> {query:?}"),
    );
    let intid = info.ok()?.intid;
    gic.configure(intid, PRIORITY, 0);
    Some(intid)
}

fn ping(c: &mut Checks<'_>, hv: &Bulkhead, gic: &GicV3, rounds: u64) {
    let Some(intid) = discover(c, hv, gic) else {
        return;
    };
    gic.set_enabled(intid, true);
    let mut others = 0;
    let ready = wait_for(intid, &mut others);
    c.check("doorbell-ready", ready, format_args!("pong rang"));
    // Pong keeps its doorbell disabled until it has seen this ring latched; it answers once it
    // has enabled it and taken the interrupt.
    let latched = hv.doorbell_ring(0);
    let answered = latched.is_ok() && wait_for(intid, &mut others);
    c.check(
        "doorbell-ring-while-disabled",
        answered,
        format_args!("{latched:?}, answered={answered}"),
    );
    let (mut sent, mut received) = (0u64, 0u64);
    for _ in 0..rounds {
        if hv.doorbell_ring(0).is_err() {
            break;
        }
        sent += 1;
        if !wait_for(intid, &mut others) {
            break;
        }
        received += 1;
    }
    let _ = writeln!(c.out, "HIL:DOORBELL ping sent={sent} received={received}");
    c.check(
        "doorbell-round-trips",
        sent == rounds && received == rounds && others == 0,
        format_args!("{received} of {rounds}, other interrupts {others}"),
    );
    // Pong stops after its last answer: from then on a ring is PEER_DOWN.
    let mut before = 0u64;
    let mut last = Ok(());
    let down = wait_until(|| {
        last = hv.doorbell_ring(0);
        if last.is_ok() {
            before += 1;
        }
        last == Err(DoorbellError::PeerDown)
    });
    let _ = writeln!(c.out, "HIL:DOORBELL peer-down after={before}");
    c.check(
        "doorbell-peer-down",
        down,
        format_args!("ring -> {last:?} after {before} accepted"),
    );
    let info = hv.doorbell_info(0);
    c.check(
        "doorbell-info-peer-down",
        matches!(info, Ok(i) if i.intid == intid),
        format_args!("{info:?}"),
    );
}

fn pong(c: &mut Checks<'_>, hv: &Bulkhead, gic: &GicV3, rounds: u64) {
    let Some(intid) = discover(c, hv, gic) else {
        return;
    };
    let ready = hv.doorbell_ring(0);
    c.check("doorbell-ready", ready.is_ok(), format_args!("{ready:?}"));
    let latched = wait_until(|| gic.is_pending(intid));
    let quiet = gic::acknowledge();
    c.check(
        "doorbell-latched-while-disabled",
        latched && quiet == gic::SPURIOUS,
        format_args!("pending={latched} iar={quiet}"),
    );
    if quiet != gic::SPURIOUS {
        gic::end_of_interrupt(quiet);
    }
    gic.set_enabled(intid, true);
    let mut others = 0;
    let delivered = wait_for(intid, &mut others);
    c.check(
        "doorbell-delivered-on-enable",
        delivered && !gic.is_pending(intid),
        format_args!("delivered={delivered}"),
    );
    let _ = hv.doorbell_ring(0);
    let (mut sent, mut received) = (0u64, 0u64);
    while received < rounds && wait_for(intid, &mut others) {
        received += 1;
        if hv.doorbell_ring(0).is_ok() {
            sent += 1;
        }
    }
    let _ = writeln!(c.out, "HIL:DOORBELL pong received={received} sent={sent}");
    c.check(
        "doorbell-round-trips",
        sent == rounds && received == rounds && others == 0,
        format_args!("{received} of {rounds}, other interrupts {others}"),
    );
}

fn bystander(c: &mut Checks<'_>, hv: &Bulkhead, gic: &GicV3) -> ! {
    let (ring, info) = (hv.doorbell_ring(0), hv.doorbell_info(0));
    c.check(
        "doorbell-none",
        ring == Err(DoorbellError::NoSuchDoorbell) && info == Err(DoorbellError::NoSuchDoorbell),
        format_args!("ring(0) -> {ring:?}, info(0) -> {info:?}"),
    );
    let features = (
        hv.features(bulkhead::DOORBELL_RING),
        hv.features(bulkhead::DOORBELL_INFO),
    );
    c.check(
        "doorbell-features",
        features == (Ok(0), Ok(0)),
        format_args!("{features:?}"),
    );
    for intid in FOREIGN_INTIDS {
        gic.configure(intid, PRIORITY, 0);
        gic.set_enabled(intid, true);
    }
    let (passed, failed) = (c.passed, c.failed);
    let _ = writeln!(c.out, "HIL:CHECKS passed={passed} failed={failed}");
    let mut seen = 0u64;
    loop {
        let deadline = timer::counter() + ticks(REPORT_PERIOD_US);
        while next_interrupt(deadline).is_some() {
            seen += 1;
        }
        let _ = writeln!(c.out, "HIL:DOORBELL bystander seen={seen}");
    }
}
