//! A partition's restart history: how often it restarted, why it last stopped, and the
//! sliding window its `max-restarts` limit (`docs/configuration.md`) is checked over.
//!
//! The window keeps the counter value of each of the last `count` restarts in a ring: a new
//! restart is allowed when fewer than `count` are recorded, or when the oldest of them is at
//! least one window old. That is exact ("at most `count` restarts in any window"), not the
//! burst a fixed window allows at its boundary.

use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use bulkhead_config::model::{RestartLimit, MAX_RESTART_COUNT};

use super::StopReason;

/// The most restart times a window keeps ([`MAX_RESTART_COUNT`] of the configuration).
const RING: usize = MAX_RESTART_COUNT as usize;

/// The counter values of the last restarts, for one limit (plain data, host-tested).
#[derive(Clone, Copy, Debug)]
pub struct RestartWindow {
    times: [u64; RING],
    /// How many of `times` are recorded (at most the limit's count).
    recorded: usize,
    /// Where the next time goes (the oldest once the ring is full).
    next: usize,
}

impl Default for RestartWindow {
    fn default() -> Self {
        Self::new()
    }
}

impl RestartWindow {
    /// No restart recorded.
    pub const fn new() -> Self {
        RestartWindow {
            times: [0; RING],
            recorded: 0,
            next: 0,
        }
    }

    /// Whether a restart at counter value `now` stays within `limit` (`ticks_per_second` of the
    /// generic counter); if it does, it is recorded.
    pub fn try_record(&mut self, limit: RestartLimit, now: u64, ticks_per_second: u64) -> bool {
        let count = (limit.count as usize).clamp(1, RING);
        let window = u64::from(limit.seconds).saturating_mul(ticks_per_second);
        if self.recorded >= count {
            // The ring holds the last `count` restarts; `next` is the oldest of them.
            let oldest = self.times.get(self.next).copied().unwrap_or(0);
            if now.saturating_sub(oldest) < window {
                return false;
            }
        } else {
            self.recorded += 1;
        }
        if let Some(slot) = self.times.get_mut(self.next) {
            *slot = now;
        }
        self.next = (self.next + 1) % count;
        true
    }

    /// Forgets every restart (a partition started again by management begins afresh).
    pub fn clear(&mut self) {
        *self = RestartWindow::new();
    }
}

/// A partition's restart history, shared by its vCPUs and the management calls.
#[derive(Debug, Default)]
pub struct RestartLog {
    restarts: AtomicU64,
    last_reason: AtomicU8,
    window: spin::Mutex<RestartWindow>,
    /// The counter value when the current stop began (for the restart time).
    stop_began: AtomicU64,
    /// Held while the partition stops, restarts or starts (one transition at a time).
    transition: spin::Mutex<()>,
}

impl RestartLog {
    /// An empty history.
    pub const fn new() -> Self {
        RestartLog {
            restarts: AtomicU64::new(0),
            last_reason: AtomicU8::new(0),
            window: spin::Mutex::new(RestartWindow::new()),
            stop_began: AtomicU64::new(0),
            transition: spin::Mutex::new(()),
        }
    }

    /// Claims the partition for one stop, restart or start: whoever holds the guard may change
    /// its memory, interrupts and vCPUs' power; the others wait.
    pub fn transition(&self) -> spin::MutexGuard<'_, ()> {
        self.transition.lock()
    }

    /// Restarts since boot.
    pub fn count(&self) -> u64 {
        self.restarts.load(Ordering::Relaxed)
    }

    /// The reason of the last stop or restart (`bulkhead_abi::mgmt::REASON_*`).
    pub fn last_reason(&self) -> u32 {
        u32::from(self.last_reason.load(Ordering::Relaxed))
    }

    /// Records why the partition stopped, at counter value `now`.
    pub fn stopped(&self, reason: StopReason, now: u64) {
        self.last_reason
            .store(reason.abi_code() as u8, Ordering::Relaxed);
        self.stop_began.store(now, Ordering::Relaxed);
    }

    /// Whether a restart now (`now`, at `ticks_per_second`) is within `limit` (`None`: always).
    pub fn allow_restart(
        &self,
        limit: Option<RestartLimit>,
        now: u64,
        ticks_per_second: u64,
    ) -> bool {
        match limit {
            None => true,
            Some(limit) => self.window.lock().try_record(limit, now, ticks_per_second),
        }
    }

    /// Counts one restart; returns the new count and the ticks since the stop began.
    pub fn restarted(&self, now: u64) -> (u64, u64) {
        let count = self
            .restarts
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(1);
        let took = now.saturating_sub(self.stop_began.load(Ordering::Relaxed));
        (count, took)
    }

    /// Forgets the rate window (the restart count stays).
    pub fn clear_window(&self) {
        self.window.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HZ: u64 = 1000;

    fn limit(count: u32, seconds: u32) -> RestartLimit {
        RestartLimit { count, seconds }
    }

    #[test]
    fn allows_count_restarts_per_sliding_window() {
        let mut w = RestartWindow::new();
        let l = limit(3, 60);
        assert!(w.try_record(l, 0, HZ));
        assert!(w.try_record(l, 10_000, HZ));
        assert!(w.try_record(l, 20_000, HZ));
        assert!(
            !w.try_record(l, 59_999, HZ),
            "a fourth within 60 s of the first"
        );
        // 60 s after the first, one more is allowed; a refused one is not recorded.
        assert!(w.try_record(l, 60_000, HZ));
        assert!(!w.try_record(l, 69_999, HZ), "within 60 s of the second");
        assert!(w.try_record(l, 70_000, HZ));
        assert!(w.try_record(l, 80_000, HZ));
        assert!(!w.try_record(l, 80_001, HZ));
    }

    #[test]
    fn a_limit_of_one_and_the_largest_count_work() {
        let mut w = RestartWindow::new();
        assert!(w.try_record(limit(1, 1), 5, HZ));
        assert!(!w.try_record(limit(1, 1), 1004, HZ));
        assert!(w.try_record(limit(1, 1), 1005, HZ));
        let mut w = RestartWindow::new();
        for n in 0..32 {
            assert!(w.try_record(limit(32, 1), n, HZ), "{n}");
        }
        assert!(!w.try_record(limit(32, 1), 999, HZ));
        assert!(w.try_record(limit(32, 1), 1000, HZ));
    }

    #[test]
    fn huge_windows_and_counters_do_not_overflow() {
        let mut w = RestartWindow::new();
        let l = limit(1, 86_400);
        assert!(w.try_record(l, u64::MAX - 1, u64::MAX));
        assert!(!w.try_record(l, u64::MAX, u64::MAX));
        assert!(
            !w.try_record(l, 0, u64::MAX),
            "a counter going backwards is no restart credit"
        );
    }

    #[test]
    fn the_log_counts_restarts_and_clears_its_window() {
        let log = RestartLog::new();
        let l = Some(limit(1, 60));
        log.stopped(StopReason::Fault, 100);
        assert!(log.allow_restart(l, 100, HZ));
        assert_eq!(log.restarted(150), (1, 50));
        assert!(!log.allow_restart(l, 200, HZ));
        log.clear_window();
        assert!(log.allow_restart(l, 200, HZ));
        assert!(log.allow_restart(None, 200, HZ));
        assert_eq!(log.count(), 1);
        assert_eq!(log.last_reason(), bulkhead_abi::mgmt::REASON_FAULT);
    }
}
