//! Group 5: boot, from reset to the hypervisor banner and to the partition's first instruction.

use anyhow::Result;

use super::figure::{Figure, Unit, Value};
use super::group::Group;
use super::run::{Machine, Runs};

/// The bench configuration (`device-trees/qemu-virt/bench-boot.dts`).
const CONFIG: &str = "bench-boot";
/// The C peer's reset-to-guest figure on the same QEMU setup with the same `-m 2G` (it scales
/// with RAM: 375,193 with `-m 4G`).
const PEER_FIRST_INSTRUCTION: &str = "342,224 (C peer, -m 2G)";

/// Reset to the banner and to the partition's first instruction, with `-smp 1`.
pub struct Boot;

impl Group for Boot {
    fn title(&self) -> &'static str {
        "5. Boot (-smp 1)"
    }

    fn measure(&self, runs: &mut Runs) -> Result<Vec<Figure>> {
        let bulkhead = runs.log(Machine::Bulkhead, CONFIG)?.clone();
        let bare = runs.log(Machine::Bare, CONFIG)?.clone();
        let count = |value: Option<u64>, why: &str| {
            value.map_or_else(|| Value::Missing(why.to_string()), Value::Count)
        };
        let mut banner = Figure::new(
            "boot-banner",
            "reset → hypervisor banner",
            Unit::Instructions,
            count(
                bulkhead.banner_counter,
                "The banner (`HIL:BOOT ...`) prints no counter yet; once it ends with \
                 `counter=<CNTVCT>` this row fills in by itself.",
            ),
        );
        if bulkhead.banner_counter.is_some() {
            banner = banner.note(
                "CNTVCT as the hypervisor reads it for its banner, before the banner's first \
                 byte; no bare-metal equivalent.",
            );
        }
        let first = Figure::new(
            "boot-first-instruction",
            "reset → partition's first instruction",
            Unit::Instructions,
            count(
                bulkhead.first_instruction,
                "The bench guest printed no boot counter.",
            ),
        )
        .baseline(count(
            bare.first_instruction,
            "The bench guest printed no boot counter.",
        ))
        .reference(PEER_FIRST_INSTRUCTION)
        .note(
            "CNTVCT as the partition's first instruction reads it (that instruction included). \
             Bare metal, QEMU resets into a two-instruction stub that sets x0 to the device \
             tree and branches to the same entry.",
        );
        Ok(vec![banner, first])
    }
}
