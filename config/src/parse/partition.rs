//! A partition (`/partitions/<name>`) while it is being read: its properties,
//! then its child nodes as each one ends, then what it still lacks when it
//! ends itself.

use super::at::At;
use super::child::{Child, Part};
use super::rules;
use crate::cells;
use crate::error::{ConfigError, ErrorKind};
use crate::limits::{MAX_CPUS, MAX_DEVICES, MAX_REGIONS};
use crate::model::{Device, ImageRef, MemoryRegion, OnStop, PartitionConfig};
use crate::range::Range;
use heapless::Vec;

/// Most child nodes a partition may have (more than the per-kind limits
/// allow in total, so those limits report first).
const MAX_PARTITION_CHILDREN: usize = 64;

/// A partition between its start and its end.
pub(super) struct Draft<'a> {
    at: At<'a>,
    name: &'a str,
    cpus: Option<Vec<u64, MAX_CPUS>>,
    on_stop: OnStop,
    memory: Vec<MemoryRegion<'a>, MAX_REGIONS>,
    devices: Vec<Device<'a>, MAX_DEVICES>,
    kernel: Option<(ImageRef<'a>, Option<u64>)>,
    dtb: Option<ImageRef<'a>>,
    initrd: Option<ImageRef<'a>>,
    console: Option<Range>,
    /// Names of the child nodes so far, to catch duplicates.
    seen: Vec<&'a str, MAX_PARTITION_CHILDREN>,
}

impl<'a> Draft<'a> {
    /// Starts the partition called `name` at `at`, if the name is allowed.
    pub(super) fn begin(name: &'a str, at: At<'a>) -> Result<Self, ConfigError> {
        rules::check_name(name, &at)?;
        Ok(Self {
            at,
            name,
            cpus: None,
            on_stop: OnStop::Off,
            memory: Vec::new(),
            devices: Vec::new(),
            kernel: None,
            dtb: None,
            initrd: None,
            console: None,
            seen: Vec::new(),
        })
    }

    /// Where this partition is.
    pub(super) fn at(&self) -> &At<'a> {
        &self.at
    }

    /// Takes in one property of the partition.
    pub(super) fn property(&mut self, name: &str, value: &[u8]) -> Result<(), ConfigError> {
        match name {
            "cpus" => self.cpus = Some(rules::cpus(value, &self.at)?),
            "on-stop" => {
                self.on_stop = match cells::string(value) {
                    Some("off") => OnStop::Off,
                    Some("restart") => OnStop::Restart,
                    _ => return Err(self.at.bad("on-stop", "must be \"off\" or \"restart\"")),
                }
            }
            _ => rules::check_ignored(name, value, &self.at, "cpus, on-stop")?,
        }
        Ok(())
    }

    /// Starts the child node called `name`.
    pub(super) fn begin_child(&mut self, name: &'a str) -> Result<Child<'a>, ConfigError> {
        let at = self.at.child(name);
        let child = Child::begin(name, at)?;
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
        })?;
        Ok(child)
    }

    /// Ends a child node and adds what it describes.
    pub(super) fn end_child(&mut self, child: Child<'a>) -> Result<(), ConfigError> {
        let at = *child.at();
        let too_many = |what, max| at.err(ErrorKind::TooMany { what, max });
        match child.end()? {
            Part::Memory(region) => self
                .memory
                .push(region)
                .map_err(|_| too_many("memory regions in a partition", MAX_REGIONS))?,
            Part::Device(device) => self
                .devices
                .push(device)
                .map_err(|_| too_many("devices in a partition", MAX_DEVICES))?,
            Part::Kernel(image, entry) => self.kernel = Some((image, entry)),
            Part::Dtb(image) => self.dtb = Some(image),
            Part::Initrd(image) => self.initrd = Some(image),
            Part::Console(range) => self.console = Some(range),
        }
        Ok(())
    }

    /// Ends the partition: what it lacks, or the finished partition.
    pub(super) fn end(self) -> Result<PartitionConfig<'a>, ConfigError> {
        let at = self.at;
        let cpus = self
            .cpus
            .ok_or_else(|| at.err(ErrorKind::MissingProperty { name: "cpus" }))?;
        let (kernel, entry) = self
            .kernel
            .ok_or_else(|| at.child("kernel").err(ErrorKind::MissingNode))?;
        if self.memory.is_empty() {
            return Err(at.err(ErrorKind::NoMemory));
        }
        Ok(PartitionConfig {
            name: self.name,
            cpus,
            on_stop: self.on_stop,
            memory: self.memory,
            entry: entry.unwrap_or(kernel.load),
            kernel,
            dtb: self.dtb,
            initrd: self.initrd,
            console: self.console,
            devices: self.devices,
        })
    }
}
