//! `filter`: every 10 ms, drains the samples `control` queued, summarises them for `reporter`
//! and toggles the heartbeat LED.
#![forbid(unsafe_code)]

use embedded_hal::digital::StatefulOutputPin;
use rtos::{Context, Task};

use super::{Samples, Summaries, Summary};

/// The filter's state.
pub struct Filter<L> {
    led: L,
    samples: &'static Samples,
    summaries: &'static Summaries,
    /// Summaries `reporter` did not take in time.
    pub lost: u64,
}

impl<L: StatefulOutputPin> Filter<L> {
    /// A filter reading `samples`, writing `summaries` and blinking `led`.
    pub fn new(led: L, samples: &'static Samples, summaries: &'static Summaries) -> Self {
        Filter {
            led,
            samples,
            summaries,
            lost: 0,
        }
    }
}

impl<L: StatefulOutputPin> Task for Filter<L> {
    fn run(&mut self, cx: &mut Context<'_>) {
        let (mut count, mut sum, mut min, mut max) = (0u32, 0i64, i32::MAX, i32::MIN);
        while let Some(sample) = self.samples.try_recv() {
            count += 1;
            sum += i64::from(sample.value);
            min = min.min(sample.value);
            max = max.max(sample.value);
        }
        let _ = self.led.toggle();
        if count == 0 {
            return;
        }
        let summary = Summary {
            job: cx.job().number,
            count,
            mean: (sum / i64::from(count)) as i32,
            min,
            max,
        };
        if self.summaries.send(cx, summary).is_err() {
            self.lost += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::{fake, Sample};
    use embedded_hal_mock::eh1::digital::{Mock, Transaction};
    use rtos::Instant;

    #[test]
    fn a_period_of_samples_becomes_one_summary_and_the_led_toggles() {
        let samples: &'static Samples = Box::leak(Box::default());
        let summaries: &'static Summaries = Box::leak(Box::default());
        let led = Mock::new(&[Transaction::toggle(), Transaction::toggle()]);
        let mut filter = Filter::new(led, samples, summaries);
        let services = fake::Services;
        let cx = fake::context(&services, 0);
        for value in [10, 20, 60] {
            samples
                .send(
                    &cx,
                    Sample {
                        at: Instant(0),
                        value,
                    },
                )
                .unwrap();
        }
        filter.run(&mut fake::context(&services, 4));
        assert_eq!(
            summaries.try_recv(),
            Some(Summary {
                job: 4,
                count: 3,
                mean: 30,
                min: 10,
                max: 60
            })
        );
        filter.run(&mut fake::context(&services, 5));
        assert_eq!(summaries.try_recv(), None, "no samples, no summary");
        filter.led.done();
    }
}
