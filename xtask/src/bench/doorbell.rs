//! Group 4: the doorbell round trip between two partitions; not measurable until Bulkhead has
//! inter-partition doorbells.

use anyhow::Result;

use super::figure::{Figure, Unit, Value};
use super::group::Group;
use super::run::Runs;

/// A doorbell from one partition to another and back: a row that says why it is missing.
pub struct Doorbell;

impl Group for Doorbell {
    fn title(&self) -> &'static str {
        "4. Doorbell round trip between two partitions"
    }

    fn measure(&self, _runs: &mut Runs) -> Result<Vec<Figure>> {
        // Deliberately no measurement and no budget: there is nothing to ring yet.
        Ok(vec![Figure::new(
            "doorbell-round-trip",
            "partition A rings B, B rings A back",
            Unit::Instructions,
            Value::Missing(
                "Not measurable yet: needs inter-partition doorbells (IPC issue).".to_string(),
            ),
        )])
    }
}
