//! Minimum, average and maximum of a series of samples, printed the way xtask parses them.

use core::fmt;

/// A running summary of samples (counter ticks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stats {
    /// Number of samples.
    pub n: u64,
    /// Smallest sample.
    pub min: u64,
    /// Largest sample.
    pub max: u64,
    /// Sum of all samples.
    pub sum: u64,
}

impl Stats {
    /// No samples yet.
    pub const fn new() -> Self {
        Stats {
            n: 0,
            min: u64::MAX,
            max: 0,
            sum: 0,
        }
    }

    /// Adds one sample.
    pub fn add(&mut self, sample: u64) {
        self.n += 1;
        self.min = self.min.min(sample);
        self.max = self.max.max(sample);
        self.sum = self.sum.saturating_add(sample);
    }
}

impl fmt::Display for Stats {
    /// `n=.. min=.. avg=<two decimals> max=..`; an empty series prints zeros.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.n == 0 {
            return write!(f, "n=0 min=0 avg=0.00 max=0");
        }
        let hundredths = (u128::from(self.sum) * 100 + u128::from(self.n) / 2) / u128::from(self.n);
        write!(
            f,
            "n={} min={} avg={}.{:02} max={}",
            self.n,
            self.min,
            hundredths / 100,
            hundredths % 100,
            self.max
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_print_min_rounded_average_and_max() {
        let mut stats = Stats::new();
        for sample in [190, 191, 191] {
            stats.add(sample);
        }
        assert_eq!(stats.to_string(), "n=3 min=190 avg=190.67 max=191");
        assert_eq!(Stats::new().to_string(), "n=0 min=0 avg=0.00 max=0");
    }
}
