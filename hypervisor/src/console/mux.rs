//! The multiplexer: many partitions' output rings, one terminal.
//!
//! Each line on the terminal belongs to one partition and starts with its tag, `[name] `
//! (coloured, and the focused partition's tag in inverse video, when colour is on). Bytes of two
//! partitions never share a line: a partition's line is sent once it is complete, or once the
//! partition has been quiet for the quiet time (so a prompt without a newline appears); such an
//! open line is continued as the partition writes more (a typed answer echoes after its prompt),
//! and is ended with a newline the moment another partition has something to show. Lines longer
//! than [`MAX_LINE`] characters are wrapped (each part tagged). Partitions take turns line by
//! line, so a flood delays nobody else by more than a line.
//!
//! The multiplexer only ever writes as many bytes as the wire has room for ([`Wire::room`]), so
//! draining never waits; [`Multiplexer::pump`] says when it wants to run again. Bytes a full
//! ring dropped are reported, as a hypervisor line `HIL:CONSOLE partition=<name> dropped=<N>`
//! (the total since boot) before that partition's next line, at most once a second.
//!
//! Pure: the board's glue (`board.rs`) supplies the rings behind their locks, the time and the
//! UART.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use core::fmt::Write;

use bulkhead_config::MAX_PARTITIONS;
use heapless::{Deque, String};

use super::filter::{Filtered, OutputFilter};
use super::ring::OutputRing;

/// Characters of guest text on one terminal line before it is wrapped.
pub const MAX_LINE: usize = 200;

/// The terminal as the multiplexer sees it.
pub trait Wire {
    /// How many bytes may be written now without waiting.
    fn room(&mut self) -> usize;
    /// Writes one byte (only after [`Wire::room`] said there is room).
    fn put(&mut self, byte: u8);
}

/// One partition's side of the console: its ring and when it last wrote.
#[derive(Clone, Debug)]
pub struct Channel {
    /// What it wrote and the terminal has not shown yet.
    pub ring: OutputRing,
    /// The time of its last write (counter ticks).
    pub last_write: u64,
}

impl Default for Channel {
    fn default() -> Self {
        Self::new()
    }
}

impl Channel {
    /// An empty channel.
    pub const fn new() -> Self {
        Channel {
            ring: OutputRing::new(),
            last_write: 0,
        }
    }

    /// Adds output written at time `now`.
    pub fn write(&mut self, bytes: &[u8], now: u64) {
        self.ring.push(bytes);
        self.last_write = now;
    }
}

/// Access to the partitions' channels (each behind its own lock on the board).
pub trait Channels {
    /// Runs `f` on partition `partition`'s channel; `None` if there is no such partition.
    fn with<R>(&self, partition: usize, f: impl FnOnce(&mut Channel) -> R) -> Option<R>;
}

/// How the tags look.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct View {
    /// The partition that has the keyboard, if any.
    pub focus: Option<usize>,
    /// Whether tags are coloured (ANSI SGR), for a terminal.
    pub colour: bool,
}

/// When the multiplexer wants [`Multiplexer::pump`] called again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wake {
    /// Nothing is waiting: at the next write.
    Idle,
    /// At this time (a partial line's quiet time ends).
    At(u64),
    /// As soon as the wire has room again.
    WireFull,
}

/// A wire that always has room: what a hypervisor message writes to (it waits for the UART).
struct Unpaced<F: FnMut(u8)>(F);

impl<F: FnMut(u8)> Wire for Unpaced<F> {
    fn room(&mut self) -> usize {
        usize::MAX
    }
    fn put(&mut self, byte: u8) {
        (self.0)(byte);
    }
}

/// Bytes the multiplexer itself adds (tags, line ends, notices), waiting for the wire.
const STAGED: usize = 128;
/// Most bytes taken from a channel under one hold of its lock: a few dozen instructions of
/// locking and lookup saved per byte of a partition's output.
const BATCH: usize = 32;

/// The multiplexer's state.
#[derive(Debug)]
pub struct Multiplexer {
    names: [String<32>; MAX_PARTITIONS],
    count: usize,
    filters: [OutputFilter; MAX_PARTITIONS],
    /// The partition whose line is open on the terminal, and how many characters it has.
    open: Option<usize>,
    column: usize,
    staged: Deque<u8, STAGED>,
    /// The partition whose line the staged bytes start or end (the last one staged for).
    staged_for: Option<usize>,
    /// The partition to look at first for the next line (round robin).
    next: usize,
    /// Ticks of silence after which a partial line is shown.
    quiet: u64,
    /// Ticks between two dropped-bytes notices of one partition.
    notice_interval: u64,
    /// The dropped count last reported, and when, per partition.
    reported: [(u64, u64); MAX_PARTITIONS],
}

impl Multiplexer {
    /// A multiplexer for partitions `names` (in partition order) that shows a partial line after
    /// `quiet` ticks of silence and reports drops at most every `notice_interval` ticks.
    pub fn new<'a>(
        names: impl IntoIterator<Item = &'a str>,
        quiet: u64,
        notice_interval: u64,
    ) -> Self {
        let mut mux = Multiplexer {
            names: [const { String::new() }; MAX_PARTITIONS],
            count: 0,
            filters: [OutputFilter::default(); MAX_PARTITIONS],
            open: None,
            column: 0,
            staged: Deque::new(),
            staged_for: None,
            next: 0,
            quiet,
            notice_interval,
            reported: [(0, 0); MAX_PARTITIONS],
        };
        for (slot, name) in mux.names.iter_mut().zip(names) {
            for c in name.chars() {
                let _ = slot.push(c);
            }
            mux.count += 1;
        }
        mux
    }

    /// The partitions' names, in partition order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().take(self.count).map(String::as_str)
    }

    /// Whether the multiplexer has an unfinished line on the terminal or bytes of its own
    /// waiting: what a hypervisor message must end first ([`Multiplexer::interrupt`]).
    pub fn is_mid_line(&self) -> bool {
        self.open.is_some() || !self.staged.is_empty()
    }

    /// Makes way for a hypervisor message: every byte the multiplexer has staged, the rest of an
    /// open line when its partition has already written it to its newline (a line the partition
    /// wrote whole is never split by a hypervisor message), and the end of the open line go to
    /// `out` (which may wait: hypervisor messages are never dropped).
    pub fn interrupt(&mut self, channels: &impl Channels, out: impl FnMut(u8)) {
        let mut wire = Unpaced(out);
        if let Some(partition) = self.open {
            let whole = channels
                .with(partition, |c| c.ring.has_line())
                .unwrap_or(false);
            // Staged bytes come before the line's rest; then the rest, up to its newline (or
            // until the line wraps and the multiplexer ends it).
            while whole && self.open == Some(partition) {
                let _ = self.flush_staged(&mut wire);
                let Some(byte) = channels.with(partition, |c| c.ring.pop()).flatten() else {
                    break;
                };
                self.emit(partition, byte, &mut wire);
            }
        }
        if self.open.is_some() {
            self.end_line();
        }
        while let Some(byte) = self.staged.pop_front() {
            wire.put(byte);
        }
    }

    /// Moves output from the channels to `wire`, as much as it has room for; says when to call
    /// again.
    pub fn pump(
        &mut self,
        channels: &impl Channels,
        now: u64,
        view: View,
        wire: &mut impl Wire,
    ) -> Wake {
        loop {
            if !self.flush_staged(wire) {
                return Wake::WireFull;
            }
            match self.open {
                Some(partition) => {
                    // Up to BATCH bytes at once, as many as the wire takes now, ending at a
                    // newline and before the line must wrap: only the batch's last byte can
                    // end the line, so no byte taken is left over when another partition's
                    // turn comes, and what the wire cannot take yet stays in the ring.
                    let room = MAX_LINE
                        .saturating_sub(self.column)
                        .min(wire.room())
                        .clamp(1, BATCH);
                    let mut batch = [0u8; BATCH];
                    let (cut, taken) = channels
                        .with(partition, |c| {
                            if c.ring.take_cut() {
                                return (true, 0);
                            }
                            let mut taken = 0;
                            for slot in batch.iter_mut().take(room) {
                                let Some(byte) = c.ring.pop() else { break };
                                *slot = byte;
                                taken += 1;
                                if byte == b'\n' {
                                    break;
                                }
                            }
                            (false, taken)
                        })
                        .unwrap_or((false, 0));
                    match batch.get(..taken).unwrap_or_default() {
                        // The rest of this line was dropped: end it, marked; the ring goes on
                        // at the start of a line.
                        [] if cut => {
                            if self.column > 0 {
                                self.stage(b" [cut]");
                                self.end_line();
                            }
                        }
                        // Another partition's output ends this partial line; else it stays
                        // open for what this partition writes next.
                        [] => match self.pick(channels, now, Some(partition)) {
                            Some(_) => self.end_line(),
                            None => return self.wake(channels, now),
                        },
                        bytes => {
                            for &byte in bytes {
                                self.emit(partition, byte, wire);
                            }
                        }
                    }
                }
                None => match self.pick(channels, now, None) {
                    Some(partition) => self.start_line(channels, partition, now, view),
                    None => return self.wake(channels, now),
                },
            }
        }
    }

    /// Writes staged bytes; `false` if the wire filled up first.
    fn flush_staged(&mut self, wire: &mut impl Wire) -> bool {
        while let Some(&byte) = self.staged.front() {
            if wire.room() == 0 {
                return false;
            }
            wire.put(byte);
            let _ = self.staged.pop_front();
        }
        wire.room() > 0
    }

    fn stage(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            let _ = self.staged.push_back(byte);
        }
    }

    /// Whether partition `partition` has something to show now.
    fn ready(&self, channel: &Channel, now: u64) -> bool {
        channel.ring.has_line()
            || channel.ring.len() >= channel.ring.capacity() / 2
            || (!channel.ring.is_empty() && now.saturating_sub(channel.last_write) >= self.quiet)
    }

    /// The next partition (round robin, `except` left out) with something to show.
    fn pick(&mut self, channels: &impl Channels, now: u64, except: Option<usize>) -> Option<usize> {
        let count = self.count.max(1);
        (0..self.count)
            .map(|i| (self.next + i) % count)
            .filter(|&p| Some(p) != except)
            .find(|&p| channels.with(p, |c| self.ready(c, now)).unwrap_or(false))
    }

    /// What partition `partition`'s own output still needs after a [`Multiplexer::pump`] that
    /// returned `pumped`: the wire again if any of it (its ring's bytes, or staged bytes of its
    /// line) waits for the wire, its partial line's quiet time, or nothing. A CPU arms only its
    /// own partition's wake, so no partition's CPU is interrupted for another's output.
    pub fn wake_of(
        &self,
        channels: &impl Channels,
        now: u64,
        partition: usize,
        pumped: Wake,
    ) -> Wake {
        let ring = channels
            .with(partition, |c| (!c.ring.is_empty()).then_some(c.last_write))
            .flatten();
        let staged = !self.staged.is_empty() && self.staged_for == Some(partition);
        match pumped {
            Wake::WireFull if ring.is_some() || staged => Wake::WireFull,
            Wake::WireFull => Wake::Idle,
            Wake::At(_) | Wake::Idle => ring.map_or(Wake::Idle, |last| {
                Wake::At(last.saturating_add(self.quiet).max(now))
            }),
        }
    }

    /// Whether partition `partition` has output the terminal has not shown (its ring's, or staged
    /// bytes of its line).
    pub fn has_pending(&self, channels: &impl Channels, partition: usize) -> bool {
        channels
            .with(partition, |c| !c.ring.is_empty())
            .unwrap_or(false)
            || (!self.staged.is_empty() && self.staged_for == Some(partition))
    }

    /// When a waiting partial line's quiet time is over, if any.
    fn wake(&self, channels: &impl Channels, now: u64) -> Wake {
        (0..self.count)
            .filter_map(|p| {
                channels
                    .with(p, |c| {
                        (!c.ring.is_empty()).then(|| c.last_write.saturating_add(self.quiet))
                    })
                    .flatten()
            })
            .min()
            .map_or(Wake::Idle, |at| Wake::At(at.max(now)))
    }

    /// Stages the tag of a new line of `partition` (after a dropped-bytes notice, if due).
    fn start_line(&mut self, channels: &impl Channels, partition: usize, now: u64, view: View) {
        self.next = (partition + 1) % self.count.max(1);
        let dropped = channels
            .with(partition, |c| {
                // A line starts here: a cut before it took nothing of it.
                let _ = c.ring.take_cut();
                c.ring.dropped()
            })
            .unwrap_or(0);
        let Some(name) = self.names.get(partition).cloned() else {
            return;
        };
        if let Some(reported) = self.reported.get_mut(partition) {
            let due = reported.1 == 0 || now.saturating_sub(reported.1) >= self.notice_interval;
            if dropped > reported.0 && due {
                *reported = (dropped, now.max(1));
                let mut notice: String<STAGED> = String::new();
                let _ = write!(notice, "HIL:CONSOLE partition={name} dropped={dropped}\r\n");
                self.stage(notice.as_bytes());
            }
        }
        let mut tag: String<64> = String::new();
        if view.colour {
            // Six colours in turn; the focused partition's tag in inverse video.
            let colour = 31 + partition % 6;
            let inverse = if view.focus == Some(partition) {
                ";7"
            } else {
                ""
            };
            let _ = write!(tag, "\x1b[1;{colour}{inverse}m[{name}]\x1b[0m ");
        } else {
            let _ = write!(tag, "[{name}] ");
        }
        self.stage(tag.as_bytes());
        self.staged_for = Some(partition);
        self.open = Some(partition);
        self.column = 0;
    }

    fn end_line(&mut self) {
        self.stage(b"\r\n");
        self.staged_for = self.open.or(self.staged_for);
        self.open = None;
        self.column = 0;
    }

    /// Writes one byte of `partition`'s open line: straight to `wire` when nothing is staged
    /// before it and the wire has room, else staged behind what is.
    fn emit(&mut self, partition: usize, byte: u8, wire: &mut impl Wire) {
        let Some(filter) = self.filters.get_mut(partition) else {
            return;
        };
        match filter.filter(byte, self.column) {
            Filtered::Nothing => {}
            Filtered::Text(text) => {
                if self.staged.is_empty() && wire.room() > 0 {
                    wire.put(text);
                } else {
                    self.stage(&[text]);
                }
                self.column += 1;
                if self.column >= MAX_LINE {
                    self.end_line();
                }
            }
            Filtered::Backspace => {
                self.stage(&[0x08]);
                self.column = self.column.saturating_sub(1);
            }
            Filtered::EndOfLine => self.end_line(),
        }
    }
}

#[cfg(test)]
#[path = "mux_tests.rs"]
mod tests;
