//! `watchdog`: every 100 ms, refreshes the partition's SBSA generic watchdog; with
//! `watchdog-pets=N` it stops after N refreshes (a stuck partition, for scenario
//! `partition_watchdog`), so the watchdog's second signal must restart the partition.
#![forbid(unsafe_code)]

use rtos::{Context, Task};

/// What the task refreshes (the SBSA watchdog on the board, a fake in tests).
pub trait Refresh {
    /// One explicit refresh.
    fn refresh(&mut self);
}

impl Refresh for guest_shim::watchdog::SbsaWatchdog {
    fn refresh(&mut self) {
        guest_shim::watchdog::SbsaWatchdog::refresh(self);
    }
}

/// The petting task's state.
pub struct Petter<W> {
    watchdog: W,
    /// Refreshes to make before stopping (`None`: for ever).
    limit: Option<u64>,
    /// Refreshes made.
    pub pets: u64,
    /// Whether it has stopped (and said so).
    pub stopped: bool,
}

impl<W: Refresh> Petter<W> {
    /// A task refreshing `watchdog`, `limit` times or for ever.
    pub fn new(watchdog: W, limit: Option<u64>) -> Self {
        Petter {
            watchdog,
            limit,
            pets: 0,
            stopped: false,
        }
    }
}

impl<W: Refresh> Task for Petter<W> {
    fn run(&mut self, cx: &mut Context<'_>) {
        if self.limit.is_some_and(|limit| self.pets >= limit) {
            if !self.stopped {
                self.stopped = true;
                rtos::println!(
                    "HIL:RTOS watchdog stops petting pets={} at={}",
                    self.pets,
                    cx.now().0
                );
            }
            return;
        }
        self.watchdog.refresh();
        self.pets += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::fake;

    #[derive(Default)]
    struct Counted(u64);

    impl Refresh for Counted {
        fn refresh(&mut self) {
            self.0 += 1;
        }
    }

    fn run(task: &mut Petter<Counted>, jobs: u64) {
        let services = fake::Services;
        for job in 0..jobs {
            task.run(&mut fake::context(&services, job));
        }
    }

    #[test]
    fn it_refreshes_on_every_job_for_ever_without_a_limit() {
        let mut task = Petter::new(Counted::default(), None);
        run(&mut task, 1000);
        assert_eq!((task.watchdog.0, task.stopped), (1000, false));
    }

    #[test]
    fn with_a_limit_it_stops_refreshing_after_that_many() {
        let mut task = Petter::new(Counted::default(), Some(3));
        run(&mut task, 10);
        assert_eq!((task.watchdog.0, task.pets, task.stopped), (3, 3, true));
    }
}
