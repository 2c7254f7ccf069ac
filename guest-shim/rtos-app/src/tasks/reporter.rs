//! `reporter`: activated by every summary; every `every`-th one it prints a plain line through
//! its `embedded_io::Write` device and logs it with defmt.
#![forbid(unsafe_code)]

use rtos::{Context, Task};

use super::Summaries;

/// The reporter's state.
pub struct Reporter<W> {
    out: W,
    summaries: &'static Summaries,
    every: u64,
    /// Summaries received.
    pub received: u64,
}

impl<W: embedded_io::Write> Reporter<W> {
    /// A reporter printing every `every`-th summary from `summaries` to `out`.
    pub fn new(out: W, summaries: &'static Summaries, every: u64) -> Self {
        Reporter {
            out,
            summaries,
            every: every.max(1),
            received: 0,
        }
    }
}

impl<W: embedded_io::Write> Task for Reporter<W> {
    fn run(&mut self, _cx: &mut Context<'_>) {
        while let Some(s) = self.summaries.try_recv() {
            self.received += 1;
            if !self.received.is_multiple_of(self.every) {
                continue;
            }
            let _ = writeln!(
                self.out,
                "HIL:RTOS summary n={} samples={} mean={} min={} max={}",
                self.received, s.count, s.mean, s.min, s.max
            );
            defmt::info!(
                "summary {=u64}: {=u32} samples, mean {=i32} (min {=i32}, max {=i32})",
                self.received,
                s.count,
                s.mean,
                s.min,
                s.max
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::{fake, Summary};

    #[test]
    fn every_nth_summary_is_printed() {
        let summaries: &'static Summaries = Box::leak(Box::default());
        let mut reporter = Reporter::new(Vec::new(), summaries, 2);
        let services = fake::Services;
        for job in 0..3 {
            let summary = Summary {
                job,
                count: 10,
                mean: job as i32,
                min: -1,
                max: 1,
            };
            summaries
                .send(&fake::context(&services, 0), summary)
                .unwrap();
        }
        reporter.run(&mut fake::context(&services, 0));
        assert_eq!(reporter.received, 3);
        assert_eq!(
            String::from_utf8(reporter.out).unwrap(),
            "HIL:RTOS summary n=2 samples=10 mean=1 min=-1 max=1\n"
        );
    }
}
