//! The bench partition proper: read the boot arguments, run each requested sequence, report.

use core::fmt::Write;
use core::sync::atomic::Ordering;

use guest_shim::boot_info::{parse_u64, BootInfo};
use guest_shim::console::Pl011;
use guest_shim::psci;

use crate::entry::CONSOLE;
use crate::sequence::Sequence;
use crate::stats::Stats;

/// Samples per sequence unless `iterations=` says otherwise.
const DEFAULT_ITERATIONS: u64 = 1000;
/// The console when the device tree names none (QEMU virt's UART0).
const DEFAULT_CONSOLE: usize = 0x0900_0000;
/// The largest device tree we accept.
const MAX_DTB_SIZE: usize = 1 << 20;
/// The device tree header's magic (big-endian).
const FDT_MAGIC: u32 = 0xd00d_feed;

/// The device tree at `dtb`, if one is there.
fn device_tree(dtb: usize) -> Option<&'static [u8]> {
    if dtb == 0 || !dtb.is_multiple_of(8) {
        return None;
    }
    // SAFETY: the boot protocol puts a device tree at x0, in our RAM; only its 8-byte header
    // is read before its size is known.
    let header = unsafe { core::slice::from_raw_parts(dtb as *const u8, 8) };
    let word =
        |i: usize| u32::from_be_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
    if word(0) != FDT_MAGIC {
        return None;
    }
    let size = (word(4) as usize).min(MAX_DTB_SIZE);
    // SAFETY: as above, for the size its header gives; nothing writes it while we run.
    Some(unsafe { core::slice::from_raw_parts(dtb as *const u8, size) })
}

/// Runs `sequence` `iterations` times; returns the net cost (minus `frame`) and the last value.
fn measure(sequence: Sequence, iterations: u64, console: usize, frame: u64) -> (Stats, u64) {
    let mut stats = Stats::new();
    let mut value = 0;
    for _ in 0..iterations {
        let (ticks, result) = sequence.run(console);
        stats.add(ticks.saturating_sub(frame));
        value = result;
    }
    (stats, value)
}

#[no_mangle]
extern "C" fn bench_main(dtb: usize, boot_counter: u64) -> ! {
    let info = device_tree(dtb)
        .and_then(BootInfo::parse)
        .unwrap_or_default();
    let console = info.console.unwrap_or(DEFAULT_CONSOLE);
    CONSOLE.store(console, Ordering::Relaxed);
    // SAFETY: the console node of our own device tree is a PL011 mapped for us.
    let mut out = unsafe { Pl011::new(console) };
    let iterations = info
        .arg("iterations")
        .and_then(parse_u64)
        .unwrap_or(DEFAULT_ITERATIONS)
        .max(1);
    if info.arg("doorbell") == Some("answer") {
        // The other side of A's figure: it reports nothing else.
        crate::doorbell::answer_partition(&mut out, &info, iterations);
    }
    let _ = writeln!(out, "HIL:BENCH boot first-instruction={boot_counter}");

    let (empty, _) = measure(Sequence::Empty, iterations, console, 0);
    let _ = writeln!(out, "HIL:BENCH timing-empty {empty}");
    for name in info.arg("bench").unwrap_or("").split(',') {
        match Sequence::by_name(name) {
            Some(Sequence::Empty) => {}
            Some(sequence) => {
                let (stats, value) = measure(sequence, iterations, console, empty.min);
                let _ = writeln!(out, "HIL:BENCH {name} {stats} value={value:#x}");
            }
            None if name.is_empty() => {}
            None => {
                let _ = writeln!(out, "HIL:BENCH error unknown-benchmark {name}");
            }
        }
    }
    if let Some((distributor, redistributor)) =
        info.arg("timer-irq").and_then(|v| v.split_once(','))
    {
        if let (Some(d), Some(r)) = (parse_u64(distributor), parse_u64(redistributor)) {
            crate::timer_irq::init_gic(d as usize, r as usize);
            let (stats, intid) = crate::timer_irq::measure(iterations);
            let _ = writeln!(out, "HIL:BENCH timer-irq {stats} value={intid:#x}");
        }
    }
    if info.arg("doorbell") == Some("ring") {
        crate::doorbell::ring(&mut out, &info, iterations);
    }
    let _ = writeln!(out, "HIL:BENCH done");
    psci::system_off()
}
