//! The plain `HIL:RTOS` report lines: readable on a serial terminal, parsed by the scenario
//! tests. Times are in nanoseconds of guest time (under `-icount shift=0` with a 1 GHz counter,
//! one nanosecond is one instruction).
#![forbid(unsafe_code)]

use core::fmt::Write;

use rtos::stats::{MissRecord, Series, TaskStats};
use rtos::{Activation, Duration, Frequency, TaskConfig};

/// One report line.
pub type Line = heapless::String<256>;

/// `ticks` in nanoseconds at `frequency`.
pub fn nanos(frequency: Frequency, ticks: u64) -> u64 {
    if frequency.0 == 0 {
        return 0;
    }
    u64::try_from(u128::from(ticks) * 1_000_000_000 / u128::from(frequency.0)).unwrap_or(u64::MAX)
}

/// `min/avg/max` of `series` in nanoseconds (`-/-/-` when empty).
fn spread(frequency: Frequency, series: &Series) -> heapless::String<64> {
    let mut text = heapless::String::new();
    if series.n == 0 {
        let _ = text.push_str("-/-/-");
        return text;
    }
    let avg = nanos(frequency, series.avg_hundredths()) / 100;
    let _ = write!(
        text,
        "{}/{}/{}",
        nanos(frequency, series.min),
        avg,
        nanos(frequency, series.max)
    );
    text
}

fn micros(frequency: Frequency, duration: Duration) -> u64 {
    nanos(frequency, duration.0) / 1000
}

/// `HIL:RTOS task NAME ...`: a task's configuration (printed once).
pub fn config(config: &TaskConfig, frequency: Frequency) -> Line {
    let mut line = Line::new();
    let _ = write!(
        line,
        "HIL:RTOS task {} prio={} ",
        config.name,
        config.priority.level()
    );
    let _ = match config.activation {
        Activation::Periodic { period, .. } => {
            write!(line, "period-us={}", micros(frequency, period))
        }
        Activation::Event => write!(line, "event"),
    };
    let _ = write!(line, " deadline-us={}", micros(frequency, config.deadline));
    line
}

/// `HIL:RTOS window=W task=NAME ...`: one task's counts in a window: releases, completed
/// jobs, misses (late + dropped + skipped) and merged activations.
pub fn task(window: u32, name: &str, stats: &TaskStats) -> Line {
    let mut line = Line::new();
    let _ = write!(
        line,
        "HIL:RTOS window={window} task={name} rel={} done={} miss={} late={} drop={} skip={} merged={}",
        stats.releases, stats.completed, stats.misses, stats.late, stats.dropped, stats.skipped, stats.merged,
    );
    line
}

/// `HIL:RTOS window=W times=NAME ...`: min/avg/max latency (release to start) and response
/// time (release to end) of one task's jobs in a window.
pub fn times(window: u32, name: &str, stats: &TaskStats, frequency: Frequency) -> Line {
    let mut line = Line::new();
    let _ = write!(
        line,
        "HIL:RTOS window={window} times={name} lat-ns={} resp-ns={}",
        spread(frequency, &stats.latency),
        spread(frequency, &stats.response),
    );
    line
}

/// `HIL:RTOS window=W timer ...`: from each timer deadline to the IRQ vector.
pub fn timer(window: u32, entry: &Series, frequency: Frequency) -> Line {
    let mut line = Line::new();
    let _ = write!(
        line,
        "HIL:RTOS window={window} timer irqs={} entry-ns={}",
        entry.n,
        spread(frequency, entry)
    );
    line
}

fn optional(frequency: Frequency, value: Option<Duration>) -> heapless::String<24> {
    let mut text = heapless::String::new();
    let _ = match value {
        Some(d) => write!(text, "{}", nanos(frequency, d.0)),
        None => write!(text, "-"),
    };
    text
}

/// `HIL:RTOS window=W miss ...`: one missed deadline and where its time went.
pub fn miss(window: u32, name: &str, miss: &MissRecord, frequency: Frequency) -> Line {
    let mut line = Line::new();
    let _ = write!(
        line,
        "HIL:RTOS window={window} miss task={name} kind={} release={} irq-ns={} start-ns={} resp-ns={}",
        miss.kind.name(),
        miss.release.0,
        optional(frequency, miss.irq_delay),
        optional(frequency, miss.start_delay),
        optional(frequency, miss.response),
    );
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtos::stats::MissKind;
    use rtos::{Instant, Priority, TaskId};

    const GHZ: Frequency = Frequency(1_000_000_000);

    #[test]
    fn task_lines_have_every_counter_and_spread() {
        let mut stats = TaskStats {
            releases: 10,
            completed: 10,
            ..TaskStats::default()
        };
        stats.latency.add(Duration(300));
        stats.latency.add(Duration(500));
        assert_eq!(
            task(2, "control", &stats).as_str(),
            "HIL:RTOS window=2 task=control rel=10 done=10 miss=0 late=0 drop=0 skip=0 merged=0"
        );
        assert_eq!(
            times(2, "control", &stats, GHZ).as_str(),
            "HIL:RTOS window=2 times=control lat-ns=300/400/500 resp-ns=-/-/-"
        );
    }

    #[test]
    fn the_longest_lines_fit_a_console_line() {
        // Counts of a window a million seconds long at 1 GHz; any time a u64 holds.
        let most = 999_999_999_999_999;
        let mut stats = TaskStats {
            releases: most,
            completed: most,
            misses: most,
            late: most,
            dropped: most,
            skipped: most,
            merged: most,
            ..TaskStats::default()
        };
        stats.latency.add(Duration(u64::MAX / 2));
        stats.response.add(Duration(u64::MAX / 2));
        let counts = task(u32::MAX, "supervisor", &stats);
        let spreads = times(u32::MAX, "supervisor", &stats, GHZ);
        assert!(counts.len() < 200, "{} characters: {counts}", counts.len());
        assert!(
            spreads.len() < 200,
            "{} characters: {spreads}",
            spreads.len()
        );
    }

    #[test]
    fn a_config_line_names_the_period_and_deadline() {
        let config =
            TaskConfig::periodic("filter", Priority::new(2).unwrap(), Duration(10_000_000));
        assert_eq!(
            config_line(&config).as_str(),
            "HIL:RTOS task filter prio=2 period-us=10000 deadline-us=10000"
        );
    }

    fn config_line(c: &TaskConfig) -> Line {
        config(c, GHZ)
    }

    #[test]
    fn ticks_become_nanoseconds_at_any_frequency() {
        assert_eq!(nanos(Frequency(62_500_000), 625), 10_000);
        assert_eq!(nanos(Frequency(0), 5), 0);
    }

    #[test]
    fn a_miss_line_says_where_the_time_went() {
        let record = MissRecord {
            task: TaskId::from_index(0),
            kind: MissKind::Skipped,
            release: Instant(42),
            irq_delay: Some(Duration(3_000_000)),
            start_delay: None,
            response: None,
        };
        assert_eq!(
            miss(0, "control", &record, GHZ).as_str(),
            "HIL:RTOS window=0 miss task=control kind=skipped release=42 irq-ns=3000000 \
             start-ns=- resp-ns=-"
        );
    }
}
