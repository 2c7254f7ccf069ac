//! A partition (`/partitions/<name>`) while it is being read: its properties,
//! then its child nodes as each one ends, then what it still lacks when it
//! ends itself.
//!
//! The partition is built in place, in the slot of the configuration it will
//! occupy; this module keeps what the slot cannot hold until the end.

use super::at::At;
use super::child::{Child, Part};
use super::rules;
use crate::cells;
use crate::error::{ConfigError, ErrorKind};
use crate::limits::{MAX_DEVICES, MAX_REGIONS};
use crate::model::{ImageRef, OnStop, PartitionConfig};
use heapless::Vec;

/// Most child nodes a partition may have (more than the per-kind limits
/// allow in total, so those limits report first).
const MAX_PARTITION_CHILDREN: usize = 64;

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
        devices: Vec::new(),
    }
}

/// What is known about the partition being read beyond its slot. One is
/// reused for every partition.
#[derive(Default)]
pub(super) struct Partition<'a> {
    at: At<'a>,
    /// Whether the `kernel` node has ended.
    kernel: bool,
    /// The kernel's `entry`, if it has one.
    entry: Option<u64>,
    /// Names of the child nodes so far, to catch duplicates.
    seen: Vec<&'a str, MAX_PARTITION_CHILDREN>,
}

impl<'a> Partition<'a> {
    /// Starts reading the partition at `at`.
    pub(super) fn begin(&mut self, at: At<'a>) {
        self.at = at;
        self.kernel = false;
        self.entry = None;
        self.seen.clear();
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
        match name {
            "cpus" => slot.cpus = rules::cpus(value, &self.at)?,
            "on-stop" => {
                slot.on_stop = match cells::string(value) {
                    Some("off") => OnStop::Off,
                    Some("restart") => OnStop::Restart,
                    _ => return Err(self.at.bad("on-stop", "must be \"off\" or \"restart\"")),
                }
            }
            _ => rules::check_ignored(name, value, &self.at, "cpus, on-stop")?,
        }
        Ok(())
    }

    /// Starts reading the child node called `name` into `child`.
    pub(super) fn begin_child(
        &mut self,
        child: &mut Child<'a>,
        name: &'a str,
    ) -> Result<(), ConfigError> {
        let at = self.at.child(name);
        child.begin(name, at)?;
        // Singleton kinds have fixed names, so this also catches a second
        // `kernel`, `dtb`, `initrd` or `console`.
        if self.seen.contains(&name) {
            return Err(at.err(ErrorKind::DuplicateName));
        }
        self.seen.push(name).map_err(|_| {
            at.err(ErrorKind::TooMany {
                what: "nodes in a partition",
                max: MAX_PARTITION_CHILDREN,
            })
        })
    }

    /// Ends `child` and adds what it describes to `slot`.
    pub(super) fn end_child(
        &mut self,
        slot: &mut PartitionConfig<'a>,
        child: &mut Child<'a>,
    ) -> Result<(), ConfigError> {
        let part = child.end()?;
        let too_many = |what, max| child.at().err(ErrorKind::TooMany { what, max });
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
                self.kernel = true;
                self.entry = entry;
            }
            Part::Dtb(image) => slot.dtb = Some(image),
            Part::Initrd(image) => slot.initrd = Some(image),
            Part::Console(range) => slot.console = Some(range),
        }
        Ok(())
    }

    /// Ends the partition in `slot`: says what it lacks, or completes it.
    pub(super) fn end(&self, slot: &mut PartitionConfig<'a>) -> Result<(), ConfigError> {
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
        slot.entry = self.entry.unwrap_or(slot.kernel.load);
        Ok(())
    }
}
