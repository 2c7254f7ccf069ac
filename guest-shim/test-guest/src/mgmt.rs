//! `mgmt=denied|watch|drive`: the partition management calls from a bare-metal partition.
//!
//! - `denied`: an unprivileged partition calls every privileged management function and
//!   expects DENIED; BULKHEAD_MGMT_SELF still answers (`HIL:TEST mgmt-denied ...`).
//! - `watch` (`target=NAME until=N period-ms=P`, privileged): prints the hypervisor's free
//!   memory and every partition, then polls the list until partition NAME has restarted N
//!   times, and prints the free memory again (scenario `restart_loop`).
//! - `drive` (`target=NAME settle-ms=S`, privileged): stops, starts and restarts partition NAME,
//!   S ms apart, checking its state through the list after each step.

use core::fmt::Write;

use guest_shim::boot_info::{parse_u64, BootInfo};
use guest_shim::bulkhead::{self, Bulkhead};
use guest_shim::console::Pl011;
use guest_shim::management::{PartitionRecord, DENIED, PRIVILEGED_CALLS};
use guest_shim::{smccc, timer};

/// Runs role `role`.
pub fn run(out: &mut Pl011, info: &BootInfo<'_>, role: &str) {
    let Some(hv) = bulkhead::detect() else {
        let _ = writeln!(out, "HIL:MGMT FAIL no Bulkhead below");
        return;
    };
    match role {
        "denied" => denied(out, hv),
        "watch" => watch(out, info, hv),
        "drive" => drive(out, info, hv),
        _ => {
            let _ = writeln!(out, "HIL:MGMT FAIL unknown role {role}");
        }
    }
}

fn denied(out: &mut Pl011, hv: Bulkhead) {
    let mut buffer = [0u8; 256];
    let (mut passed, mut failed) = (0, 0);
    for function in PRIVILEGED_CALLS {
        let x0 = smccc::call(function, [2, buffer.as_mut_ptr() as u64, 256, 0, 0, 0])[0];
        let ok = x0 as i64 == DENIED && buffer.iter().all(|&b| b == 0);
        if ok {
            passed += 1;
        } else {
            failed += 1;
        }
        let verdict = if ok { "PASS" } else { "FAIL" };
        let _ = writeln!(
            out,
            "HIL:TEST mgmt-denied {verdict} id={function:#010x} x0={}",
            x0 as i64
        );
    }
    let own = hv.own_restarts();
    let ok = own.is_ok();
    if ok {
        passed += 1;
    } else {
        failed += 1;
    }
    let verdict = if ok { "PASS" } else { "FAIL" };
    let _ = writeln!(out, "HIL:TEST mgmt-self {verdict} {own:?}");
    let _ = writeln!(
        out,
        "HIL:MGMT denied-checks passed={passed} failed={failed}"
    );
}

fn print_free(out: &mut Pl011, hv: Bulkhead, when: &str) {
    match hv.free_memory() {
        Ok(free) => {
            let _ = writeln!(
                out,
                "HIL:MGMT free when={when} ram={} tables-free={} tables-total={}",
                free.ram_bytes, free.tables_free, free.tables_total
            );
        }
        Err(e) => {
            let _ = writeln!(out, "HIL:MGMT FAIL free-memory {e:?}");
        }
    }
}

fn print_record(out: &mut Pl011, r: &PartitionRecord) {
    let _ = writeln!(
        out,
        "HIL:MGMT list name={} id={} state={} vcpus={} cpus={:#x} restarts={} reason={} traps={:?}",
        r.name(),
        r.id,
        r.state,
        r.vcpus,
        r.cpu_mask,
        r.restarts,
        r.last_reason,
        r.traps
    );
}

/// The record of partition `name`, from a fresh list.
fn find(hv: Bulkhead, name: &str) -> Option<PartitionRecord> {
    let mut found = None;
    hv.for_each_partition(|r| {
        if r.name() == name {
            found = Some(*r);
        }
    })
    .ok()?;
    found
}

fn watch(out: &mut Pl011, info: &BootInfo<'_>, hv: Bulkhead) {
    let target = info.arg("target").unwrap_or("rtos");
    let until = info.arg("until").and_then(parse_u64).unwrap_or(1);
    let period_us = info.arg("watch-ms").and_then(parse_u64).unwrap_or(200) * 1000;
    print_free(out, hv, "before");
    let listed = hv.for_each_partition(|r| print_record(out, r));
    let _ = writeln!(out, "HIL:MGMT listed {listed:?}");
    let mut reported = 0;
    loop {
        let Some(record) = find(hv, target) else {
            let _ = writeln!(out, "HIL:MGMT FAIL no partition {target}");
            return;
        };
        if record.restarts / 250 > reported {
            reported = record.restarts / 250;
            let _ = writeln!(
                out,
                "HIL:MGMT progress {target} restarts={}",
                record.restarts
            );
        }
        // Only the count ends the watch: between its stop and its restart, a restarting
        // partition is briefly stopped.
        if record.restarts >= until {
            // Let the last restart settle (its boot), then measure again.
            timer::delay_us(period_us);
            print_free(out, hv, "after");
            if let Some(record) = find(hv, target) {
                print_record(out, &record);
            }
            let _ = writeln!(
                out,
                "HIL:MGMT watch done target={target} restarts={}",
                record.restarts
            );
            return;
        }
        timer::delay_us(period_us);
    }
}

fn drive(out: &mut Pl011, info: &BootInfo<'_>, hv: Bulkhead) {
    use guest_shim::management::mgmt::{STATE_RUNNING, STATE_STOPPED};
    let target = info.arg("target").unwrap_or("rtos");
    let Some(record) = find(hv, target) else {
        let _ = writeln!(out, "HIL:MGMT FAIL no partition {target}");
        return;
    };
    let id = u64::from(record.id);
    let settle_us = info.arg("settle-ms").and_then(parse_u64).unwrap_or(300) * 1000;
    let settle = || timer::delay_us(settle_us);
    let state = || find(hv, target).map(|r| r.state);
    settle();
    let _ = writeln!(out, "HIL:MGMT drive stopping {target} id={id}");
    let stop = hv.stop_partition(id);
    let stopped = state();
    let _ = writeln!(out, "HIL:MGMT drive stop {stop:?} state={stopped:?}");
    let again = hv.stop_partition(id);
    let _ = writeln!(out, "HIL:MGMT drive stop-again {again:?}");
    settle();
    let start = hv.start_partition(id);
    let started = state();
    let _ = writeln!(out, "HIL:MGMT drive start {start:?} state={started:?}");
    settle();
    let restart = hv.restart_partition(id);
    let _ = writeln!(
        out,
        "HIL:MGMT drive restart {restart:?} state={:?}",
        state()
    );
    let own = hv.stop_partition(hv.partition_info().map_or(0, |i| i.id));
    let _ = writeln!(out, "HIL:MGMT drive stop-self {own:?}");
    let ok = stop.is_ok()
        && stopped == Some(STATE_STOPPED)
        && again.is_err()
        && start.is_ok()
        && started == Some(STATE_RUNNING)
        && restart.is_ok()
        && own.is_err();
    let _ = writeln!(out, "HIL:MGMT drive done ok={ok}");
}
