//! What a running job sees of the kernel: the time, its own release and deadline, and the
//! activation of other tasks.
#![forbid(unsafe_code)]

use crate::task::TaskId;
use crate::time::{Frequency, Instant};

/// The job being run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Job {
    /// Whose job it is.
    pub task: TaskId,
    /// How many jobs of this task were started before this one (since the statistics were
    /// last reset).
    pub number: u64,
    /// When it was released: the nominal release instant of a periodic job (not the time
    /// the timer interrupt was taken), the activation time of an event job.
    pub release: Instant,
    /// When it must be finished.
    pub deadline: Instant,
}

/// The kernel services a job may call.
pub trait Services {
    /// The current time.
    fn now(&self) -> Instant;
    /// The counter frequency.
    fn frequency(&self) -> Frequency;
    /// Activates event task `task`; if it is more urgent than the caller it runs before this
    /// call returns.
    fn activate(&self, task: TaskId);
}

/// A job's handle on the kernel, passed to [`crate::task::Task::run`].
pub struct Context<'k> {
    services: &'k dyn Services,
    job: Job,
}

impl<'k> Context<'k> {
    /// A context for `job` backed by `services`: the kernel makes these; tests make their own
    /// to run a task's code outside the kernel.
    pub fn new(services: &'k dyn Services, job: Job) -> Self {
        Context { services, job }
    }

    /// The job being run.
    pub fn job(&self) -> Job {
        self.job
    }

    /// The current time.
    pub fn now(&self) -> Instant {
        self.services.now()
    }

    /// The counter frequency.
    pub fn frequency(&self) -> Frequency {
        self.services.frequency()
    }

    /// Activates event task `task` (see [`Services::activate`]).
    pub fn activate(&self, task: TaskId) {
        self.services.activate(task)
    }
}
