//! A partition's child node (`memory@<ipa>`, `kernel`, `dtb`, `initrd`,
//! `console`, `watchdog`, `device@<pa>`) while it is being read: its properties are
//! decoded as they arrive and checked as a whole when the node ends.

use super::at::At;
use super::rules;
use crate::error::{ConfigError, ErrorKind};
use crate::limits::{MAX_IRQS_PER_DEVICE, MAX_STREAM_IDS};
use crate::model::{
    Device, DmaMaster, ImageRef, MemoryRegion, VsockDevice, Watchdog, WATCHDOG_FRAME_SIZE,
};
use crate::range::Range;
use heapless::Vec;

/// The kinds of node a partition may contain.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum Kind {
    /// `memory@<ipa>`.
    #[default]
    Memory,
    /// `kernel`.
    Kernel,
    /// `dtb`.
    Dtb,
    /// `initrd`.
    Initrd,
    /// `console`.
    Console,
    /// `device@<pa>`.
    Device,
    /// `watchdog`.
    Watchdog,
    /// `management`.
    Management,
    /// `vsock`.
    Vsock,
}

impl Kind {
    /// The kind of a partition's child node called `name`. `memory` and
    /// `device` nodes may carry a unit address (`memory@40000000`); the others
    /// are singletons with fixed names, so error paths can name them exactly.
    fn of(name: &str) -> Option<Self> {
        let name = name.as_bytes();
        let (base, unit) = match name.iter().position(|&b| b == b'@') {
            Some(at) => (name.get(..at).unwrap_or_default(), true),
            None => (name, false),
        };
        Some(match (base, unit) {
            (b"memory", _) => Self::Memory,
            (b"device", _) => Self::Device,
            (b"kernel", false) => Self::Kernel,
            (b"dtb", false) => Self::Dtb,
            (b"initrd", false) => Self::Initrd,
            (b"console", false) => Self::Console,
            (b"watchdog", false) => Self::Watchdog,
            (b"management", false) => Self::Management,
            (b"vsock", false) => Self::Vsock,
            _ => return None,
        })
    }

    /// The properties a node of this kind may have, for error messages.
    fn allowed(self) -> &'static str {
        match self {
            Self::Memory => "reg, phys",
            Self::Kernel => "file, load, entry",
            Self::Dtb | Self::Initrd => "file, load",
            Self::Console => "reg",
            Self::Device => {
                "reg, interrupts, ipa, compatible, dma-master, unprotected-dma, stream-ids"
            }
            Self::Watchdog => "control, refresh, interrupts",
            Self::Management => "reg",
            Self::Vsock => "reg, interrupts",
        }
    }
}

/// What a finished child node gives its partition.
pub(super) enum Part<'a> {
    /// A `memory@` node.
    Memory(MemoryRegion<'a>),
    /// A `device@` node.
    Device(Device<'a>),
    /// The `kernel` node, with its `entry` if it has one.
    Kernel(ImageRef<'a>, Option<u64>),
    /// The `dtb` node.
    Dtb(ImageRef<'a>),
    /// The `initrd` node.
    Initrd(ImageRef<'a>),
    /// The `console` node's IPA range.
    Console(Range),
    /// The `watchdog` node.
    Watchdog(Watchdog),
    /// The `management` node's IPA range.
    Management(Range),
    /// The `vsock` node.
    Vsock(VsockDevice),
}

/// A partition's child node between its start and its end. One is reused
/// for every child, so nothing large is moved per node.
///
/// Problems are placed at the node's path, built from its partition's
/// (`parent`) only when there is one.
#[derive(Default)]
pub(super) struct Child<'a> {
    kind: Kind,
    name: &'a str,
    reg: Option<Range>,
    /// `phys` of a memory region or `ipa` of a device: a range start,
    /// decoded once `reg` has given the size.
    start: Option<&'a [u8]>,
    file: Option<&'a str>,
    load: Option<u64>,
    entry: Option<u64>,
    /// A watchdog's `control` and `refresh` frame addresses.
    control: Option<u64>,
    refresh: Option<u64>,
    interrupts: Vec<u32, MAX_IRQS_PER_DEVICE>,
    /// A device's DMA marking (`dma-master`, or a known DMA master's `compatible`).
    dma: DmaMaster,
    /// A device's `unprotected-dma`.
    unprotected_dma: bool,
    /// A device's `stream-ids`.
    stream_ids: Vec<u32, MAX_STREAM_IDS>,
    /// The first bad property. It is reported when the node ends, unless a
    /// node turns up below this one: the shape of the tree is checked before
    /// the properties in it.
    error: Option<ErrorKind>,
}

impl<'a> Child<'a> {
    /// Starts reading the child node called `name` of the partition at
    /// `parent`, or says what kinds of node would be allowed instead.
    pub(super) fn begin(&mut self, parent: &At<'a>, name: &'a str) -> Result<(), ConfigError> {
        self.kind = Kind::of(name).ok_or_else(|| {
            parent.child(name).err(ErrorKind::UnknownNode {
                allowed: "memory@<ipa>, device@<pa>, kernel, dtb, initrd, console, \
                          watchdog, management, vsock (the last seven without @unit)",
            })
        })?;
        self.name = name;
        self.reg = None;
        self.start = None;
        self.file = None;
        self.load = None;
        self.entry = None;
        self.control = None;
        self.refresh = None;
        self.interrupts.clear();
        self.dma = DmaMaster::No;
        self.unprotected_dma = false;
        self.stream_ids.clear();
        self.error = None;
        Ok(())
    }

    /// What kind of node this is.
    pub(super) fn kind(&self) -> Kind {
        self.kind
    }

    /// Where this node is, given where its partition is.
    pub(super) fn at(&self, parent: &At<'a>) -> At<'a> {
        parent.child(self.name)
    }

    /// Takes in one property of this node.
    pub(super) fn property(&mut self, name: &'a str, value: &'a [u8]) {
        if self.error.is_none() {
            if let Err(error) = self.decode(name, value) {
                self.error = Some(error);
            }
        }
    }

    fn decode(&mut self, name: &'a str, value: &'a [u8]) -> Result<(), ErrorKind> {
        use Kind::{Console, Device, Dtb, Initrd, Kernel, Management, Memory, Vsock, Watchdog};
        match (self.kind, name) {
            (Memory | Device | Console | Management | Vsock, "reg") => {
                self.reg = Some(rules::reg(value)?)
            }
            (Memory, "phys") | (Device, "ipa") => self.start = Some(value),
            (Watchdog, "control") => self.control = Some(frame(value, "control")?),
            (Watchdog, "refresh") => self.refresh = Some(frame(value, "refresh")?),
            (Device | Watchdog | Vsock, "interrupts") => {
                let list = crate::cells::u32_list(value).ok_or_else(|| {
                    rules::bad("interrupts", "must be a list of cells, one GIC INTID each")
                })?;
                for intid in list {
                    self.interrupts
                        .push(intid)
                        .map_err(|_| ErrorKind::TooMany {
                            what: "interrupts on a device",
                            max: MAX_IRQS_PER_DEVICE,
                        })?;
                }
            }
            (Device, "compatible") => {
                let list = crate::cells::string_list(value).ok_or_else(|| {
                    rules::bad("compatible", "must be a list of non-empty strings")
                })?;
                if let Some(known) = crate::dma::known_in(list) {
                    if self.dma == DmaMaster::No {
                        self.dma = DmaMaster::Known(known);
                    }
                }
            }
            (Device, "dma-master") => {
                rules::flag_property(value, "dma-master")?;
                if self.dma == DmaMaster::No {
                    self.dma = DmaMaster::Marked;
                }
            }
            (Device, "unprotected-dma") => {
                rules::flag_property(value, "unprotected-dma")?;
                self.unprotected_dma = true;
            }
            (Device, "stream-ids") => self.stream_ids = rules::stream_ids(value)?,
            (Kernel | Dtb | Initrd, "file") => self.file = Some(rules::file(value)?),
            (Kernel | Dtb | Initrd, "load") => self.load = Some(rules::address(value, "load")?),
            (Kernel, "entry") => self.entry = Some(rules::address(value, "entry")?),
            _ => rules::check_ignored(name, value, self.kind.allowed())?,
        }
        Ok(())
    }

    /// Ends the node: its first bad property, a missing required property,
    /// or what it gives the partition.
    pub(super) fn end(&mut self, parent: &At<'a>) -> Result<Part<'a>, ConfigError> {
        self.finish().map_err(|kind| self.at(parent).err(kind))
    }

    fn finish(&mut self) -> Result<Part<'a>, ErrorKind> {
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        let missing = |name| ErrorKind::MissingProperty { name };
        let reg = || self.reg.ok_or_else(|| missing("reg"));
        Ok(match self.kind {
            Kind::Memory => {
                let ipa = reg()?;
                let phys = match self.start {
                    Some(value) => Some(rules::start(value, ipa.size, "phys")?),
                    None => None,
                };
                Part::Memory(MemoryRegion {
                    node: self.name,
                    ipa,
                    phys,
                })
            }
            Kind::Device => {
                let phys = reg()?;
                let ipa = match self.start {
                    Some(value) => rules::start(value, phys.size, "ipa")?,
                    None => phys.start,
                };
                Part::Device(Device {
                    node: self.name,
                    phys,
                    ipa,
                    interrupts: self.interrupts.clone(),
                    dma: self.dma,
                    unprotected_dma: self.unprotected_dma,
                    stream_ids: self.stream_ids.clone(),
                })
            }
            Kind::Console => Part::Console(reg()?),
            Kind::Management => Part::Management(reg()?),
            Kind::Vsock => {
                let window = reg()?;
                let intid = match self.interrupts.as_slice() {
                    [intid] => *intid,
                    [] => return Err(missing("interrupts")),
                    _ => {
                        return Err(rules::bad(
                            "interrupts",
                            "must be 1 cell: the INTID the vsock device raises",
                        ))
                    }
                };
                Part::Vsock(VsockDevice { window, intid })
            }
            Kind::Watchdog => {
                let control = self.control.ok_or_else(|| missing("control"))?;
                let refresh = self.refresh.ok_or_else(|| missing("refresh"))?;
                let intid = match self.interrupts.as_slice() {
                    [intid] => *intid,
                    [] => return Err(missing("interrupts")),
                    _ => {
                        return Err(rules::bad(
                            "interrupts",
                            "must be 1 cell: the INTID the watchdog's first signal raises",
                        ))
                    }
                };
                Part::Watchdog(Watchdog {
                    control: Range::new(control, WATCHDOG_FRAME_SIZE),
                    refresh: Range::new(refresh, WATCHDOG_FRAME_SIZE),
                    intid,
                })
            }
            Kind::Kernel | Kind::Dtb | Kind::Initrd => {
                let file = self.file.ok_or_else(|| missing("file"))?;
                let load = self.load.ok_or_else(|| missing("load"))?;
                let image = ImageRef { file, load };
                match self.kind {
                    Kind::Kernel => Part::Kernel(image, self.entry),
                    Kind::Dtb => Part::Dtb(image),
                    _ => Part::Initrd(image),
                }
            }
        })
    }
}

/// Decodes a watchdog frame's address (`control`, `refresh`): two cells, a 4 KiB frame that
/// does not wrap.
fn frame(value: &[u8], name: &'static str) -> Result<u64, ErrorKind> {
    rules::start(value, WATCHDOG_FRAME_SIZE, name)
}
