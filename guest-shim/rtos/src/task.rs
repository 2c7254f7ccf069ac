//! Tasks: what they are (priority, how they are activated, their deadline) and the trait their
//! code implements.
#![forbid(unsafe_code)]

use crate::context::Context;
use crate::time::Duration;

/// Identifies a task: its index in spawn order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(pub(crate) u8);

impl TaskId {
    /// The id of the task spawned `index`-th (the kernel hands ids out at spawn; this is for
    /// tests and tools that name a task by its position).
    pub const fn from_index(index: u8) -> TaskId {
        TaskId(index)
    }

    /// The task's index in spawn order.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

impl defmt::Format for TaskId {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "task{=u8}", self.0)
    }
}

/// A task's priority: 1 (least urgent) to [`Priority::MAX`] (most urgent). Level 0 is the main
/// loop's (idle) level, which every task preempts.
///
/// # Invariants
/// The level is at most [`Priority::MAX`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Priority(u8);

impl Priority {
    /// The main loop's level.
    pub const IDLE: Priority = Priority(0);
    /// The most urgent level.
    pub const MAX: Priority = Priority(31);

    /// The priority `level`; `None` above [`Priority::MAX`].
    pub const fn new(level: u8) -> Option<Priority> {
        if level <= Self::MAX.0 {
            Some(Priority(level))
        } else {
            None
        }
    }

    /// The numeric level (higher is more urgent).
    pub const fn level(self) -> u8 {
        self.0
    }
}

/// What makes a task's job ready to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// A job every `period`, the first `offset` after the kernel starts its periodic tasks.
    Periodic {
        /// Time between releases.
        period: Duration,
        /// Time from the start to the first release.
        offset: Duration,
    },
    /// A job whenever another task or an interrupt activates it (a message arrived, a device
    /// needs service).
    Event,
}

/// A task's static description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskConfig {
    /// Its name in reports.
    pub name: &'static str,
    /// Its fixed priority; no two tasks share one.
    pub priority: Priority,
    /// How its jobs are released.
    pub activation: Activation,
    /// Each job must finish within this time of its release.
    pub deadline: Duration,
}

impl TaskConfig {
    /// A periodic task whose deadline is its period (the next release).
    pub const fn periodic(name: &'static str, priority: Priority, period: Duration) -> Self {
        TaskConfig {
            name,
            priority,
            activation: Activation::Periodic {
                period,
                offset: Duration(0),
            },
            deadline: period,
        }
    }

    /// An event-driven task whose jobs must finish within `deadline` of their activation.
    pub const fn event(name: &'static str, priority: Priority, deadline: Duration) -> Self {
        TaskConfig {
            name,
            priority,
            activation: Activation::Event,
            deadline,
        }
    }

    /// The same task with a constrained deadline (shorter than its period).
    pub const fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The same periodic task with its first release `offset` after the start.
    pub const fn with_offset(mut self, offset: Duration) -> Self {
        if let Activation::Periodic { period, .. } = self.activation {
            self.activation = Activation::Periodic { period, offset };
        }
        self
    }
}

/// The code of a task: one call of [`Task::run`] per job, run to completion (preempted only by
/// more urgent tasks and interrupts).
pub trait Task {
    /// Runs one job.
    fn run(&mut self, cx: &mut Context<'_>);
}
