//! Group 3: a stage-2 fault to the emulated console and back (one 32-bit UARTFR read).

use anyhow::Result;

use super::figure::{Figure, Unit, Value};
use super::group::{answer, Group};
use super::run::{Machine, Runs};

/// The bench configuration (`device-trees/qemu-virt/bench-mmio.dts`).
const CONFIG: &str = "bench-mmio";
/// The sequence's name in the bench guest.
const ID: &str = "mmio-uartfr-read";

/// A read of the virtual PL011's flag register.
pub struct Mmio;

impl Group for Mmio {
    fn title(&self) -> &'static str {
        "3. Stage-2 fault to emulated MMIO and back"
    }

    fn measure(&self, runs: &mut Runs) -> Result<Vec<Figure>> {
        let bulkhead = runs.log(Machine::Bulkhead, CONFIG)?.sample(ID)?;
        let bare = runs.log(Machine::Bare, CONFIG)?.sample(ID)?;
        let figure = Figure::new(
            ID,
            "32-bit read of the console's UARTFR (offset 0x18)",
            Unit::Instructions,
            Value::Series(bulkhead.series),
        )
        .baseline(Value::Series(bare.series))
        .note(format!(
            "Under Bulkhead the load faults at stage 2 and the virtual PL011 answers {}; \
             bare metal, QEMU's PL011 model answers {} without a trap, so its figure is the \
             load alone.",
            answer(bulkhead.value),
            answer(bare.value),
        ));
        Ok(vec![figure])
    }
}
