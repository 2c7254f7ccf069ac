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
mod tests {
    use super::*;
    use core::cell::RefCell;

    struct Fixture(Vec<RefCell<Channel>>);
    impl Channels for Fixture {
        fn with<R>(&self, partition: usize, f: impl FnOnce(&mut Channel) -> R) -> Option<R> {
            self.0.get(partition).map(|c| f(&mut c.borrow_mut()))
        }
    }
    impl Fixture {
        fn new(n: usize) -> Self {
            Fixture((0..n).map(|_| RefCell::new(Channel::default())).collect())
        }
        fn write(&self, partition: usize, bytes: &[u8], now: u64) {
            self.0[partition].borrow_mut().write(bytes, now);
        }
    }

    /// A terminal with room for `room` bytes per pump (usize::MAX: unlimited).
    struct Terminal {
        text: Vec<u8>,
        room: usize,
    }
    impl Wire for Terminal {
        fn room(&mut self) -> usize {
            self.room
        }
        fn put(&mut self, byte: u8) {
            self.text.push(byte);
            self.room -= 1;
        }
    }
    fn terminal() -> Terminal {
        Terminal {
            text: Vec::new(),
            room: usize::MAX,
        }
    }
    impl Terminal {
        fn string(&self) -> String<4096> {
            let mut s = String::new();
            let _ = s.push_str(core::str::from_utf8(&self.text).unwrap());
            s
        }
    }

    const QUIET: u64 = 100;
    const PLAIN: View = View {
        focus: None,
        colour: false,
    };

    fn mux() -> Multiplexer {
        Multiplexer::new(["linux", "rtos"], QUIET, 1000)
    }

    #[test]
    fn each_partition_is_woken_only_for_its_own_output() {
        let (mut mux, channels, mut wire) = (mux(), Fixture::new(2), terminal());
        // Linux leaves a partial line; the RTOS writes a whole one, which ends Linux's line on
        // the terminal but not in Linux's ring (nothing is left there: it was shown).
        channels.write(0, b"partial", 0);
        channels.write(1, b"tick\n", 5);
        let pumped = mux.pump(&channels, 10, PLAIN, &mut wire);
        assert_eq!(
            mux.wake_of(&channels, 10, 1, pumped),
            Wake::Idle,
            "the RTOS: nothing"
        );
        // Linux writes more, unfinished: its quiet time is its own business, not the RTOS's.
        channels.write(0, b" more", 20);
        let pumped = mux.pump(&channels, 30, PLAIN, &mut wire);
        assert_eq!(pumped, Wake::At(20 + QUIET));
        assert_eq!(mux.wake_of(&channels, 30, 1, pumped), Wake::Idle);
        assert_eq!(mux.wake_of(&channels, 30, 0, pumped), Wake::At(20 + QUIET));
        assert!(mux.has_pending(&channels, 0) && !mux.has_pending(&channels, 1));
    }

    #[test]
    fn a_full_wire_wakes_only_the_partitions_whose_output_waits() {
        let (mut mux, channels) = (mux(), Fixture::new(2));
        let mut wire = Terminal {
            text: Vec::new(),
            room: 12,
        };
        channels.write(0, b"ok\n", 0);
        channels.write(1, b"a long line of rtos output\n", 0);
        let pumped = mux.pump(&channels, 1, PLAIN, &mut wire);
        assert_eq!(pumped, Wake::WireFull);
        assert_eq!(
            wire.string(),
            "[linux] ok\r\n",
            "Linux's line went out whole"
        );
        assert_eq!(mux.wake_of(&channels, 1, 0, pumped), Wake::Idle);
        assert_eq!(mux.wake_of(&channels, 1, 1, pumped), Wake::WireFull);
        // Only staged bytes left of Linux's line (its tag): still Linux's.
        let channels = Fixture::new(2);
        let (mut mux, mut wire) = (
            super::Multiplexer::new(["linux", "rtos"], QUIET, 1000),
            Terminal {
                text: Vec::new(),
                room: 3,
            },
        );
        channels.write(0, b"x\n", 0);
        let pumped = mux.pump(&channels, 1, PLAIN, &mut wire);
        assert_eq!(pumped, Wake::WireFull);
        assert!(mux.has_pending(&channels, 0));
        assert_eq!(mux.wake_of(&channels, 1, 0, pumped), Wake::WireFull);
        assert_eq!(mux.wake_of(&channels, 1, 1, pumped), Wake::Idle);
    }

    #[test]
    fn whole_lines_are_tagged_with_their_partition() {
        let (mut mux, channels, mut wire) = (mux(), Fixture::new(2), terminal());
        channels.write(0, b"hello\r\n", 0);
        channels.write(1, b"tick\n", 0);
        assert_eq!(mux.pump(&channels, 1, PLAIN, &mut wire), Wake::Idle);
        assert_eq!(wire.string(), "[linux] hello\r\n[rtos] tick\r\n");
    }

    #[test]
    fn bytes_of_two_partitions_never_share_a_line() {
        let (mut mux, channels, mut wire) = (mux(), Fixture::new(2), terminal());
        channels.write(0, b"Login: ", 0);
        channels.write(1, b"beat 1\n", 0);
        // The RTOS's whole line goes first; linux's partial line waits for its quiet time.
        assert_eq!(mux.pump(&channels, 10, PLAIN, &mut wire), Wake::At(QUIET));
        assert_eq!(wire.string(), "[rtos] beat 1\r\n");
        // Quiet time over: the prompt appears without a newline...
        assert_eq!(mux.pump(&channels, QUIET, PLAIN, &mut wire), Wake::Idle);
        assert_eq!(wire.string(), "[rtos] beat 1\r\n[linux] Login: ");
        // ... its echo continues the same line at once...
        channels.write(0, b"ro", QUIET + 1);
        mux.pump(&channels, QUIET + 1, PLAIN, &mut wire);
        assert_eq!(wire.string(), "[rtos] beat 1\r\n[linux] Login: ro");
        // ... and another partition's line ends it first.
        channels.write(1, b"beat 2\n", QUIET + 2);
        channels.write(0, b"ot\n", QUIET + 3);
        mux.pump(&channels, QUIET + 3, PLAIN, &mut wire);
        assert_eq!(
            wire.string(),
            "[rtos] beat 1\r\n[linux] Login: root\r\n[rtos] beat 2\r\n"
        );
    }

    #[test]
    fn an_open_line_yields_to_another_partition_and_resumes_tagged() {
        let (mut mux, channels, mut wire) = (mux(), Fixture::new(2), terminal());
        channels.write(0, b"=> ", 0);
        mux.pump(&channels, QUIET, PLAIN, &mut wire);
        channels.write(1, b"x\n", QUIET);
        mux.pump(&channels, QUIET, PLAIN, &mut wire);
        channels.write(0, b"help\n", QUIET);
        mux.pump(&channels, QUIET, PLAIN, &mut wire);
        assert_eq!(wire.string(), "[linux] => \r\n[rtos] x\r\n[linux] help\r\n");
    }

    #[test]
    fn a_full_wire_stops_the_pump_mid_line_and_it_resumes_where_it_was() {
        let (mut mux, channels) = (mux(), Fixture::new(2));
        let mut wire = Terminal {
            text: Vec::new(),
            room: 5,
        };
        channels.write(0, b"abcdefgh\n", 0);
        channels.write(1, b"zz\n", 0);
        assert_eq!(mux.pump(&channels, 0, PLAIN, &mut wire), Wake::WireFull);
        assert_eq!(wire.string(), "[linu");
        loop {
            wire.room = 3;
            if mux.pump(&channels, 0, PLAIN, &mut wire) != Wake::WireFull {
                break;
            }
        }
        assert_eq!(wire.string(), "[linux] abcdefgh\r\n[rtos] zz\r\n");
    }

    #[test]
    fn partitions_take_turns_line_by_line() {
        let (mut mux, channels, mut wire) = (mux(), Fixture::new(2), terminal());
        channels.write(0, b"a1\na2\na3\n", 0);
        channels.write(1, b"b1\nb2\n", 0);
        mux.pump(&channels, 0, PLAIN, &mut wire);
        assert_eq!(
            wire.string(),
            "[linux] a1\r\n[rtos] b1\r\n[linux] a2\r\n[rtos] b2\r\n[linux] a3\r\n"
        );
    }

    #[test]
    fn long_lines_are_wrapped_and_each_part_tagged() {
        let (mut mux, channels, mut wire) = (mux(), Fixture::new(2), terminal());
        let long = [b'x'; MAX_LINE + 3];
        channels.write(1, &long, 0);
        channels.write(1, b"\n", 0);
        mux.pump(&channels, 0, PLAIN, &mut wire);
        let text = wire.string();
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(lines[0].len(), "[rtos] ".len() + MAX_LINE);
        assert_eq!(lines[1], "[rtos] xxx");
    }

    #[test]
    fn colour_tags_mark_the_focused_partition() {
        let (mut mux, channels, mut wire) = (mux(), Fixture::new(2), terminal());
        channels.write(0, b"a\n", 0);
        channels.write(1, b"b\n", 0);
        let view = View {
            focus: Some(1),
            colour: true,
        };
        mux.pump(&channels, 0, view, &mut wire);
        assert_eq!(
            wire.string(),
            "\x1b[1;31m[linux]\x1b[0m a\r\n\x1b[1;32;7m[rtos]\x1b[0m b\r\n"
        );
    }

    #[test]
    fn a_guest_cannot_write_escape_sequences_or_fake_a_tag_line() {
        let (mut mux, channels, mut wire) = (mux(), Fixture::new(2), terminal());
        channels.write(1, b"\x1b[2K\r[linux] fake\x1b[1A\n", 0);
        mux.pump(&channels, 0, PLAIN, &mut wire);
        assert_eq!(
            wire.string(),
            "[rtos] [linux] fake\r\n",
            "still tagged rtos, on its own line"
        );
    }

    #[test]
    fn dropped_bytes_are_reported_before_the_partitions_next_line() {
        let mut mux = Multiplexer::new(["flood"], QUIET, 1000);
        let (channels, mut wire) = (Fixture::new(1), terminal());
        let ring_size = Channel::default().ring.capacity();
        for _ in 0..ring_size / 4 + 10 {
            channels.write(0, b"abc\n", 0);
        }
        let mut limited = Terminal {
            text: Vec::new(),
            room: 0,
        };
        assert_eq!(mux.pump(&channels, 5, PLAIN, &mut limited), Wake::WireFull);
        mux.pump(&channels, 5, PLAIN, &mut wire);
        let text = wire.string_all();
        assert!(
            text.starts_with("HIL:CONSOLE partition=flood dropped=40\r\n[flood] abc\r\n"),
            "{}",
            &text[..80]
        );
        assert_eq!(text.matches("dropped=").count(), 1);
    }

    #[test]
    fn a_line_whose_rest_was_dropped_is_ended_and_marked() {
        let mut mux = Multiplexer::new(["flood"], QUIET, 1000);
        let channels = Fixture::new(1);
        let mut wire = Terminal {
            text: Vec::new(),
            room: 12,
        };
        let size = Channel::default().ring.capacity();
        channels.write(0, b"first line\n", 0);
        mux.pump(&channels, 0, PLAIN, &mut wire);
        assert_eq!(wire.string(), "[flood] firs");
        // The ring overflows: the rest of "first line" is dropped, whole lines survive.
        let line = [b'x'; 63];
        for _ in 0..size / 64 + 1 {
            channels.write(0, &line, 0);
            channels.write(0, b"\n", 0);
        }
        wire.room = 200;
        mux.pump(&channels, 0, PLAIN, &mut wire);
        let text = wire.string_all();
        assert!(
            text.starts_with("[flood] firs [cut]\r\nHIL:CONSOLE partition=flood dropped="),
            "{text}"
        );
        let x = std::string::String::from_utf8(vec![b'x'; 63]).unwrap();
        assert!(text.contains(&format!("\r\n[flood] {x}\r\n")), "{text}");
    }

    #[test]
    fn a_hypervisor_message_ends_the_open_line_first() {
        let (mut mux, channels, mut wire) = (mux(), Fixture::new(2), terminal());
        channels.write(0, b"=> ", 0);
        mux.pump(&channels, QUIET, PLAIN, &mut wire);
        assert!(mux.is_mid_line());
        mux.interrupt(&channels, |b| wire.text.push(b));
        wire.text.extend_from_slice(b"HIL:PART rtos STOPPED\r\n");
        assert!(!mux.is_mid_line());
        channels.write(0, b"x\n", QUIET);
        mux.pump(&channels, QUIET, PLAIN, &mut wire);
        assert_eq!(
            wire.string(),
            "[linux] => \r\nHIL:PART rtos STOPPED\r\n[linux] x\r\n"
        );
    }

    #[test]
    fn a_hypervisor_message_never_splits_a_line_written_whole() {
        let (mut mux, channels) = (mux(), Fixture::new(2));
        let mut wire = Terminal {
            text: Vec::new(),
            room: 12,
        };
        // The wire took only part of a whole line; the rest waits in the ring.
        channels.write(1, b"HIL:HEARTBEAT 300\n", 0);
        assert_eq!(mux.pump(&channels, 1, PLAIN, &mut wire), Wake::WireFull);
        assert_eq!(wire.string(), "[rtos] HIL:H");
        mux.interrupt(&channels, |b| wire.text.push(b));
        wire.text.extend_from_slice(b"HIL:PART flood STOPPED\r\n");
        assert_eq!(
            wire.string(),
            "[rtos] HIL:HEARTBEAT 300\r\nHIL:PART flood STOPPED\r\n",
            "the line is finished before the message"
        );
        assert!(!mux.has_pending(&channels, 1));
    }

    impl Terminal {
        fn string_all(&self) -> std::string::String {
            std::string::String::from_utf8(self.text.clone()).unwrap()
        }
    }
}
