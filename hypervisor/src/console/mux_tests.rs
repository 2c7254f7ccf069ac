//! The multiplexer over fake channels and terminals: tags, turns, wrapping, drops, the wire's
//! room, hypervisor messages and each partition's own wake.

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
