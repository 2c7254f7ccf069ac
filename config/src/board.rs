//! What a board offers to partitions: CPUs, RAM, and what is already taken.

use crate::limits::MAX_CPUS;
use crate::range::Range;
use heapless::{String, Vec};

/// A physical range that no partition may use, with the reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reserved {
    /// The reserved physical range.
    pub range: Range,
    /// Why it is reserved, e.g. `"hypervisor image and bundle"`; error messages
    /// quote it as "overlaps the {why} at {range}".
    pub why: &'static str,
}

/// MMIO the hypervisor itself drives, which no partition may be given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostDevice {
    /// The device's physical range.
    pub range: Range,
    /// What it is, e.g. `"console UART"`; error messages say "which the hypervisor itself
    /// uses (its {what})".
    pub what: &'static str,
}

/// The facts about a board that a configuration is checked against.
///
/// `bulkhead-platforms` builds this from static facts at build time; the
/// hypervisor builds it from the real host device tree at boot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Board {
    /// Board name; a configuration's `board` property must equal it.
    pub name: String<32>,
    /// Physical CPUs by MPIDR affinity value (Aff2:Aff1:Aff0).
    pub cpus: Vec<u64, MAX_CPUS>,
    /// Physical RAM ranges.
    pub ram: Vec<Range, 8>,
    /// RAM no partition may use: the hypervisor image and bundle, the host DTB,
    /// firmware.
    pub reserved: Vec<Reserved, 16>,
    /// MMIO the hypervisor itself uses (its UART, the GIC, the watchdog, the hardware RNG);
    /// never passed through.
    pub host_devices: Vec<HostDevice, 12>,
    /// The highest INTID the board's GIC implements (GICD_TYPER.ITLinesNumber), when known.
    pub max_intid: Option<u32>,
    /// The SMMU the hypervisor drives (its register frame), if the board has one: a DMA master
    /// with `stream-ids` is confined by it to its partition's memory. `None`: no DMA master
    /// can be protected, only direct-mapped and marked `unprotected-dma`.
    pub smmu: Option<Range>,
}
