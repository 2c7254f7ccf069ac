//! `supervisor`: every 100 ms, powers a (simulated) sensor up and waits for it to settle with
//! `DelayNs`, and once a second logs the health of the sample queue with defmt.
#![forbid(unsafe_code)]

use embedded_hal::delay::DelayNs;
use rtos::{Context, Task};

use super::Samples;

/// How long the sensor needs to settle, microseconds.
pub const SETTLE_US: u32 = 20;

/// The supervisor's state.
pub struct Supervisor<D> {
    delay: D,
    samples: &'static Samples,
    /// Jobs run.
    pub jobs: u64,
}

impl<D: DelayNs> Supervisor<D> {
    /// A supervisor waiting with `delay` and watching `samples`.
    pub fn new(delay: D, samples: &'static Samples) -> Self {
        Supervisor {
            delay,
            samples,
            jobs: 0,
        }
    }
}

impl<D: DelayNs> Task for Supervisor<D> {
    fn run(&mut self, cx: &mut Context<'_>) {
        self.delay.delay_us(SETTLE_US);
        self.jobs += 1;
        if self.jobs.is_multiple_of(10) {
            let stats = self.samples.stats();
            defmt::info!(
                "supervisor: job {=u64} at {=u64} ticks, samples sent {=u64}, queue high-water {=usize}",
                self.jobs,
                cx.now().0,
                stats.sent,
                stats.high_water
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::fake;
    use embedded_hal_mock::eh1::delay::{CheckedDelay, Transaction};

    #[test]
    fn each_job_waits_for_the_sensor_to_settle() {
        let samples: &'static Samples = Box::leak(Box::default());
        let delay = CheckedDelay::new(&[
            Transaction::delay_us(SETTLE_US),
            Transaction::delay_us(SETTLE_US),
        ]);
        let mut supervisor = Supervisor::new(delay, samples);
        let services = fake::Services;
        supervisor.run(&mut fake::context(&services, 0));
        supervisor.run(&mut fake::context(&services, 1));
        assert_eq!(supervisor.jobs, 2);
        supervisor.delay.done();
    }
}
