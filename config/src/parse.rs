//! Parsing a configuration DTB into a [`Config`].
//!
//! Parsing checks syntax: node and property names, cell counts, required
//! items and capacities. The first problem found is returned. Whether the
//! configuration fits a board is [`crate::validate()`]'s job.
//!
//! The blob is read in a single pass ([`structure::walk`]). A [`Parser`]
//! follows where each node and property falls in the tree and builds the
//! configuration as it goes: a partition takes its slot in the configuration
//! when it begins and is checked for completeness when it ends; a child node
//! of a partition becomes a memory region, image, console or device when it
//! ends. Nothing large is moved on the way (a configuration is ~15 KiB, and
//! each move of it costs thousands of instructions at EL2).
//!
//! Which problem is the first: a problem in the blob's structure, wherever it
//! is; then, in document order, problems with the root's properties (and
//! `compatible` or `board` missing), with the root's child nodes (anything
//! but one `partitions` and at most one `channels`), and with each partition
//! and channel in turn. Two exceptions to document order keep a node's shape
//! ahead of its contents: a bad child of the root is reported before anything
//! inside `/partitions` or `/channels`, and a node below a partition's child
//! before that child's properties.

mod at;
mod channel;
mod child;
mod partition;
mod rules;
mod shared_memory;

use crate::cells;
use crate::error::{ConfigError, ErrorKind};
use crate::fdt_scan::{Event, StrictEvent};
use crate::limits::{MAX_CHANNELS, MAX_PARTITIONS};
use crate::model::Config;
use crate::structure;
use at::At;
use channel::ChannelReader;
use child::Child;
use heapless::Vec;
use partition::Partition;

/// The `compatible` string a configuration's root node must carry.
pub const COMPATIBLE: &str = "bulkhead,config";

impl<'a> Config<'a> {
    /// Parses a configuration DTB (compiled from a `.dts` by `dtc`).
    ///
    /// The blob is read once, and its structure is checked as it is read,
    /// so a malformed blob yields [`ErrorKind::NotADeviceTree`] rather than a
    /// panic. The returned configuration borrows its strings from `dtb`.
    pub fn parse(dtb: &'a [u8]) -> Result<Config<'a>, ConfigError> {
        let mut config = Config::empty();
        config.parse_into(dtb)?;
        Ok(config)
    }

    /// A configuration without partitions or channels, what [`Config::parse_into`] starts from.
    pub const fn empty() -> Config<'a> {
        Config {
            board: "",
            partitions: Vec::new(),
            channels: Vec::new(),
            console: crate::model::ConsoleOptions {
                focus: None,
                baud: 0,
            },
            console_uart: None,
            on_last_stop: crate::model::LastStop::Halt,
        }
    }

    /// [`Config::parse`] into `self`, which must be [`Config::empty`], where it lies: a
    /// configuration is ~17 KiB, and returning one by value moves it (thousands of
    /// instructions at EL2 for each move). On an error `self` holds what was read so far.
    pub fn parse_into(&mut self, dtb: &'a [u8]) -> Result<(), ConfigError> {
        Parser::new(self).run(|parser| structure::walk(dtb, |event| parser.event(event)))
    }
}

/// The child of the root being read.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum Section {
    /// None, or one that is an error.
    #[default]
    Other,
    /// `/partitions`.
    Partitions,
    /// `/channels`.
    Channels,
}

/// Builds a [`Config`] from the events of one walk over a blob.
struct Parser<'a, 'c> {
    /// What has been built so far. The partition being read is the last one.
    config: &'c mut Config<'a>,
    /// How many nodes are open.
    open: usize,
    /// The first problem found.
    error: Option<ConfigError>,
    /// Whether `error` lies inside `/partitions` or `/channels`, where a bad
    /// child of the root, found later, replaces it.
    error_inside: bool,
    /// Whether the root's `compatible` includes [`COMPATIBLE`].
    compatible: bool,
    /// Whether the root has a `board`.
    board: bool,
    /// Whether the root's properties have been checked for completeness,
    /// which happens once they are all known: when the root's first child
    /// begins, or the root ends.
    root_checked: bool,
    /// Whether `/partitions` has begun.
    found_partitions: bool,
    /// Whether `/channels` has begun.
    found_channels: bool,
    /// The child of the root being read.
    section: Section,
    /// Whether the partition being read is one more than
    /// [`MAX_PARTITIONS`]. It is still read, into the last slot, because a
    /// problem inside it is reported before its being one too many; the
    /// configuration is never returned then, so the slot is free to reuse.
    overflow: bool,
    /// The partition being read, beyond its slot.
    partition: Partition<'a>,
    /// The partition's child node being read.
    child: Child<'a>,
    /// The channel being read, beyond its slot.
    channel: ChannelReader<'a>,
    /// The channel's `shared-memory` node being read.
    shared: shared_memory::SharedMemoryReader<'a>,
}

impl<'a, 'c> Parser<'a, 'c> {
    /// A parser that builds into `config`, which starts empty.
    fn new(config: &'c mut Config<'a>) -> Self {
        Self {
            config,
            open: 0,
            error: None,
            error_inside: false,
            compatible: false,
            board: false,
            root_checked: false,
            found_partitions: false,
            found_channels: false,
            section: Section::Other,
            overflow: false,
            partition: Partition::default(),
            child: Child::default(),
            channel: ChannelReader::default(),
            shared: shared_memory::SharedMemoryReader::default(),
        }
    }

    /// Runs `walk`, which feeds every event of one pass over a blob to the
    /// parser, and returns a structural problem, or the first other problem.
    fn run(
        mut self,
        walk: impl FnOnce(&mut Self) -> Result<(), ErrorKind>,
    ) -> Result<(), ConfigError> {
        walk(&mut self).map_err(|kind| At::root().err(kind))?;
        match self.error {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Takes in one event of the walk.
    fn event(&mut self, event: StrictEvent<'a>) {
        match event {
            Event::Begin { name, depth } => {
                self.open = depth.saturating_add(1);
                self.begin(name, depth);
            }
            Event::Property { name, value } => {
                if self.error.is_none() {
                    let result = self.property(name, value);
                    self.record(result, self.open > 1);
                }
            }
            Event::End => {
                self.open = self.open.saturating_sub(1);
                if self.error.is_none() {
                    let result = self.end(self.open);
                    self.record(result, self.open > 0);
                }
            }
        }
    }

    /// Keeps the error in `result` if it is the first; `inside` says whether
    /// it lies inside `/partitions`.
    fn record(&mut self, result: Result<(), ConfigError>, inside: bool) {
        if let (Err(error), None) = (result, &self.error) {
            self.error = Some(error);
            self.error_inside = inside;
        }
    }

    /// A node begins at `depth` (0 for the root).
    fn begin(&mut self, name: &'a str, depth: usize) {
        if depth == 1 {
            return self.root_child(name);
        }
        if self.error.is_some() {
            return;
        }
        let result = match (self.section, depth) {
            (Section::Partitions, 2) => self.begin_partition(name),
            (Section::Partitions, 3) => match self.config.partitions.last() {
                Some(slot) => self.partition.begin_child(slot, &mut self.child, name),
                None => Ok(()),
            },
            (Section::Partitions, 4) => {
                let at = self.child.at(self.partition.at()).child(name);
                Err(at.err(ErrorKind::UnknownNode {
                    allowed: "none (this node has no children)",
                }))
            }
            (Section::Channels, 2) => self.begin_channel(name),
            (Section::Channels, 3) => match self.config.channels.last() {
                Some(slot) => self.channel.child(slot, &mut self.shared, name),
                None => Ok(()),
            },
            (Section::Channels, 4) => {
                let at = At::channels().child(name);
                Err(at.err(ErrorKind::UnknownNode {
                    allowed: "none (this node has no children)",
                }))
            }
            // The root, or below a node that is already an error.
            _ => Ok(()),
        };
        self.record(result, true);
    }

    /// A child of the root begins. The first `partitions` and the first
    /// `channels` are read; anything else is an error that replaces one found
    /// inside them, because the root's children are checked before what is in
    /// them.
    fn root_child(&mut self, name: &'a str) {
        self.section = Section::Other;
        if self.error.is_some() && !self.error_inside {
            return;
        }
        if let Err(error) = self.check_root() {
            return self.record(Err(error), false);
        }
        let kind = match name {
            "partitions" if !self.found_partitions => {
                self.found_partitions = true;
                self.section = Section::Partitions;
                return;
            }
            "channels" if !self.found_channels => {
                self.found_channels = true;
                self.section = Section::Channels;
                return;
            }
            "partitions" | "channels" => ErrorKind::DuplicateName,
            _ => ErrorKind::UnknownNode {
                allowed: "partitions, channels",
            },
        };
        self.error = Some(At::root().child(name).err(kind));
        self.error_inside = false;
    }

    /// Checks, once, that the root's required properties were there.
    fn check_root(&mut self) -> Result<(), ConfigError> {
        if core::mem::replace(&mut self.root_checked, true) {
            return Ok(());
        }
        let missing = |name| At::root().err(ErrorKind::MissingProperty { name });
        if !self.compatible {
            return Err(missing("compatible"));
        }
        if !self.board {
            return Err(missing("board"));
        }
        Ok(())
    }

    /// A partition begins.
    fn begin_partition(&mut self, name: &'a str) -> Result<(), ConfigError> {
        let partitions = &mut self.config.partitions;
        let at = At::partitions().child(name).in_partition(partitions.len());
        rules::check_name(name, "partition").map_err(|kind| at.err(kind))?;
        if partitions.iter().any(|p| p.name == name) {
            return Err(at.err(ErrorKind::DuplicateName));
        }
        if let Err(empty) = partitions.push(partition::empty(name)) {
            self.overflow = true;
            if let Some(last) = partitions.last_mut() {
                *last = empty;
            }
        }
        self.partition.begin(at);
        Ok(())
    }

    /// A channel begins.
    fn begin_channel(&mut self, name: &'a str) -> Result<(), ConfigError> {
        let channels = &mut self.config.channels;
        let at = At::channels().child(name);
        rules::check_name(name, "channel").map_err(|kind| at.err(kind))?;
        if channels.iter().any(|c| c.name == name) {
            return Err(at.err(ErrorKind::DuplicateName));
        }
        channels.push(channel::empty(name)).map_err(|_| {
            at.err(ErrorKind::TooMany {
                what: "channels",
                max: MAX_CHANNELS,
            })
        })?;
        self.channel.begin(at);
        Ok(())
    }

    /// A property of the innermost open node.
    fn property(&mut self, name: &'a str, value: &'a [u8]) -> Result<(), ConfigError> {
        match (self.open, self.section) {
            (1, _) => self.root_property(name, value),
            (2, Section::Partitions) => {
                rules::check_ignored(name, value, "#address-cells, #size-cells")
                    .map_err(|kind| At::partitions().err(kind))
            }
            (2, Section::Channels) => {
                rules::check_ignored(name, value, "#address-cells, #size-cells")
                    .map_err(|kind| At::channels().err(kind))
            }
            (3, Section::Partitions) => match self.config.partitions.last_mut() {
                Some(slot) => self.partition.property(slot, name, value),
                None => Ok(()),
            },
            (3, Section::Channels) => match self.config.channels.last_mut() {
                Some(slot) => self.channel.property(slot, name, value),
                None => Ok(()),
            },
            (4, Section::Partitions) => {
                self.child.property(name, value);
                Ok(())
            }
            (4, Section::Channels) if self.shared.seen() => self.shared.property(name, value),
            _ => Ok(()),
        }
    }

    /// A property of the root.
    fn root_property(&mut self, name: &'a str, value: &'a [u8]) -> Result<(), ConfigError> {
        let result = match name {
            "compatible" => {
                self.compatible =
                    cells::string_list(value).is_some_and(|mut list| list.any(|s| s == COMPATIBLE));
                if self.compatible {
                    Ok(())
                } else {
                    Err(rules::bad("compatible", "must be \"bulkhead,config\""))
                }
            }
            "board" => match cells::string(value) {
                Some(board) => {
                    self.config.board = board;
                    self.board = true;
                    Ok(())
                }
                None => Err(rules::bad("board", rules::WHY_STRING)),
            },
            "model" => match cells::string(value) {
                Some(_) => Ok(()),
                None => Err(rules::bad("model", rules::WHY_STRING)),
            },
            "console-focus" => match cells::string(value) {
                Some(partition) => {
                    self.config.console.focus = Some(partition);
                    Ok(())
                }
                None => Err(rules::bad("console-focus", rules::WHY_STRING)),
            },
            "console-baud" => match cells::u32_cell(value) {
                Some(baud) if baud <= 4_000_000 => {
                    self.config.console.baud = baud;
                    Ok(())
                }
                _ => Err(rules::bad(
                    "console-baud",
                    "must be one cell: a baud rate up to 4000000 (0: no pacing)",
                )),
            },
            "console" => match cells::string(value) {
                Some(console @ ("pl011" | "mini-uart")) => {
                    self.config.console_uart = Some(console);
                    Ok(())
                }
                _ => Err(rules::bad("console", "must be \"pl011\" or \"mini-uart\"")),
            },
            "on-last-stop" => match cells::string(value) {
                Some("halt") => {
                    self.config.on_last_stop = crate::model::LastStop::Halt;
                    Ok(())
                }
                Some("reset") => {
                    self.config.on_last_stop = crate::model::LastStop::Reset;
                    Ok(())
                }
                _ => Err(rules::bad("on-last-stop", "must be \"halt\" or \"reset\"")),
            },
            _ => rules::check_ignored(
                name,
                value,
                "compatible, board, model, console, console-focus, console-baud, on-last-stop",
            ),
        };
        result.map_err(|kind| At::root().err(kind))
    }

    /// The node at `depth` ends.
    fn end(&mut self, depth: usize) -> Result<(), ConfigError> {
        match depth {
            0 => {
                self.check_root()?;
                if !self.found_partitions {
                    return Err(At::partitions().err(ErrorKind::MissingNode));
                }
            }
            1 if self.section == Section::Partitions && self.config.partitions.is_empty() => {
                return Err(At::partitions().err(ErrorKind::NoPartitions));
            }
            2 if self.section == Section::Partitions => {
                if let Some(slot) = self.config.partitions.last_mut() {
                    self.partition.end(slot)?;
                }
                if self.overflow {
                    return Err(self.partition.at().err(ErrorKind::TooMany {
                        what: "partitions",
                        max: MAX_PARTITIONS,
                    }));
                }
            }
            2 if self.section == Section::Channels => self.channel.end()?,
            3 if self.section == Section::Channels && self.shared.seen() => {
                if let Some(slot) = self.config.channels.last_mut() {
                    self.shared.end(slot)?;
                }
            }
            3 if self.section == Section::Partitions => {
                if let Some(slot) = self.config.partitions.last_mut() {
                    self.partition.end_child(slot, &mut self.child)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
