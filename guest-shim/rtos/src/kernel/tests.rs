//! The dispatcher with a fake machine: preemption order, synchronous activation, interrupts.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::*;
use crate::task::Priority;
use crate::time::Duration;

/// A machine whose clock only moves when a test or a task moves it.
#[derive(Default)]
struct FakePort {
    now: AtomicU64,
    alarm: Mutex<Option<Instant>>,
}

impl Port for FakePort {
    fn now(&self) -> Instant {
        Instant(self.now.load(Ordering::Relaxed))
    }
    fn frequency(&self) -> Frequency {
        Frequency(1_000_000_000)
    }
    fn set_alarm(&self, at: Option<Instant>) {
        *self.alarm.lock().unwrap() = at;
    }
    fn preemptible(&self, job: &mut dyn FnMut()) {
        job()
    }
}

type Log = Arc<Mutex<Vec<String>>>;

/// Logs its start and end, activates `then` in between, and takes `work` ticks.
struct Recorder {
    name: &'static str,
    log: Log,
    clock: &'static FakePort,
    then: Option<TaskId>,
    work: u64,
}

impl Task for Recorder {
    fn run(&mut self, cx: &mut Context<'_>) {
        self.log
            .lock()
            .unwrap()
            .push(format!("{} start", self.name));
        if let Some(task) = self.then {
            cx.activate(task);
        }
        self.clock.now.fetch_add(self.work, Ordering::Relaxed);
        self.log.lock().unwrap().push(format!("{} end", self.name));
    }
}

fn kernel() -> (&'static Kernel<&'static FakePort>, &'static FakePort, Log) {
    let port: &'static FakePort = Box::leak(Box::default());
    let kernel = Box::leak(Box::new(Kernel::new(port)));
    (kernel, port, Log::default())
}

impl Port for &'static FakePort {
    fn now(&self) -> Instant {
        (**self).now()
    }
    fn frequency(&self) -> Frequency {
        (**self).frequency()
    }
    fn set_alarm(&self, at: Option<Instant>) {
        (**self).set_alarm(at)
    }
    fn preemptible(&self, job: &mut dyn FnMut()) {
        (**self).preemptible(job)
    }
}

fn spawn(kernel: &Kernel<&'static FakePort>, config: TaskConfig, recorder: Recorder) -> TaskId {
    kernel.spawn(config, Box::leak(Box::new(recorder))).unwrap()
}

fn p(level: u8) -> Priority {
    Priority::new(level).unwrap()
}

fn recorder(
    name: &'static str,
    log: &Log,
    clock: &'static FakePort,
    then: Option<TaskId>,
) -> Recorder {
    Recorder {
        name,
        log: log.clone(),
        clock,
        then,
        work: 10,
    }
}

#[test]
fn activating_a_more_urgent_task_runs_it_before_the_activation_returns() {
    let (k, clock, log) = kernel();
    let high = spawn(
        k,
        TaskConfig::event("high", p(5), Duration(1000)),
        recorder("high", &log, clock, None),
    );
    let low = spawn(
        k,
        TaskConfig::event("low", p(2), Duration(1000)),
        recorder("low", &log, clock, Some(high)),
    );
    k.activate(low);
    assert_eq!(
        *log.lock().unwrap(),
        ["low start", "high start", "high end", "low end"]
    );
    assert!(k.is_quiet());
}

#[test]
fn activating_a_less_urgent_task_runs_it_after_the_activating_job() {
    let (k, clock, log) = kernel();
    let lower = spawn(
        k,
        TaskConfig::event("lower", p(1), Duration(1000)),
        recorder("lower", &log, clock, None),
    );
    let low = spawn(
        k,
        TaskConfig::event("low", p(2), Duration(1000)),
        recorder("low", &log, clock, Some(lower)),
    );
    k.activate(low);
    assert_eq!(
        *log.lock().unwrap(),
        ["low start", "low end", "lower start", "lower end"]
    );
}

#[test]
fn the_timer_releases_periodic_jobs_and_sets_the_next_alarm() {
    let (k, clock, log) = kernel();
    let fast = spawn(
        k,
        TaskConfig::periodic("fast", p(4), Duration(100)),
        recorder("fast", &log, clock, None),
    );
    spawn(
        k,
        TaskConfig::periodic("slow", p(1), Duration(300)),
        recorder("slow", &log, clock, None),
    );
    k.start(Instant(1000), None);
    assert_eq!(*clock.alarm.lock().unwrap(), Some(Instant(1000)));
    clock.now.store(1002, Ordering::Relaxed);
    k.enter_isr();
    k.on_timer(Instant(1001));
    k.leave_isr();
    assert!(log.lock().unwrap().is_empty(), "jobs wait for the dispatch");
    k.dispatch();
    assert_eq!(
        *log.lock().unwrap(),
        ["fast start", "fast end", "slow start", "slow end"]
    );
    assert_eq!(*clock.alarm.lock().unwrap(), Some(Instant(1100)));
    let snapshot = k.snapshot();
    assert_eq!(snapshot.timer_entry().max, 1, "deadline to vector");
    assert_eq!(snapshot.stats(fast).unwrap().response.max, 12);
    k.stop();
    assert_eq!(*clock.alarm.lock().unwrap(), None);
}

#[test]
fn an_activation_inside_an_interrupt_handler_waits_for_the_dispatch() {
    let (k, clock, log) = kernel();
    let rx = spawn(
        k,
        TaskConfig::event("rx", p(3), Duration(1000)),
        recorder("rx", &log, clock, None),
    );
    k.enter_isr();
    k.activate(rx);
    assert!(log.lock().unwrap().is_empty());
    k.leave_isr();
    k.dispatch();
    assert_eq!(*log.lock().unwrap(), ["rx start", "rx end"]);
}
