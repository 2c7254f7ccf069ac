//! A benchmark group: one kind of figure (hypercalls, boot, footprint, ...), measured together.

use anyhow::Result;

use super::figure::Figure;
use super::run::Runs;

/// One group of the benchmark table. Adding a group is one file implementing this trait and
/// one line in [`super::GROUPS`].
pub trait Group {
    /// Its number in issue 6 and its title: "2. Hypercall round trip".
    fn title(&self) -> &'static str;
    /// Measures its figures; `runs` boots the bench configurations it needs (each once).
    fn measure(&self, runs: &mut Runs) -> Result<Vec<Figure>>;
}

/// How an SMCCC or MMIO result reads in a note: `NOT_SUPPORTED (-1)` or `0x10001`.
pub fn answer(value: Option<u64>) -> String {
    match value {
        Some(u64::MAX) => "NOT_SUPPORTED (-1)".to_string(),
        Some(value) => format!("{value:#x}"),
        None => "nothing".to_string(),
    }
}
