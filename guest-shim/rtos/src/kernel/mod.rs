//! The kernel: the scheduler behind a critical section, the task bodies, the alarm, and the
//! dispatcher that runs jobs on the current stack.
//!
//! Every job runs inside [`Kernel::dispatch`]: after an interrupt handler ends (the timer
//! released periodic jobs, a driver activated a task), or synchronously when a job or the main
//! loop activates a more urgent task. A job that is preempted waits on the stack below the
//! job that preempted it, so one stack serves every task.
#![forbid(unsafe_code)]

use core::cell::{Cell, RefCell};

use critical_section::Mutex;

use crate::context::{Context, Services};
use crate::port::Port;
use crate::sched::{Scheduler, SpawnError, MAX_TASKS};
use crate::task::{Task, TaskConfig, TaskId};
use crate::time::{Frequency, Instant};

/// A task body the kernel owns for ever.
pub type Body = &'static mut (dyn Task + Send);

/// The kernel on machine `P`.
pub struct Kernel<P: Port> {
    port: P,
    scheduler: Mutex<RefCell<Scheduler>>,
    /// Each task's code; empty while its job runs (a task never runs twice at once).
    bodies: Mutex<RefCell<[Option<Body>; MAX_TASKS]>>,
    alarm: Mutex<Cell<Option<Instant>>>,
    isr_depth: Mutex<Cell<u32>>,
}

impl<P: Port> Kernel<P> {
    /// A kernel with no tasks.
    pub const fn new(port: P) -> Self {
        Kernel {
            port,
            scheduler: Mutex::new(RefCell::new(Scheduler::new())),
            bodies: Mutex::new(RefCell::new([const { None }; MAX_TASKS])),
            alarm: Mutex::new(Cell::new(None)),
            isr_depth: Mutex::new(Cell::new(0)),
        }
    }

    /// The machine.
    pub fn port(&self) -> &P {
        &self.port
    }

    /// Adds a task with its code.
    pub fn spawn(&self, config: TaskConfig, body: Body) -> Result<TaskId, SpawnError> {
        critical_section::with(|cs| {
            let id = self.scheduler.borrow_ref_mut(cs).add(config)?;
            if let Some(slot) = self.bodies.borrow_ref_mut(cs).get_mut(id.index()) {
                *slot = Some(body);
            }
            Ok(id)
        })
    }

    /// Starts the periodic tasks, the first releases at `start` (plus each task's offset), and
    /// none at or after `until`.
    pub fn start(&self, start: Instant, until: Option<Instant>) {
        critical_section::with(|cs| {
            let mut scheduler = self.scheduler.borrow_ref_mut(cs);
            scheduler.start_periodic(start, until);
            self.arm(cs, scheduler.next_alarm());
        });
    }

    /// Stops the periodic releases; released jobs still run.
    pub fn stop(&self) {
        critical_section::with(|cs| {
            self.scheduler.borrow_ref_mut(cs).stop_periodic();
            self.arm(cs, None);
        });
    }

    /// Makes the timer also fire at `at`, to wake the main loop (or cancels that).
    pub fn set_wakeup(&self, at: Option<Instant>) {
        critical_section::with(|cs| {
            let mut scheduler = self.scheduler.borrow_ref_mut(cs);
            scheduler.set_wakeup(at);
            self.arm(cs, scheduler.next_alarm());
        });
    }

    fn arm(&self, cs: critical_section::CriticalSection<'_>, at: Option<Instant>) {
        self.alarm.borrow(cs).set(at);
        self.port.set_alarm(at);
    }

    /// The timer interrupt, taken at `irq_entry`: releases the due periodic jobs and sets the
    /// next alarm. Called by the interrupt handler before it ends the interrupt; the jobs run
    /// in the [`Kernel::dispatch`] that follows.
    pub fn on_timer(&self, irq_entry: Instant) {
        critical_section::with(|cs| {
            let mut scheduler = self.scheduler.borrow_ref_mut(cs);
            let alarm = self.alarm.borrow(cs).get();
            scheduler.on_alarm(alarm, irq_entry, self.port.now());
            self.arm(cs, scheduler.next_alarm());
        });
    }

    /// Marks the start of an interrupt handler: activations made inside it wait for the
    /// dispatch that follows the handler.
    pub fn enter_isr(&self) {
        critical_section::with(|cs| {
            let depth = self.isr_depth.borrow(cs);
            depth.set(depth.get().saturating_add(1));
        });
    }

    /// Marks the end of an interrupt handler.
    pub fn leave_isr(&self) {
        critical_section::with(|cs| {
            let depth = self.isr_depth.borrow(cs);
            depth.set(depth.get().saturating_sub(1));
        });
    }

    /// Runs every ready job more urgent than the running one, most urgent first.
    pub fn dispatch(&self) {
        loop {
            let next = critical_section::with(|cs| {
                let dispatch = self
                    .scheduler
                    .borrow_ref_mut(cs)
                    .start_next(self.port.now())?;
                let body = self
                    .bodies
                    .borrow_ref_mut(cs)
                    .get_mut(dispatch.job.task.index())
                    .and_then(Option::take);
                Some((dispatch, body))
            });
            let Some((dispatch, mut body)) = next else {
                return;
            };
            if let Some(task) = body.as_deref_mut() {
                let mut cx = Context::new(self, dispatch.job);
                self.port.preemptible(&mut || task.run(&mut cx));
            }
            critical_section::with(|cs| {
                if let Some(slot) = self
                    .bodies
                    .borrow_ref_mut(cs)
                    .get_mut(dispatch.job.task.index())
                {
                    *slot = body;
                }
                self.scheduler
                    .borrow_ref_mut(cs)
                    .finish(dispatch, self.port.now());
            });
        }
    }

    /// Whether no job is ready or running.
    pub fn is_quiet(&self) -> bool {
        critical_section::with(|cs| self.scheduler.borrow_ref(cs).is_quiet())
    }

    /// Clears the statistics.
    pub fn reset_stats(&self) {
        critical_section::with(|cs| self.scheduler.borrow_ref_mut(cs).reset_stats());
    }

    /// A copy of the scheduler's state, for reports (taken in one critical section, so the
    /// figures are consistent with each other).
    pub fn snapshot(&self) -> Scheduler {
        critical_section::with(|cs| self.scheduler.borrow_ref(cs).clone())
    }
}

impl<P: Port> Services for Kernel<P> {
    fn now(&self) -> Instant {
        self.port.now()
    }

    fn frequency(&self) -> Frequency {
        self.port.frequency()
    }

    fn activate(&self, task: TaskId) {
        let in_isr = critical_section::with(|cs| {
            self.scheduler
                .borrow_ref_mut(cs)
                .activate(task, self.port.now());
            self.isr_depth.borrow(cs).get() > 0
        });
        if !in_isr {
            self.dispatch();
        }
    }
}

#[cfg(test)]
mod tests;
