//! The benchmark mode: one periodic job at the highest priority, `iterations` times, measuring
//! from each release (the timer's deadline) to the job's first instruction, and from the
//! deadline to the IRQ vector. Prints `HIL:BENCH` lines for `cargo xtask bench` and powers off.
//! Under `-icount shift=0` with a 1 GHz counter every figure is in guest instructions.
#![forbid(unsafe_code)]

use core::cell::RefCell;

use critical_section::Mutex;
use rtos::arch::cpu;
use rtos::arch::static_cell::StaticCell;
use rtos::runtime::{self, KERNEL};
use rtos::stats::Series;
use rtos::{println, Context, Priority, Task, TaskConfig};

use crate::args::Settings;

/// The latencies measured so far.
static LATENCY: Mutex<RefCell<Series>> = Mutex::new(RefCell::new(Series::new()));
static PROBE: StaticCell<Probe> = StaticCell::new();

/// The measuring job: its first instruction reads the counter.
struct Probe;

impl Task for Probe {
    fn run(&mut self, cx: &mut Context<'_>) {
        let latency = cx.now().saturating_since(cx.job().release);
        critical_section::with(|cs| LATENCY.borrow_ref_mut(cs).add(latency));
    }
}

fn count() -> u64 {
    critical_section::with(|cs| LATENCY.borrow_ref(cs).n)
}

fn line(name: &str, series: &Series) {
    let avg = series.avg_hundredths();
    println!(
        "HIL:BENCH {name} n={} min={} avg={}.{:02} max={}",
        series.n,
        series.min_or_zero(),
        avg / 100,
        avg % 100,
        series.max
    );
}

/// Runs the benchmark and powers off.
pub fn run(settings: &Settings) -> ! {
    let frequency = cpu::frequency();
    let period = frequency.micros(settings.period_us);
    let Some(probe) = PROBE.init(Probe) else {
        runtime::fault(format_args!("the probe was spawned twice"))
    };
    if let Err(e) = KERNEL.spawn(TaskConfig::periodic("probe", Priority::MAX, period), probe) {
        runtime::fault(format_args!("spawn: {e:?}"));
    }
    KERNEL.start(cpu::now() + period, None);
    runtime::idle_until(|| count() >= settings.iterations);
    KERNEL.stop();
    let latency = critical_section::with(|cs| *LATENCY.borrow_ref(cs));
    let snapshot = KERNEL.snapshot();
    line("rtos-timer-to-task", &latency);
    line("rtos-timer-to-vector", snapshot.timer_entry());
    let misses = snapshot
        .stats(rtos::TaskId::from_index(0))
        .map_or(0, |s| s.misses);
    println!(
        "HIL:RTOS bench period-us={} iterations={} misses={misses}",
        settings.period_us, latency.n
    );
    defmt::info!(
        "bench: {=u64} jobs, latency max {=u64} ticks",
        latency.n,
        latency.max
    );
    println!("HIL:BENCH done");
    runtime::flush_console();
    guest_shim::psci::system_off()
}
