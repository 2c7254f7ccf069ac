//! Group 4: the doorbell round trip between two partitions, A ringing B and B's IRQ vector
//! ringing A back, against the same ping-pong bare on two CPUs with SGIs.

use anyhow::Result;

use super::console::Sample;
use super::figure::{Figure, Unit, Value};
use super::group::Group;
use super::run::{Machine, Runs};

/// The bench configuration (`device-trees/qemu-virt/bench-doorbell.dts`).
const CONFIG: &str = "bench-doorbell";
/// The figure's name, as bench partition A prints it.
const ID: &str = "doorbell-round-trip";

/// A doorbell from one partition to another and back.
pub struct Doorbell;

fn intid(sample: &Sample) -> String {
    sample
        .value
        .map_or_else(|| "none".to_string(), |v| v.to_string())
}

impl Group for Doorbell {
    fn title(&self) -> &'static str {
        "4. Doorbell round trip between two partitions"
    }

    fn measure(&self, runs: &mut Runs) -> Result<Vec<Figure>> {
        let bulkhead = runs.log(Machine::Bulkhead, CONFIG)?.sample(ID)?;
        let bare = runs.log(Machine::Bare, CONFIG)?.sample(ID)?;
        let figure = Figure::new(
            ID,
            "partition A rings B, B rings A back",
            Unit::Instructions,
            Value::Series(bulkhead.series),
        )
        .baseline(Value::Series(bare.series))
        .note(format!(
            "Partitions A (CPU 0) and B (CPU 1) share a channel, with `-smp 2`. A reads the \
             counter, rings B (BULKHEAD_DOORBELL_RING) and waits in `wfi`; B, waiting in `wfi`, \
             takes its doorbell and its IRQ vector rings A back; the first instruction of A's \
             IRQ vector reads the counter (A acknowledged INTID {}, its doorbell). Under \
             `-icount` QEMU runs the two CPUs round-robin on one thread and neither ever spins, \
             so the ticks are the instructions executed on both CPUs in between: A's \
             hypercall, the ring at EL2 (the doorbell fast path at the synchronous vector: \
             B's flag and the doorbell SGI), B's CPU taking the SGI at its IRQ vector and \
             injecting the doorbell through a list register, B's vector and its ring back, \
             and the same on A's CPU. Bare metal, the same guest image plays both sides on two \
             CPUs and rings with SGI {} (ICC_SGI1R_EL1) through QEMU's GICv3: the floor of one \
             interrupt each way, not what a board's GIC costs.",
            intid(&bulkhead),
            intid(&bare),
        ));
        Ok(vec![figure])
    }
}
