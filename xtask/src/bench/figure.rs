//! One benchmark figure: what was measured, in which unit, and what it is set beside.

use std::fmt;

/// What a figure counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Guest instructions (counter ticks under `-icount shift=0` with a 1 GHz counter).
    Instructions,
    /// Bytes of memory or of the binary.
    Bytes,
    /// Lines of source code.
    Lines,
    /// A quotient of two figures of the same unit (Bulkhead over bare metal).
    Ratio,
    /// Traps taken per second of guest time (counter ticks at the counter's frequency).
    TrapsPerSecond,
    /// A number of traps (hypervisor entries).
    Traps,
    /// Counter ticks of guest time with several CPUs running: under `-icount` the instructions
    /// of every CPU in between, as QEMU's round robin ran them (no budget: not one CPU's path).
    Ticks,
    /// Mebibytes moved per second of guest time.
    MibPerSecond,
}

impl Unit {
    /// The unit's name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Instructions => "instructions",
            Unit::Bytes => "bytes",
            Unit::Lines => "lines",
            Unit::Ratio => "ratio",
            Unit::TrapsPerSecond => "traps/s",
            Unit::Traps => "traps",
            Unit::Ticks => "ticks (all CPUs)",
            Unit::MibPerSecond => "MiB/s",
        }
    }
}

/// Minimum, average and maximum of `n` samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Series {
    /// Number of samples.
    pub n: u64,
    /// Smallest sample.
    pub min: u64,
    /// Average, in hundredths (19012 is 190.12), as the guest rounded it.
    pub avg_hundredths: u64,
    /// Largest sample.
    pub max: u64,
}

/// A measured value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A series of samples.
    Series(Series),
    /// One number.
    Count(u64),
    /// A number with a fixed number of decimals: `units` is the value times 10^`decimals`.
    Fixed {
        /// The value in units of 10^-`decimals`.
        units: u64,
        /// Decimals shown.
        decimals: u32,
    },
    /// Not measured, and why.
    Missing(String),
}

impl Value {
    /// The number a budget is checked against: a series' maximum, or the count.
    pub fn worst(&self) -> Option<u64> {
        match self {
            Value::Series(series) => Some(series.max),
            Value::Count(count) => Some(*count),
            Value::Fixed { .. } | Value::Missing(_) => None,
        }
    }

    /// `numerator / denominator` rounded to `decimals` decimals, or `Missing` when the
    /// denominator is zero.
    pub fn quotient(numerator: u64, denominator: u64, decimals: u32) -> Value {
        if denominator == 0 {
            return Value::Missing("nothing to divide by (a zero denominator).".to_string());
        }
        let scale = 10u128.pow(decimals);
        let (n, d) = (u128::from(numerator), u128::from(denominator));
        let units = (n * scale + d / 2) / d;
        Value::Fixed {
            units: u64::try_from(units).unwrap_or(u64::MAX),
            decimals,
        }
    }
}

impl fmt::Display for Value {
    /// `min / avg / max` for a series, the number for a count or a fixed-point value (all with
    /// thousands separators).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Series(s) => write!(
                f,
                "{} / {}.{:02} / {}",
                thousands(s.min),
                thousands(s.avg_hundredths / 100),
                s.avg_hundredths % 100,
                thousands(s.max)
            ),
            Value::Count(count) => write!(f, "{}", thousands(*count)),
            Value::Fixed { units, decimals } => {
                let scale = 10u64.pow(*decimals);
                write!(f, "{}", thousands(units / scale))?;
                if *decimals > 0 {
                    write!(f, ".{:0width$}", units % scale, width = *decimals as usize)?;
                }
                Ok(())
            }
            Value::Missing(_) => write!(f, "n/a"),
        }
    }
}

/// `n` with a comma every three digits: 375193 is "375,193".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// One row of the benchmark table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Figure {
    /// Stable name, used as the key in the budgets file: `hvc-psci-version`.
    pub id: String,
    /// What it is, for people: "PSCI_VERSION round trip".
    pub label: String,
    /// What it counts.
    pub unit: Unit,
    /// Under Bulkhead.
    pub value: Value,
    /// The same guest code without the hypervisor, where that exists.
    pub baseline: Option<Value>,
    /// A reference figure from elsewhere (the C peer), with its source.
    pub reference: Option<String>,
    /// What the reader must know to read the figure right.
    pub note: Option<String>,
}

impl Figure {
    /// A figure with no baseline, reference or note yet.
    pub fn new(id: &str, label: &str, unit: Unit, value: Value) -> Self {
        Figure {
            id: id.to_string(),
            label: label.to_string(),
            unit,
            value,
            baseline: None,
            reference: None,
            note: None,
        }
    }

    /// Sets the bare-metal baseline.
    pub fn baseline(mut self, value: Value) -> Self {
        self.baseline = Some(value);
        self
    }

    /// Sets the reference figure.
    pub fn reference(mut self, text: &str) -> Self {
        self.reference = Some(text.to_string());
        self
    }

    /// Sets the note.
    pub fn note(mut self, text: impl Into<String>) -> Self {
        self.note = Some(text.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_print_with_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(375_193), "375,193");
        assert_eq!(thousands(1_234_567), "1,234,567");
        let series = Value::Series(Series {
            n: 1000,
            min: 190,
            avg_hundredths: 19_012,
            max: 1_200,
        });
        assert_eq!(series.to_string(), "190 / 190.12 / 1,200");
        assert_eq!(series.worst(), Some(1_200));
        assert_eq!(Value::Missing("why".into()).worst(), None);
    }

    #[test]
    fn quotients_round_to_their_decimals() {
        assert_eq!(Value::quotient(2_005, 1_000, 2).to_string(), "2.01");
        assert_eq!(
            Value::quotient(1_234_567, 1_000, 3).to_string(),
            "1,234.567"
        );
        assert_eq!(Value::quotient(7, 2, 0).to_string(), "4");
        assert_eq!(Value::quotient(1, 20, 2).to_string(), "0.05");
        assert!(matches!(Value::quotient(1, 0, 2), Value::Missing(_)));
        assert_eq!(Value::quotient(3, 2, 1).worst(), None);
    }
}
