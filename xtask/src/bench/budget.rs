//! Instruction budgets: a ceiling per figure, and the check `cargo xtask bench --check` makes.
//!
//! The budgets file (`xtask/bench-budgets.toml`) is a flat TOML table, one `figure-id = ceiling`
//! per line, `#` comments allowed. A series is checked by its maximum, so a budget bounds the
//! worst case measured, not the average.

use anyhow::{bail, Result};
use std::collections::BTreeMap;
use std::fmt;

use super::figure::{thousands, Figure, Unit};

/// Ceilings by figure id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Budgets(pub BTreeMap<String, u64>);

impl Budgets {
    /// Parses a budgets file; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Budgets> {
        let mut budgets = BTreeMap::new();
        for (index, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let number = index + 1;
            let Some((key, value)) = line.split_once('=') else {
                bail!("{origin}:{number}: expected `figure-id = ceiling`, found `{raw}`");
            };
            let key = key.trim().trim_matches('"');
            let Ok(ceiling) = value.trim().replace('_', "").parse::<u64>() else {
                bail!("{origin}:{number}: the budget of {key} is not a whole number: `{value}`");
            };
            if budgets.insert(key.to_string(), ceiling).is_some() {
                bail!("{origin}:{number}: {key} has two budgets");
            }
        }
        Ok(Budgets(budgets))
    }

    /// The ceiling of figure `id`.
    pub fn get(&self, id: &str) -> Option<u64> {
        self.0.get(id).copied()
    }
}

/// A reason `--check` fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The figure exceeds its budget.
    OverBudget {
        /// The figure's id.
        id: String,
        /// The value checked (a series' maximum).
        measured: u64,
        /// Its ceiling.
        budget: u64,
    },
    /// An instruction-count figure that has no budget.
    NoBudget {
        /// The figure's id.
        id: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::OverBudget {
                id,
                measured,
                budget,
            } => write!(
                f,
                "{id}: measured {} instructions, over its budget of {}",
                thousands(*measured),
                thousands(*budget)
            ),
            Problem::NoBudget { id } => write!(
                f,
                "{id}: no budget; add `{id} = <ceiling>` to the budgets file"
            ),
        }
    }
}

/// Checks every measured instruction-count figure against `budgets`.
pub fn check(figures: &[Figure], budgets: &Budgets) -> Vec<Problem> {
    let mut problems = Vec::new();
    for figure in figures.iter().filter(|f| f.unit == Unit::Instructions) {
        let Some(measured) = figure.value.worst() else {
            continue;
        };
        match budgets.get(&figure.id) {
            None => problems.push(Problem::NoBudget {
                id: figure.id.clone(),
            }),
            Some(budget) if measured > budget => problems.push(Problem::OverBudget {
                id: figure.id.clone(),
                measured,
                budget,
            }),
            Some(_) => {}
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::figure::{Series, Value};

    fn psci(max: u64) -> Figure {
        let series = Series {
            n: 1000,
            min: max - 1,
            avg_hundredths: max * 100 - 50,
            max,
        };
        Figure::new(
            "hvc-psci-version",
            "PSCI_VERSION",
            Unit::Instructions,
            Value::Series(series),
        )
    }

    #[test]
    fn check_fails_when_a_budget_is_lowered_below_the_measured_maximum() {
        let figures = [psci(190)];
        let at = |ceiling: u64| {
            Budgets::parse(&format!("hvc-psci-version = {ceiling}\n"), "test").unwrap()
        };
        assert!(check(&figures, &at(190)).is_empty());
        assert!(check(&figures, &at(400)).is_empty());
        let problems = check(&figures, &at(189));
        assert_eq!(
            problems,
            [Problem::OverBudget {
                id: "hvc-psci-version".into(),
                measured: 190,
                budget: 189
            }]
        );
        assert_eq!(
            problems[0].to_string(),
            "hvc-psci-version: measured 190 instructions, over its budget of 189"
        );
    }

    #[test]
    fn instruction_figures_need_a_budget_and_other_units_are_not_checked() {
        let bytes = Figure::new("footprint-text", "text", Unit::Bytes, Value::Count(1 << 20));
        let missing = Figure::new(
            "boot-banner",
            "banner",
            Unit::Instructions,
            Value::Missing("not printed".into()),
        );
        let problems = check(&[psci(190), bytes, missing], &Budgets::default());
        assert_eq!(
            problems,
            [Problem::NoBudget {
                id: "hvc-psci-version".into()
            }]
        );
    }

    #[test]
    fn budgets_file_is_a_flat_table_with_comments() {
        let text = "# ceilings\nhvc-psci-version = 400  # PSCI\n\"boot\" = 250_000\n";
        let budgets = Budgets::parse(text, "b.toml").unwrap();
        assert_eq!(budgets.get("hvc-psci-version"), Some(400));
        assert_eq!(budgets.get("boot"), Some(250_000));
        let error = Budgets::parse("a = 1\na = 2\n", "b.toml").unwrap_err();
        assert_eq!(error.to_string(), "b.toml:2: a has two budgets");
        assert!(Budgets::parse("a = lots\n", "b.toml").is_err());
        assert!(Budgets::parse("[budgets]\n", "b.toml").is_err());
    }
}
