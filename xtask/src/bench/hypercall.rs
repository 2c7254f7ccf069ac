//! Group 2: the hypercall round trip, `hvc #0` to the guest's next instruction.

use anyhow::Result;

use super::console::BenchLog;
use super::figure::{Figure, Unit, Value};
use super::group::{answer, Group};
use super::run::{Machine, Runs};

/// The bench configuration (`device-trees/qemu-virt/bench-hvc.dts`).
const CONFIG: &str = "bench-hvc";
/// The C peer's PSCI_VERSION round trip on the same QEMU setup, on this group's basis: its
/// raw figure (193, timing frame included) less the 2-instruction frame, as ours are.
const PEER_PSCI_VERSION: &str = "191 (C peer; 193 raw)";

/// PSCI_VERSION, SMCCC_VERSION and the vendor service's revision call.
pub struct Hypercall;

fn figure(id: &str, label: &str, bulkhead: &BenchLog, bare: &BenchLog) -> Result<Figure> {
    Ok(Figure::new(
        id,
        label,
        Unit::Instructions,
        Value::Series(bulkhead.sample(id)?.series),
    )
    .baseline(Value::Series(bare.sample(id)?.series)))
}

impl Group for Hypercall {
    fn title(&self) -> &'static str {
        "2. Hypercall round trip"
    }

    fn measure(&self, runs: &mut Runs) -> Result<Vec<Figure>> {
        let bulkhead = runs.log(Machine::Bulkhead, CONFIG)?.clone();
        let bare = runs.log(Machine::Bare, CONFIG)?.clone();
        let value = |log: &BenchLog, id: &str| answer(log.samples.get(id).and_then(|s| s.value));

        let empty = figure("timing-empty", "empty timing sequence", &bulkhead, &bare)?.note(
            "`isb; mrs cntvct_el0; isb; mrs cntvct_el0` with nothing in between; its minimum \
             is subtracted from every sample of every other instruction figure.",
        );
        let psci = figure(
            "hvc-psci-version",
            "PSCI_VERSION (0x84000000) round trip",
            &bulkhead,
            &bare,
        )?
        .reference(PEER_PSCI_VERSION)
        .note(format!(
            "Bulkhead answers {}. Bare metal, QEMU answers PSCI over HVC itself in C \
             ({}), so its figure is the `hvc` instruction alone.",
            value(&bulkhead, "hvc-psci-version"),
            value(&bare, "hvc-psci-version"),
        ));
        let smccc = figure(
            "hvc-smccc-version",
            "SMCCC_VERSION (0x80000000) round trip",
            &bulkhead,
            &bare,
        )?
        .note(format!(
            "Bulkhead answers {}; bare-metal QEMU answers {} in C.",
            value(&bulkhead, "hvc-smccc-version"),
            value(&bare, "hvc-smccc-version"),
        ));
        let vendor_answer = bulkhead
            .samples
            .get("hvc-vendor-revision")
            .and_then(|s| s.value);
        let vendor_note = if vendor_answer == Some(u64::MAX) {
            "The Bulkhead vendor service (owner 6) does not answer yet (NOT_SUPPORTED), so this \
             is the dispatcher's path for an unknown call; SMCCC_VERSION above stands in as \
             the second answered call."
                .to_string()
        } else {
            format!(
                "Bulkhead's vendor service answers {}; bare-metal QEMU answers {} in C.",
                answer(vendor_answer),
                value(&bare, "hvc-vendor-revision"),
            )
        };
        let vendor = figure(
            "hvc-vendor-revision",
            "vendor revision call (0x8600ff03) round trip",
            &bulkhead,
            &bare,
        )?
        .note(vendor_note);
        Ok(vec![empty, psci, smccc, vendor])
    }
}
