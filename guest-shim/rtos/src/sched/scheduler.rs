//! The scheduler: each task's job state, the ready set, the running priority and the
//! statistics.
//!
//! Jobs run to completion on one stack (a "stack resource policy" kernel): a job starts only if
//! its task is more urgent than the running one, and then runs to its end before the preempted
//! job continues. So a task never runs twice at once, and the running priority is a stack.
#![forbid(unsafe_code)]

use crate::context::Job;
use crate::stats::{MissKind, MissLog, MissRecord, Series, TaskStats};
use crate::task::{Activation, Priority, TaskConfig, TaskId};
use crate::time::{Duration, Instant};

use super::ready::ReadySet;

/// The most tasks one kernel runs.
pub const MAX_TASKS: usize = 16;

/// Why a task cannot be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpawnError {
    /// Already [`MAX_TASKS`] tasks.
    TooManyTasks,
    /// Another task has this priority.
    PriorityTaken {
        /// The priority asked for.
        priority: Priority,
        /// The task that has it.
        by: &'static str,
    },
    /// Level 0 belongs to the main loop.
    IdlePriority,
    /// A periodic task with a zero period.
    ZeroPeriod,
    /// A deadline of zero, or longer than the period (at most one job per task is pending).
    BadDeadline,
}

/// A job that was released and not yet finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pending {
    release: Instant,
    deadline: Instant,
    /// When the timer interrupt that released it was taken (periodic jobs).
    irq_entry: Option<Instant>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JobState {
    Idle,
    Ready(Pending),
    /// Started at the instant; an event activation while running is kept for afterwards.
    Running(Pending, Instant, Option<Instant>),
}

#[derive(Clone, Debug)]
struct TaskControl {
    config: TaskConfig,
    state: JobState,
    next_release: Option<Instant>,
    jobs_started: u64,
    stats: TaskStats,
}

/// A job the kernel is to run now, and what to restore when it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dispatch {
    /// The job.
    pub job: Job,
    previous: Priority,
}

/// The scheduler's state (see the module documentation).
#[derive(Clone, Debug)]
pub struct Scheduler {
    tasks: heapless::Vec<TaskControl, MAX_TASKS>,
    by_priority: [Option<TaskId>; 32],
    ready: ReadySet,
    running: Priority,
    misses: MissLog,
    timer: Series,
    wakeup: Option<Instant>,
    /// No periodic release at or after this instant.
    horizon: Option<Instant>,
}

impl Default for Scheduler {
    fn default() -> Self {
        Scheduler::new()
    }
}

impl Scheduler {
    /// A scheduler with no tasks, running at the idle level.
    pub const fn new() -> Self {
        Scheduler {
            tasks: heapless::Vec::new(),
            by_priority: [None; 32],
            ready: ReadySet::new(),
            running: Priority::IDLE,
            misses: MissLog::new(),
            timer: Series::new(),
            wakeup: None,
            horizon: None,
        }
    }

    /// Adds a task; its periodic releases begin at the next [`Scheduler::start_periodic`].
    pub fn add(&mut self, config: TaskConfig) -> Result<TaskId, SpawnError> {
        if config.priority == Priority::IDLE {
            return Err(SpawnError::IdlePriority);
        }
        let slot = usize::from(config.priority.level());
        if let Some(Some(other)) = self.by_priority.get(slot) {
            let by = self.tasks.get(other.index()).map_or("?", |t| t.config.name);
            return Err(SpawnError::PriorityTaken {
                priority: config.priority,
                by,
            });
        }
        match config.activation {
            Activation::Periodic {
                period: Duration(0),
                ..
            } => return Err(SpawnError::ZeroPeriod),
            Activation::Periodic { period, .. } if config.deadline > period => {
                return Err(SpawnError::BadDeadline)
            }
            _ if config.deadline == Duration(0) => return Err(SpawnError::BadDeadline),
            _ => {}
        }
        let id = TaskId(u8::try_from(self.tasks.len()).map_err(|_| SpawnError::TooManyTasks)?);
        self.tasks
            .push(TaskControl {
                config,
                state: JobState::Idle,
                next_release: None,
                jobs_started: 0,
                stats: TaskStats::default(),
            })
            .map_err(|_| SpawnError::TooManyTasks)?;
        if let Some(entry) = self.by_priority.get_mut(slot) {
            *entry = Some(id);
        }
        Ok(id)
    }

    /// Schedules every periodic task's first release at `start` plus its offset, and no
    /// release at or after `until` (if given).
    pub fn start_periodic(&mut self, start: Instant, until: Option<Instant>) {
        self.horizon = until;
        for task in &mut self.tasks {
            if let Activation::Periodic { offset, .. } = task.config.activation {
                task.next_release = Some(start + offset);
            }
        }
    }

    /// Stops all periodic releases (jobs already released still run).
    pub fn stop_periodic(&mut self) {
        for task in &mut self.tasks {
            task.next_release = None;
        }
    }

    /// Asks the timer to also fire at `at` (to wake the main loop), or cancels that.
    pub fn set_wakeup(&mut self, at: Option<Instant>) {
        self.wakeup = at;
    }

    /// When the timer must next fire: the earliest periodic release or main-loop wake-up.
    pub fn next_alarm(&self) -> Option<Instant> {
        self.tasks
            .iter()
            .filter_map(|t| t.next_release)
            .filter(|&r| self.horizon.is_none_or(|h| r < h))
            .chain(self.wakeup)
            .min()
    }

    /// The timer fired (`alarm` is what it was set to) and its interrupt was taken at
    /// `irq_entry`; `now` is the time after acknowledging it. Releases every due periodic job.
    pub fn on_alarm(&mut self, alarm: Option<Instant>, irq_entry: Instant, now: Instant) {
        if let Some(alarm) = alarm.filter(|&a| a <= irq_entry) {
            self.timer.add(irq_entry.saturating_since(alarm));
        }
        if self.wakeup.is_some_and(|w| w <= now) {
            self.wakeup = None;
        }
        for index in 0..self.tasks.len() {
            self.release_due(index, irq_entry, now.min(self.horizon_edge()));
        }
    }

    /// The last instant at which a release may be made.
    fn horizon_edge(&self) -> Instant {
        self.horizon
            .map_or(Instant(u64::MAX), |h| Instant(h.0.saturating_sub(1)))
    }

    fn release_due(&mut self, index: usize, irq_entry: Instant, now: Instant) {
        let Some(task) = self.tasks.get_mut(index) else {
            return;
        };
        let Activation::Periodic { period, .. } = task.config.activation else {
            return;
        };
        let id = TaskId(index as u8);
        while let Some(release) = task.next_release.filter(|&r| r <= now) {
            let next = release + period;
            task.next_release = Some(next);
            task.stats.releases = task.stats.releases.saturating_add(1);
            let irq_delay = Some(irq_entry.saturating_since(release));
            let kind = if next <= now {
                task.stats.skipped = task.stats.skipped.saturating_add(1);
                MissKind::Skipped
            } else if task.state != JobState::Idle {
                task.stats.dropped = task.stats.dropped.saturating_add(1);
                MissKind::Dropped
            } else {
                task.state = JobState::Ready(Pending {
                    release,
                    deadline: release + task.config.deadline,
                    irq_entry: Some(irq_entry),
                });
                self.ready.insert(task.config.priority);
                continue;
            };
            task.stats.misses = task.stats.misses.saturating_add(1);
            self.misses.push(MissRecord {
                task: id,
                kind,
                release,
                irq_delay,
                start_delay: None,
                response: None,
            });
        }
    }

    /// Activates event task `task` at `now`. Returns `false` (and does nothing) for an unknown
    /// or periodic task.
    pub fn activate(&mut self, task: TaskId, now: Instant) -> bool {
        let Some(control) = self.tasks.get_mut(task.index()) else {
            return false;
        };
        if control.config.activation != Activation::Event {
            return false;
        }
        control.stats.releases = control.stats.releases.saturating_add(1);
        let pending = Pending {
            release: now,
            deadline: now + control.config.deadline,
            irq_entry: None,
        };
        match &mut control.state {
            JobState::Idle => {
                control.state = JobState::Ready(pending);
                self.ready.insert(control.config.priority);
            }
            JobState::Ready(_) => control.stats.merged = control.stats.merged.saturating_add(1),
            JobState::Running(_, _, again @ None) => *again = Some(now),
            JobState::Running(_, _, Some(_)) => {
                control.stats.merged = control.stats.merged.saturating_add(1)
            }
        }
        true
    }

    /// Starts the most urgent ready job if it is more urgent than the running one.
    pub fn start_next(&mut self, now: Instant) -> Option<Dispatch> {
        let priority = self.ready.highest_above(self.running)?;
        let id = (*self.by_priority.get(usize::from(priority.level()))?)?;
        let task = self.tasks.get_mut(id.index())?;
        let JobState::Ready(pending) = task.state else {
            self.ready.remove(priority);
            return None;
        };
        self.ready.remove(priority);
        task.state = JobState::Running(pending, now, None);
        task.stats
            .latency
            .add(now.saturating_since(pending.release));
        let job = Job {
            task: id,
            number: task.jobs_started,
            release: pending.release,
            deadline: pending.deadline,
        };
        task.jobs_started = task.jobs_started.saturating_add(1);
        let previous = core::mem::replace(&mut self.running, priority);
        Some(Dispatch { job, previous })
    }

    /// The job of `dispatch` ended at `now`: records its response time and whether it met its
    /// deadline, and restores the preempted priority.
    pub fn finish(&mut self, dispatch: Dispatch, now: Instant) {
        self.running = dispatch.previous;
        let Some(task) = self.tasks.get_mut(dispatch.job.task.index()) else {
            return;
        };
        let JobState::Running(pending, started, again) = task.state else {
            return;
        };
        let response = now.saturating_since(pending.release);
        task.stats.completed = task.stats.completed.saturating_add(1);
        task.stats.response.add(response);
        if now > pending.deadline {
            task.stats.late = task.stats.late.saturating_add(1);
            task.stats.misses = task.stats.misses.saturating_add(1);
            self.misses.push(MissRecord {
                task: dispatch.job.task,
                kind: MissKind::Late,
                release: pending.release,
                irq_delay: pending
                    .irq_entry
                    .map(|e| e.saturating_since(pending.release)),
                start_delay: Some(started.saturating_since(pending.release)),
                response: Some(response),
            });
        }
        task.state = match again {
            Some(at) => {
                self.ready.insert(task.config.priority);
                JobState::Ready(Pending {
                    release: at,
                    deadline: at + task.config.deadline,
                    irq_entry: None,
                })
            }
            None => JobState::Idle,
        };
    }

    /// Whether no job is ready or running.
    pub fn is_quiet(&self) -> bool {
        self.tasks.iter().all(|t| t.state == JobState::Idle)
    }

    /// Clears every statistic and the miss log.
    pub fn reset_stats(&mut self) {
        for task in &mut self.tasks {
            task.stats = TaskStats::default();
            task.jobs_started = 0;
        }
        self.misses.clear();
        self.timer = Series::new();
    }

    /// The number of tasks.
    pub fn task_count(&self) -> usize {
        self.tasks.len()
    }

    /// The configuration of `task`.
    pub fn config(&self, task: TaskId) -> Option<&TaskConfig> {
        self.tasks.get(task.index()).map(|t| &t.config)
    }

    /// The statistics of `task`.
    pub fn stats(&self, task: TaskId) -> Option<&TaskStats> {
        self.tasks.get(task.index()).map(|t| &t.stats)
    }

    /// The detailed log of misses.
    pub fn misses(&self) -> &MissLog {
        &self.misses
    }

    /// From each timer deadline to the first instruction of its interrupt vector.
    pub fn timer_entry(&self) -> &Series {
        &self.timer
    }

    /// The running priority.
    pub fn running(&self) -> Priority {
        self.running
    }
}
