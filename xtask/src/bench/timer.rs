//! Group 1: timer interrupt latency, from the virtual timer's deadline to the first instruction
//! of the guest's IRQ vector.

use anyhow::Result;

use super::figure::{Figure, Unit, Value};
use super::group::Group;
use super::run::{Machine, Runs};

/// The bench configuration (`device-trees/qemu-virt/bench-timer.dts`).
const CONFIG: &str = "bench-timer";
/// The sequence's name in the bench guest.
const ID: &str = "timer-irq";
/// The C peer's figure on the same QEMU setup.
const PEER: &str = "200 (C peer)";

/// The virtual timer's interrupt, delivered to a partition that programs its own GICv3.
pub struct Timer;

impl Group for Timer {
    fn title(&self) -> &'static str {
        "1. Timer interrupt latency"
    }

    fn measure(&self, runs: &mut Runs) -> Result<Vec<Figure>> {
        let bulkhead = runs.log(Machine::Bulkhead, CONFIG)?.sample(ID)?;
        let bare = runs.log(Machine::Bare, CONFIG)?.sample(ID)?;
        let intid =
            |value: Option<u64>| value.map_or_else(|| "none".to_string(), |v| v.to_string());
        let figure = Figure::new(
            ID,
            "virtual timer deadline → first instruction of the guest's IRQ vector",
            Unit::Instructions,
            Value::Series(bulkhead.series),
        )
        .baseline(Value::Series(bare.series))
        .reference(PEER)
        .note(format!(
            "The guest sets CNTV_CVAL 2000 ticks ahead and spins with IRQs unmasked; its vector's \
             first instruction reads the counter, and the figure is that reading minus the \
             deadline (the vector's `mrs` included). Under Bulkhead the timer's physical \
             interrupt goes to EL2, which injects it through a list register of the virtual \
             CPU interface; the guest acknowledged INTID {} (the virtual timer, PPI 11). Bare \
             metal, QEMU's GICv3 delivers it directly (INTID {}).",
            intid(bulkhead.value),
            intid(bare.value),
        ));
        Ok(vec![figure])
    }
}
