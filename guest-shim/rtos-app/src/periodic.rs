//! The task set in measurement windows: each window resets the statistics, releases the
//! periodic tasks for `window-ms` of guest time, stops them and reports. With deferred console
//! output nothing leaves the partition during a window.
#![forbid(unsafe_code)]

use rtos::arch::static_cell::StaticCell;
use rtos::arch::{cpu, GenericTimer};
use rtos::channel::{Channel, ChannelStats};
use rtos::console::writer::LineWriter;
use rtos::console::CONSOLE;
use rtos::devicetree::Platform;
use rtos::drivers::delay::CounterDelay;
use rtos::runtime::{self, KERNEL};
use rtos::{println, Frequency, Priority, TaskConfig, TaskId};

use crate::args::{ConsolePolicy, Settings};
use crate::board::{self, Led, Sensor};
use crate::report;
use crate::tasks::control::Control;
use crate::tasks::filter::Filter;
use crate::tasks::reporter::Reporter;
use crate::tasks::supervisor::Supervisor;
use crate::tasks::{Samples, Summaries};

static SAMPLES: Samples = Channel::new();
static SUMMARIES: Summaries = Channel::new();
static CONTROL: StaticCell<Control<Sensor>> = StaticCell::new();
static FILTER: StaticCell<Filter<Led>> = StaticCell::new();
static REPORTER: StaticCell<Reporter<LineWriter<'static>>> = StaticCell::new();
static SUPERVISOR: StaticCell<Supervisor<CounterDelay<GenericTimer>>> = StaticCell::new();

/// The time from a window's start to its first release.
const FIRST_RELEASE_MS: u64 = 1;
/// `reporter` prints every this many summaries (once a second).
const REPORT_EVERY: u64 = 100;

fn priority(level: u8) -> Priority {
    Priority::new(level).unwrap_or(Priority::MAX)
}

/// Spawns the task set; returns the tasks in report order.
fn spawn(platform: &Platform<'_>, frequency: Frequency) -> heapless::Vec<TaskId, 4> {
    let period = |hz| frequency.period_of(hz).unwrap_or(rtos::Duration(1));
    let (led, sensor) = board::pins(platform);
    let bodies = (
        CONTROL.init(Control::new(sensor, &SAMPLES)),
        REPORTER.init(Reporter::new(
            LineWriter::new(&CONSOLE),
            &SUMMARIES,
            REPORT_EVERY,
        )),
        FILTER.init(Filter::new(led, &SAMPLES, &SUMMARIES)),
        SUPERVISOR.init(Supervisor::new(CounterDelay::new(GenericTimer), &SAMPLES)),
    );
    let (Some(control), Some(reporter), Some(filter), Some(supervisor)) = bodies else {
        runtime::fault(format_args!("the task set was spawned twice"))
    };
    let spawned = [
        KERNEL.spawn(
            TaskConfig::periodic("control", priority(4), period(1000)),
            control,
        ),
        KERNEL.spawn(
            TaskConfig::event("reporter", priority(3), frequency.millis(5)),
            reporter,
        ),
        KERNEL.spawn(
            TaskConfig::periodic("filter", priority(2), period(100)),
            filter,
        ),
        KERNEL.spawn(
            TaskConfig::periodic("supervisor", priority(1), period(10)),
            supervisor,
        ),
    ];
    let mut ids = heapless::Vec::new();
    for result in spawned {
        match result {
            Ok(id) => {
                let _ = ids.push(id);
            }
            Err(e) => runtime::fault(format_args!("spawn: {e:?}")),
        }
    }
    if let Some(&reporter) = ids.get(1) {
        SUMMARIES.bind(reporter);
    }
    ids
}

/// Runs the windows, then powers off (or runs for ever with `windows=0`).
pub fn run(platform: &Platform<'_>, settings: &Settings) -> ! {
    let frequency = cpu::frequency();
    let tasks = spawn(platform, frequency);
    let snapshot = KERNEL.snapshot();
    for &task in &tasks {
        if let Some(config) = snapshot.config(task) {
            println!("{}", report::config(config, frequency));
        }
    }
    crate::load::start(platform, settings.load);
    if settings.delay_ms > 0 {
        println!("HIL:RTOS waiting delay-ms={}", settings.delay_ms);
        runtime::flush_console();
        runtime::sleep_until(cpu::now() + frequency.millis(settings.delay_ms));
    }
    let mut window = 0u32;
    loop {
        run_window(window, settings, frequency, &tasks);
        crate::commands::serve(&crate::commands::Status {
            tasks: &tasks,
            windows: window.wrapping_add(1),
        });
        window = window.wrapping_add(1);
        if settings.windows != 0 && window >= settings.windows {
            break;
        }
    }
    println!(
        "HIL:RTOS done windows={window} interrupts={} stray-irqs={}",
        runtime::interrupts_taken(),
        runtime::stray_interrupts()
    );
    runtime::flush_console();
    guest_shim::psci::system_off()
}

fn run_window(window: u32, settings: &Settings, frequency: Frequency, tasks: &[TaskId]) {
    KERNEL.reset_stats();
    let start = cpu::now() + frequency.millis(FIRST_RELEASE_MS);
    // Releases at `start + k * period` before `end`: exactly window / period of each task.
    let end = start + frequency.millis(settings.window_ms);
    println!(
        "HIL:RTOS window={window} start at={} length-ms={} console={:?}",
        start.0, settings.window_ms, settings.console
    );
    defmt::info!(
        "window {=u32}: {=u64} ms from tick {=u64}",
        window,
        settings.window_ms,
        start.0
    );
    runtime::flush_console();
    let before = (SAMPLES.stats(), SUMMARIES.stats());
    KERNEL.start(start, Some(end));
    KERNEL.set_wakeup(Some(end));
    // Console commands are answered as they come, also in a deferred-console window (typing
    // is the user's choice to see output now).
    let status = crate::commands::Status {
        tasks,
        windows: window,
    };
    loop {
        match settings.console {
            ConsolePolicy::Deferred => {
                runtime::idle_until(|| cpu::now() >= end || crate::commands::pending());
            }
            ConsolePolicy::Live => {
                runtime::idle_until(|| {
                    cpu::now() >= end || CONSOLE.pending() > 0 || crate::commands::pending()
                });
                runtime::flush_console();
            }
        }
        crate::commands::serve(&status);
        if cpu::now() >= end {
            break;
        }
    }
    KERNEL.stop();
    report_window(window, frequency, tasks, before);
}

fn report_window(
    window: u32,
    frequency: Frequency,
    tasks: &[TaskId],
    before: (ChannelStats, ChannelStats),
) {
    let snapshot = KERNEL.snapshot();
    let mut misses = 0;
    for &task in tasks {
        if let (Some(config), Some(stats)) = (snapshot.config(task), snapshot.stats(task)) {
            misses += stats.misses;
            println!("{}", report::task(window, config.name, stats));
            println!("{}", report::times(window, config.name, stats, frequency));
        }
    }
    println!(
        "{}",
        report::timer(window, snapshot.timer_entry(), frequency)
    );
    for record in snapshot.misses().records() {
        let name = snapshot.config(record.task).map_or("?", |c| c.name);
        println!("{}", report::miss(window, name, record, frequency));
    }
    let (samples, summaries) = (SAMPLES.stats(), SUMMARIES.stats());
    println!(
        "HIL:RTOS window={window} end misses={misses} unlisted={} samples={} samples-lost={} summaries-lost={} stray-irqs={} log-dropped={} load-loops={}",
        snapshot.misses().overflow,
        samples.sent - before.0.sent,
        samples.full - before.0.full,
        summaries.full - before.1.full,
        runtime::stray_interrupts(),
        CONSOLE.dropped(),
        crate::load::loops(),
    );
    defmt::info!("window {=u32} done: {=u64} deadline misses", window, misses);
    runtime::flush_console();
}
