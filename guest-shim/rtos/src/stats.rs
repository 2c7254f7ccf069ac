//! Per-task statistics: releases, completed jobs, deadline misses and the spread of latency and
//! response time, plus a log of the most recent misses with where their time went.
#![forbid(unsafe_code)]

use crate::task::TaskId;
use crate::time::{Duration, Instant};

/// Minimum, maximum and sum of a series of durations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Series {
    /// Number of samples.
    pub n: u64,
    /// Smallest sample (ticks); `u64::MAX` while empty.
    pub min: u64,
    /// Largest sample (ticks).
    pub max: u64,
    /// Sum of the samples (ticks), for the average.
    pub sum: u128,
}

impl Default for Series {
    fn default() -> Self {
        Series::new()
    }
}

impl Series {
    /// An empty series.
    pub const fn new() -> Self {
        Series {
            n: 0,
            min: u64::MAX,
            max: 0,
            sum: 0,
        }
    }

    /// Adds one sample.
    pub fn add(&mut self, sample: Duration) {
        self.n = self.n.saturating_add(1);
        self.min = self.min.min(sample.0);
        self.max = self.max.max(sample.0);
        self.sum = self.sum.saturating_add(u128::from(sample.0));
    }

    /// The smallest sample, or 0 if there is none.
    pub fn min_or_zero(&self) -> u64 {
        if self.n == 0 {
            0
        } else {
            self.min
        }
    }

    /// The average in hundredths of a tick (19012 is 190.12), rounded to nearest.
    pub fn avg_hundredths(&self) -> u64 {
        if self.n == 0 {
            return 0;
        }
        let n = u128::from(self.n);
        u64::try_from((self.sum * 100 + n / 2) / n).unwrap_or(u64::MAX)
    }
}

/// What one task did since its statistics were last reset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TaskStats {
    /// Jobs that became due: periodic releases, or event activations (merged ones included).
    pub releases: u64,
    /// Jobs that ran to completion.
    pub completed: u64,
    /// Deadline misses: `late + dropped + skipped`.
    pub misses: u64,
    /// Jobs that finished after their deadline.
    pub late: u64,
    /// Periodic releases that found the previous job still unfinished (that job is late; the
    /// new one is not run).
    pub dropped: u64,
    /// Periodic releases whose whole deadline had passed before the timer interrupt that
    /// should have released them was taken.
    pub skipped: u64,
    /// Event activations that found a job already pending (it serves both).
    pub merged: u64,
    /// Release to start of the job.
    pub latency: Series,
    /// Release to completion of the job.
    pub response: Series,
}

/// Why a deadline was missed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissKind {
    /// The job finished after its deadline.
    Late,
    /// The release came while the previous job was unfinished.
    Dropped,
    /// The release's deadline had passed before the timer interrupt was taken.
    Skipped,
}

impl MissKind {
    /// The kind's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            MissKind::Late => "late",
            MissKind::Dropped => "dropped",
            MissKind::Skipped => "skipped",
        }
    }
}

/// One missed deadline and where the job's time went, for attributing it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MissRecord {
    /// The task.
    pub task: TaskId,
    /// Why.
    pub kind: MissKind,
    /// The job's nominal release.
    pub release: Instant,
    /// From the release to the first instruction of the timer interrupt's vector that released
    /// it (periodic jobs): time this vCPU could not run the RTOS at all.
    pub irq_delay: Option<Duration>,
    /// From the release to the job's start (`None` if it never started).
    pub start_delay: Option<Duration>,
    /// From the release to the job's end (`None` if it never finished).
    pub response: Option<Duration>,
}

/// The first misses since the last reset (the rest are only counted).
#[derive(Clone, Debug, Default)]
pub struct MissLog {
    records: heapless::Vec<MissRecord, { MissLog::CAPACITY }>,
    /// Misses not recorded because the log was full.
    pub overflow: u64,
}

impl MissLog {
    /// How many misses are kept in detail.
    pub const CAPACITY: usize = 32;

    /// An empty log.
    pub const fn new() -> Self {
        MissLog {
            records: heapless::Vec::new(),
            overflow: 0,
        }
    }

    /// Records `miss`, or counts it if the log is full.
    pub fn push(&mut self, miss: MissRecord) {
        if self.records.push(miss).is_err() {
            self.overflow = self.overflow.saturating_add(1);
        }
    }

    /// The recorded misses, oldest first.
    pub fn records(&self) -> &[MissRecord] {
        &self.records
    }

    /// Empties the log.
    pub fn clear(&mut self) {
        self.records.clear();
        self.overflow = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_tracks_min_max_and_a_rounded_average() {
        let mut s = Series::new();
        assert_eq!((s.min_or_zero(), s.avg_hundredths()), (0, 0));
        for t in [190, 191, 191] {
            s.add(Duration(t));
        }
        assert_eq!((s.n, s.min, s.max), (3, 190, 191));
        assert_eq!(s.avg_hundredths(), 19_067);
    }

    #[test]
    fn miss_log_keeps_the_first_misses_and_counts_the_rest() {
        let mut log = MissLog::new();
        let miss = MissRecord {
            task: TaskId(0),
            kind: MissKind::Late,
            release: Instant(0),
            irq_delay: None,
            start_delay: None,
            response: None,
        };
        for _ in 0..MissLog::CAPACITY + 3 {
            log.push(miss);
        }
        assert_eq!(log.records().len(), MissLog::CAPACITY);
        assert_eq!(log.overflow, 3);
    }
}
