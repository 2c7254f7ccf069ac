//! Time on the generic timer's virtual counter: instants and durations in counter ticks.
#![forbid(unsafe_code)]

use core::ops::{Add, Sub};

/// A point in time: a value of the virtual counter (CNTVCT_EL0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub u64);

/// A span of time in counter ticks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub u64);

/// The counter's frequency (CNTFRQ_EL0), in ticks per second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frequency(pub u64);

impl Instant {
    /// The time from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_since(self, earlier: Instant) -> Duration {
        Duration(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// Saturates at the end of time rather than wrapping (a 64-bit counter at 1 GHz lasts
    /// 584 years).
    fn add(self, rhs: Duration) -> Instant {
        Instant(self.0.saturating_add(rhs.0))
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;

    fn sub(self, rhs: Duration) -> Instant {
        Instant(self.0.saturating_sub(rhs.0))
    }
}

impl Add for Duration {
    type Output = Duration;

    fn add(self, rhs: Duration) -> Duration {
        Duration(self.0.saturating_add(rhs.0))
    }
}

impl Frequency {
    /// `micros` microseconds in ticks (rounded down, at least one tick for a non-zero span).
    pub fn micros(self, micros: u64) -> Duration {
        self.scaled(micros, 1_000_000)
    }

    /// `millis` milliseconds in ticks.
    pub fn millis(self, millis: u64) -> Duration {
        self.scaled(millis, 1_000)
    }

    /// The period of an `hz` hertz rate in ticks (`None` for 0 Hz).
    pub fn period_of(self, hz: u64) -> Option<Duration> {
        (hz != 0).then(|| Duration(self.0 / hz))
    }

    /// `nanos` nanoseconds in ticks, rounded up (a delay must never be shorter than asked).
    pub fn nanos_ceil(self, nanos: u64) -> u64 {
        let ticks = u128::from(nanos) * u128::from(self.0);
        u64::try_from(ticks.div_ceil(1_000_000_000)).unwrap_or(u64::MAX)
    }

    /// `duration` in microseconds.
    pub fn to_micros(self, duration: Duration) -> u64 {
        if self.0 == 0 {
            return 0;
        }
        let micros = u128::from(duration.0) * 1_000_000 / u128::from(self.0);
        u64::try_from(micros).unwrap_or(u64::MAX)
    }

    fn scaled(self, amount: u64, per_second: u64) -> Duration {
        let ticks = u128::from(amount) * u128::from(self.0) / u128::from(per_second);
        let ticks = u64::try_from(ticks).unwrap_or(u64::MAX);
        Duration(if amount > 0 { ticks.max(1) } else { 0 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_at_qemu_and_icount_frequencies() {
        let qemu = Frequency(62_500_000);
        assert_eq!(qemu.millis(1), Duration(62_500));
        assert_eq!(qemu.period_of(1000), Some(Duration(62_500)));
        assert_eq!(qemu.period_of(0), None);
        assert_eq!(
            qemu.nanos_ceil(1),
            1,
            "a delay is never rounded down to nothing"
        );
        let icount = Frequency(1_000_000_000);
        assert_eq!(icount.micros(5), Duration(5_000));
        assert_eq!(icount.to_micros(Duration(1_999)), 1);
    }

    #[test]
    fn instants_saturate_instead_of_wrapping() {
        assert_eq!(Instant(u64::MAX) + Duration(5), Instant(u64::MAX));
        assert_eq!(Instant(3).saturating_since(Instant(10)), Duration(0));
        assert_eq!(Instant(10).saturating_since(Instant(3)), Duration(7));
    }
}
