//! A partition (`/partitions/<name>`) while it is being read: its properties,
//! then its child nodes as each one ends, then what it still lacks when it
//! ends itself.
//!
//! The partition is built in place, in the slot of the configuration it will
//! occupy; this module keeps what the slot cannot hold until the end.

use super::at::At;
use super::child::{Child, Kind, Part};
use super::rules;
use crate::cells;
use crate::error::{ConfigError, ErrorKind};
use crate::limits::{MAX_DEVICES, MAX_REGIONS};
use crate::model::{ConsoleMode, ImageRef, OnFault, OnStop, PartitionConfig, Pmu};
use heapless::Vec;

/// The properties a partition node may have (for the unknown-property error).
pub(super) const PARTITION_PROPERTIES: &str =
    "cpus, on-stop, smc-allow, console-mode, max-restarts, privileged, pmu, on-fault, \
     direct-map, vsock-cid";

/// An empty partition called `name`, to be filled in. Its kernel and entry
/// are placeholders until the `kernel` node ends.
pub(super) fn empty(name: &str) -> PartitionConfig<'_> {
    PartitionConfig {
        name,
        cpus: Vec::new(),
        on_stop: OnStop::Off,
        memory: Vec::new(),
        kernel: ImageRef { file: "", load: 0 },
        entry: 0,
        dtb: None,
        initrd: None,
        console: None,
        console_mode: ConsoleMode::None,
        devices: Vec::new(),
        watchdog: None,
        management: None,
        smc_allow: Vec::new(),
        max_restarts: None,
        privileged: false,
        pmu: Pmu::Deny,
        on_fault: OnFault::Stop,
        direct_map: false,
        vsock_cid: None,
        vsock: None,
    }
}

/// What is known about the partition being read beyond its slot. One is
/// reused for every partition.
#[derive(Default)]
pub(super) struct Partition<'a> {
    at: At<'a>,
    /// Whether the `kernel` node has ended.
    kernel: bool,
    /// Whether `console-mode` was written (else the `console` node decides).
    console_mode_set: core::cell::Cell<bool>,
}

impl<'a> Partition<'a> {
    /// Starts reading the partition at `at`.
    pub(super) fn begin(&mut self, at: At<'a>) {
        self.at = at;
        self.kernel = false;
        self.console_mode_set.set(false);
    }

    /// Where this partition is.
    pub(super) fn at(&self) -> &At<'a> {
        &self.at
    }

    /// Takes in one property of the partition.
    pub(super) fn property(
        &self,
        slot: &mut PartitionConfig<'a>,
        name: &str,
        value: &[u8],
    ) -> Result<(), ConfigError> {
        let result = match name {
            "cpus" => rules::cpus(value).map(|cpus| slot.cpus = cpus),
            "on-stop" => match cells::string(value) {
                Some("off") => Ok(OnStop::Off),
                Some("restart") => Ok(OnStop::Restart),
                _ => Err(rules::bad("on-stop", "must be \"off\" or \"restart\"")),
            }
            .map(|on_stop| slot.on_stop = on_stop),
            "smc-allow" => rules::smc_allow(value).map(|list| slot.smc_allow = list),
            "console-mode" => match cells::string(value) {
                Some("virtual") => Ok(ConsoleMode::Virtual),
                Some("passthrough") => Ok(ConsoleMode::Passthrough),
                Some("none") => Ok(ConsoleMode::None),
                _ => Err(rules::bad(
                    "console-mode",
                    "must be \"virtual\", \"passthrough\" or \"none\"",
                )),
            }
            .map(|mode| {
                slot.console_mode = mode;
                self.console_mode_set.set(true);
            }),
            "max-restarts" => {
                rules::max_restarts(value).map(|limit| slot.max_restarts = Some(limit))
            }
            "privileged" => rules::flag(value, "privileged").map(|()| slot.privileged = true),
            "pmu" => match cells::string(value) {
                Some("deny") => Ok(Pmu::Deny),
                Some("virtual") => Ok(Pmu::Virtual),
                _ => Err(rules::bad("pmu", "must be \"deny\" or \"virtual\"")),
            }
            .map(|pmu| slot.pmu = pmu),
            "on-fault" => match cells::string(value) {
                Some("stop") => Ok(OnFault::Stop),
                Some("inject") => Ok(OnFault::Inject),
                _ => Err(rules::bad("on-fault", "must be \"stop\" or \"inject\"")),
            }
            .map(|on_fault| slot.on_fault = on_fault),
            "direct-map" => {
                rules::flag_property(value, "direct-map").map(|()| slot.direct_map = true)
            }
            "vsock-cid" => cells::u32_cell(value)
                .map(|cid| slot.vsock_cid = Some(cid))
                .ok_or_else(|| rules::bad("vsock-cid", "must be 1 cell: the partition's CID")),
            _ => rules::check_ignored(name, value, PARTITION_PROPERTIES),
        };
        result.map_err(|kind| self.at.err(kind))
    }

    /// Starts reading the child node called `name` into `child`.
    pub(super) fn begin_child(
        &self,
        slot: &PartitionConfig<'a>,
        child: &mut Child<'a>,
        name: &'a str,
    ) -> Result<(), ConfigError> {
        child.begin(&self.at, name)?;
        // Every earlier child ended without a problem, or reading would have
        // stopped, so a sibling of the same name is already in `slot`.
        // Singleton kinds have fixed names, so this also catches a second
        // `kernel`, `dtb`, `initrd`, `console` or `watchdog`.
        let taken = match child.kind() {
            Kind::Memory => slot.memory.iter().any(|region| region.node == name),
            Kind::Device => slot.devices.iter().any(|device| device.node == name),
            Kind::Kernel => self.kernel,
            Kind::Dtb => slot.dtb.is_some(),
            Kind::Initrd => slot.initrd.is_some(),
            Kind::Console => slot.console.is_some(),
            Kind::Watchdog => slot.watchdog.is_some(),
            Kind::Management => slot.management.is_some(),
            Kind::Vsock => slot.vsock.is_some(),
        };
        if taken {
            return Err(child.at(&self.at).err(ErrorKind::DuplicateName));
        }
        Ok(())
    }

    /// Ends `child` and adds what it describes to `slot`.
    pub(super) fn end_child(
        &mut self,
        slot: &mut PartitionConfig<'a>,
        child: &mut Child<'a>,
    ) -> Result<(), ConfigError> {
        let part = child.end(&self.at)?;
        let too_many = |what, max| child.at(&self.at).err(ErrorKind::TooMany { what, max });
        match part {
            Part::Memory(region) => slot
                .memory
                .push(region)
                .map_err(|_| too_many("memory regions in a partition", MAX_REGIONS))?,
            Part::Device(device) => slot
                .devices
                .push(device)
                .map_err(|_| too_many("devices in a partition", MAX_DEVICES))?,
            Part::Kernel(image, entry) => {
                slot.kernel = image;
                slot.entry = entry.unwrap_or(image.load);
                self.kernel = true;
            }
            Part::Dtb(image) => slot.dtb = Some(image),
            Part::Initrd(image) => slot.initrd = Some(image),
            Part::Console(range) => {
                slot.console = Some(range);
                if !self.console_mode_set.get() {
                    slot.console_mode = ConsoleMode::Virtual;
                }
            }
            Part::Watchdog(watchdog) => slot.watchdog = Some(watchdog),
            Part::Management(range) => slot.management = Some(range),
            Part::Vsock(vsock) => slot.vsock = Some(vsock),
        }
        Ok(())
    }

    /// Ends the partition in `slot`: says what it lacks, if anything. A direct-mapped
    /// partition's regions get their `phys` (their IPA) here, once every property and region
    /// is known; a `phys` of its own that is not the IPA is refused.
    pub(super) fn end(&self, slot: &mut PartitionConfig<'a>) -> Result<(), ConfigError> {
        if slot.direct_map {
            for region in slot.memory.iter_mut() {
                match region.phys {
                    Some(pa) if pa != region.ipa.start => {
                        return Err(self.at.child(region.node).err(rules::bad(
                            "phys",
                            "the partition is `direct-map`: its memory sits at PA = IPA; leave                              `phys` out (or make it equal the IPA)",
                        )))
                    }
                    _ => region.phys = Some(region.ipa.start),
                }
            }
        }
        // A `cpus` property is never empty, so empty means missing.
        if slot.cpus.is_empty() {
            return Err(self.at.err(ErrorKind::MissingProperty { name: "cpus" }));
        }
        if !self.kernel {
            return Err(self.at.child("kernel").err(ErrorKind::MissingNode));
        }
        if slot.memory.is_empty() {
            return Err(self.at.err(ErrorKind::NoMemory));
        }
        Ok(())
    }
}
