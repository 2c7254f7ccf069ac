//! The bare-metal load (`load=N`): N more CPUs, each streaming over a buffer on its stack (CPU
//! and memory load) and re-arming its own virtual timer every 4 ms like a Linux tick, with
//! interrupts masked. It stands in for a loaded Linux partition's busy vCPUs when the RTOS runs
//! without Bulkhead, so a deadline miss seen under Bulkhead can be checked against the same
//! emulator conditions with no hypervisor.
#![forbid(unsafe_code)]

use core::sync::atomic::{AtomicU64, Ordering};

use rtos::arch::{boot, cpu};
use rtos::devicetree::Platform;
use rtos::println;

/// The tick each load CPU keeps, like Linux's 250 Hz.
const TICK_MS: u64 = 4;
/// Words of buffer each load CPU streams over (8 KiB of its 16 KiB stack).
const WORDS: usize = 1024;

/// Buffer passes each load CPU has made (each written only by its own CPU).
static LOOPS: [AtomicU64; boot::SECONDARY_SLOTS] =
    [const { AtomicU64::new(0) }; boot::SECONDARY_SLOTS];

/// Buffer passes made by all load CPUs so far.
pub fn loops() -> u64 {
    LOOPS.iter().map(|l| l.load(Ordering::Relaxed)).sum()
}

/// Starts `count` load CPUs (the device tree's CPUs other than this one).
pub fn start(platform: &Platform<'_>, count: usize) {
    if count == 0 {
        return;
    }
    let me = cpu::affinity();
    let mut started = 0;
    for (slot, &mpidr) in platform
        .cpu_ids
        .iter()
        .filter(|&&id| id != me)
        .take(count.min(boot::SECONDARY_SLOTS))
        .enumerate()
    {
        let answer = boot::start_secondary(slot, mpidr, load_main);
        if answer == 0 {
            started += 1;
        } else {
            println!("HIL:RTOS load cpu={mpidr:#x} psci-cpu-on={answer}");
        }
    }
    println!("HIL:RTOS load cpus={started} asked={count} tick-ms={TICK_MS}");
}

fn load_main(slot: usize) -> ! {
    let tick = cpu::frequency().millis(TICK_MS);
    let mut next = cpu::now() + tick;
    cpu::set_virtual_timer(Some(next));
    let mut buffer = [0u64; WORDS];
    let mut passes = 0u64;
    loop {
        for (i, word) in buffer.iter_mut().enumerate() {
            *word = word
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(i as u64 ^ passes);
        }
        core::hint::black_box(&buffer);
        passes += 1;
        if let Some(counter) = LOOPS.get(slot) {
            counter.store(passes, Ordering::Relaxed);
        }
        if cpu::now() >= next {
            next = next + tick;
            cpu::set_virtual_timer(Some(next));
        }
    }
}
