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

/// `HIL:RTOS window=W task=NAME ...`: one task's statistics.
pub fn task(window: u32, config: &TaskConfig, stats: &TaskStats, frequency: Frequency) -> Line {
    let mut line = Line::new();
    let _ = write!(line, "HIL:RTOS window={window} task={} prio={} ", config.name, config.priority.level());
    let _ = match config.activation {
        Activation::Periodic { period, .. } => write!(line, "period-us={}", micros(frequency, period)),
        Activation::Event => write!(line, "event"),
    };
    let _ = write!(
        line,
        " deadline-us={} releases={} completed={} misses={} late={} dropped={} skipped={} merged={} latency-ns={} response-ns={}",
        micros(frequency, config.deadline),
        stats.releases,
        stats.completed,
        stats.misses,
        stats.late,
        stats.dropped,
        stats.skipped,
        stats.merged,
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
        "HIL:RTOS window={window} miss task={name} kind={} release={} irq-delay-ns={} start-delay-ns={} response-ns={}",
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
    fn a_task_line_has_every_counter_and_spread() {
        let config = TaskConfig::periodic("control", Priority::new(4).unwrap(), Duration(1_000_000));
        let mut stats = TaskStats {
            releases: 10,
            completed: 10,
            ..TaskStats::default()
        };
        stats.latency.add(Duration(300));
        stats.latency.add(Duration(500));
        let line = task(2, &config, &stats, GHZ);
        assert_eq!(
            line.as_str(),
            "HIL:RTOS window=2 task=control prio=4 period-us=1000 deadline-us=1000 releases=10 \
             completed=10 misses=0 late=0 dropped=0 skipped=0 merged=0 latency-ns=300/400/500 \
             response-ns=-/-/-"
        );
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
            "HIL:RTOS window=0 miss task=control kind=skipped release=42 irq-delay-ns=3000000 \
             start-delay-ns=- response-ns=-"
        );
    }
}
