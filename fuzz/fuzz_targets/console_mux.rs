//! The console multiplexer and keyboard (`bulkhead::console`) under random partition output,
//! time, wire room and typed bytes: they never panic; every terminal line is a partition's
//! (`[name] ` tag) or the multiplexer's own (`HIL:CONSOLE partition=... dropped=...`); no byte a
//! guest wrote puts an escape or carriage return on the terminal; the terminal never shows more
//! of a partition than it wrote; typed bytes reach only the focused partition, in order.
#![no_main]

use std::cell::RefCell;
use std::fmt;

use arbitrary::Arbitrary;
use bulkhead::console::input::{ConsoleHost, Keyboard, ManageOp};
use bulkhead::console::mux::{Channel, Channels, Multiplexer, View, Wake, Wire};
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 3] = ["linux", "rtos", "u-boot"];

#[derive(Arbitrary, Debug)]
enum Op {
    Write {
        partition: u8,
        bytes: Vec<u8>,
    },
    Pump {
        advance: u16,
        room: u8,
        colour: bool,
    },
    Type {
        bytes: Vec<u8>,
        room: u8,
    },
    /// A hypervisor message (`interrupt`, then the message's own line).
    Message,
}

struct Fixture(Vec<RefCell<Channel>>);
impl Channels for Fixture {
    fn with<R>(&self, partition: usize, f: impl FnOnce(&mut Channel) -> R) -> Option<R> {
        self.0.get(partition).map(|c| f(&mut c.borrow_mut()))
    }
}

struct Terminal {
    text: Vec<u8>,
    room: usize,
}
impl Wire for Terminal {
    fn room(&mut self) -> usize {
        self.room
    }
    fn put(&mut self, byte: u8) {
        assert!(self.room > 0, "the multiplexer wrote past the wire's room");
        self.text.push(byte);
        self.room -= 1;
    }
}

struct Host {
    input: Vec<(usize, Vec<u8>)>,
    room: usize,
}
impl ConsoleHost for Host {
    fn partitions(&self) -> usize {
        NAMES.len()
    }
    fn name(&self, partition: usize) -> &str {
        NAMES[partition]
    }
    fn state(&self, _: usize) -> &'static str {
        "running"
    }
    fn console_kind(&self, partition: usize) -> &'static str {
        if partition == 2 {
            "passthrough"
        } else {
            "virtual"
        }
    }
    fn dropped(&self, _: usize) -> u64 {
        0
    }
    fn send_input(&mut self, partition: usize, bytes: &[u8]) -> usize {
        assert!(
            partition < 2,
            "input only reaches partitions with a virtual console"
        );
        let taken = bytes.len().min(self.room);
        self.room -= taken;
        self.input.push((partition, bytes[..taken].to_vec()));
        taken
    }
    fn print(&mut self, _: fmt::Arguments<'_>) {}
    fn manage(&mut self, partition: usize, _: ManageOp) {
        assert!(
            partition < NAMES.len(),
            "only a partition that exists is managed"
        );
    }
}

fuzz_target!(|ops: Vec<Op>| {
    let mut mux = Multiplexer::new(NAMES, 100, 1000);
    let channels = Fixture(
        NAMES
            .iter()
            .map(|_| RefCell::new(Channel::default()))
            .collect(),
    );
    let mut terminal = Terminal {
        text: Vec::new(),
        room: 0,
    };
    let mut keyboard = Keyboard::new(Some(0));
    let mut host = Host {
        input: Vec::new(),
        room: 0,
    };
    let mut written = [0usize; 3];
    let mut now = 0u64;
    let mut colour_used = false;
    for op in ops.iter().take(256) {
        match op {
            Op::Write { partition, bytes } => {
                let p = usize::from(*partition) % NAMES.len();
                written[p] += bytes.len();
                channels.0[p].borrow_mut().write(bytes, now);
            }
            Op::Pump {
                advance,
                room,
                colour,
            } => {
                now += u64::from(*advance);
                terminal.room = usize::from(*room);
                colour_used |= *colour;
                let view = View {
                    focus: keyboard.focus,
                    colour: *colour,
                };
                let pumped = mux.pump(&channels, now, view, &mut terminal);
                // A partition's own wake: nothing when nothing of its output waits.
                for p in 0..NAMES.len() {
                    if !mux.has_pending(&channels, p) {
                        assert_eq!(mux.wake_of(&channels, now, p, pumped), Wake::Idle);
                    }
                }
            }
            Op::Message => {
                mux.interrupt(&channels, |b| terminal.text.push(b));
                terminal.text.extend_from_slice(b"HIL:PART x STOPPED\r\n");
                assert!(!mux.is_mid_line(), "a message starts on a line of its own");
            }
            Op::Type { bytes, room } => {
                host.room = usize::from(*room);
                keyboard.input(&mut host, bytes);
                keyboard.retry(&mut host);
            }
        }
    }
    if !colour_used {
        assert!(
            !terminal.text.contains(&0x1b),
            "a guest's escape reached the terminal"
        );
    }
    let text = String::from_utf8_lossy(&terminal.text);
    // Complete lines only: the last may be cut where the wire's room ended.
    let lines: Vec<&str> = text.split("\r\n").collect();
    for line in &lines[..lines.len() - 1] {
        if line.is_empty() {
            continue;
        }
        assert!(!line.contains('\r'), "{line:?}");
        let plain = colour_used || NAMES.iter().any(|n| line.starts_with(&format!("[{n}] ")));
        assert!(
            plain || line.starts_with("HIL:CONSOLE partition=") || *line == "HIL:PART x STOPPED",
            "untagged line {line:?}"
        );
    }
    if !colour_used {
        let mut shown = [0usize; 3];
        for line in &lines[..lines.len() - 1] {
            for (p, name) in NAMES.iter().enumerate() {
                if let Some(rest) = line.strip_prefix(&format!("[{name}] ")) {
                    shown[p] += rest.strip_suffix(" [cut]").unwrap_or(rest).len();
                }
            }
        }
        for p in 0..NAMES.len() {
            assert!(
                shown[p] <= written[p],
                "{}: shown {} of {} written",
                NAMES[p],
                shown[p],
                written[p]
            );
        }
    }
    for (partition, _) in &host.input {
        assert!(*partition < 2);
    }
});
