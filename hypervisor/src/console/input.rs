//! The console's keyboard: input goes to the partition that has focus; the escape key (Ctrl-],
//! not Ctrl-A, which QEMU's `-nographic` takes) followed by a key runs one of the hypervisor's
//! console commands ([`COMMANDS`]); the escape key twice sends it to the guest.
//!
//! Pure: the board's glue supplies a [`ConsoleHost`] (the partitions, their virtual UARTs'
//! input, and the hypervisor's own printing).
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use core::fmt;

/// The escape key: Ctrl-] (GS, 0x1d), as in telnet and `virsh console`.
pub const ESCAPE: u8 = 0x1d;
/// How the escape key is written in help text.
pub const ESCAPE_NAME: &str = "Ctrl-]";

/// What the console's commands can see and do.
pub trait ConsoleHost {
    /// How many partitions there are.
    fn partitions(&self) -> usize;
    /// Partition `partition`'s name.
    fn name(&self, partition: usize) -> &str;
    /// Its state, as a word (`running`, `stopped`, ...).
    fn state(&self, partition: usize) -> &'static str;
    /// What its console is: `virtual`, `passthrough` or `none` (only `virtual` takes input).
    fn console_kind(&self, partition: usize) -> &'static str;
    /// Bytes its output ring dropped since boot.
    fn dropped(&self, partition: usize) -> u64;
    /// Hands `bytes` to its virtual UART's receiver; how many it took.
    fn send_input(&mut self, partition: usize, bytes: &[u8]) -> usize;
    /// Prints one hypervisor line (never dropped).
    fn print(&mut self, line: fmt::Arguments<'_>);
    /// Asks for partition `partition` to be started, stopped or restarted (the same operations
    /// as the management calls, docs/guest-abi.md); the board carries it out once the keyboard
    /// is released and reports the outcome.
    fn manage(&mut self, partition: usize, op: ManageOp);
}

/// The management operations the console's commands ask for.
pub use crate::vcpu::manage::ManageOp;

/// A console command, run by the escape key and then its key.
pub struct Command {
    /// The key after the escape key.
    pub key: u8,
    /// One line of help (the key is printed before it).
    pub help: &'static str,
    /// What it does.
    pub run: fn(&mut Keyboard, &mut dyn ConsoleHost),
}

/// The console commands. Partition numbers (1-9) are handled before this table (focus).
pub const COMMANDS: &[Command] = &[
    Command {
        key: b'n',
        help: "focus the next partition that takes input",
        run: |keyboard, host| keyboard.focus_next(host),
    },
    Command {
        key: b'l',
        help: "list the partitions, their states and consoles",
        run: |keyboard, host| keyboard.list(host),
    },
    Command {
        key: b'c',
        help: "colour the tags on or off",
        run: |keyboard, host| {
            keyboard.colour = !keyboard.colour;
            host.print(format_args!(
                "HIL:CONSOLE colour={}",
                if keyboard.colour { "on" } else { "off" }
            ));
        },
    },
    Command {
        key: b's',
        help: "stop the partition with focus",
        run: |keyboard, host| keyboard.manage_focused(host, ManageOp::Stop),
    },
    Command {
        key: b'g',
        help: "start (go) the partition with focus",
        run: |keyboard, host| keyboard.manage_focused(host, ManageOp::Start),
    },
    Command {
        key: b'r',
        help: "restart the partition with focus from its images",
        run: |keyboard, host| keyboard.manage_focused(host, ManageOp::Restart),
    },
    Command {
        key: b'h',
        help: "this help",
        run: |_, host| help(host),
    },
    Command {
        key: b'?',
        help: "this help",
        run: |_, host| help(host),
    },
];

fn help(host: &mut dyn ConsoleHost) {
    host.print(format_args!(
        "console: {ESCAPE_NAME} then a key: 1-9 focus partition N (see l)"
    ));
    for command in COMMANDS {
        host.print(format_args!(
            "console: {ESCAPE_NAME} {}  {}",
            command.key as char, command.help
        ));
    }
    host.print(format_args!(
        "console: {ESCAPE_NAME} {ESCAPE_NAME}  send {ESCAPE_NAME} to the partition with focus"
    ));
}

/// A partition's name, copied (so the host can be borrowed again to print it).
fn name_of(host: &dyn ConsoleHost, partition: usize) -> heapless::String<32> {
    let mut name = heapless::String::new();
    for c in host.name(partition).chars() {
        let _ = name.push(c);
    }
    name
}

/// Bytes forwarded to the focused partition at once.
const BATCH: usize = 32;
/// Typed bytes held for a partition whose UART's receive FIFO is full (a pasted line into a
/// UART without its FIFO enabled takes one byte at a time).
pub const PENDING: usize = 256;

/// The keyboard's state: focus, the escape key, colour, and typed bytes not yet taken.
#[derive(Clone, Debug)]
pub struct Keyboard {
    /// The partition input goes to.
    pub focus: Option<usize>,
    /// Whether tags are coloured.
    pub colour: bool,
    /// The escape key was pressed and the next key is a command.
    escaped: bool,
    /// Input bytes dropped: no partition took them, or more were waiting than [`PENDING`].
    pub refused: u64,
    /// Bytes typed for `pending_for` that its UART has not taken yet, oldest first.
    pending: heapless::Deque<u8, PENDING>,
    pending_for: Option<usize>,
}

impl Default for Keyboard {
    fn default() -> Self {
        Self::new(None)
    }
}

impl Keyboard {
    /// A keyboard whose input goes to `focus`.
    pub const fn new(focus: Option<usize>) -> Self {
        Keyboard {
            focus,
            colour: false,
            escaped: false,
            refused: 0,
            pending: heapless::Deque::new(),
            pending_for: None,
        }
    }

    /// Whether typed bytes wait for a UART to take them ([`Keyboard::retry`] later).
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Offers the waiting bytes to their partition's UART again.
    pub fn retry(&mut self, host: &mut dyn ConsoleHost) {
        let Some(partition) = self.pending_for else {
            return;
        };
        while !self.pending.is_empty() {
            let mut chunk: heapless::Vec<u8, BATCH> = heapless::Vec::new();
            for &byte in self.pending.iter().take(BATCH) {
                let _ = chunk.push(byte);
            }
            let taken = host.send_input(partition, &chunk).min(chunk.len());
            for _ in 0..taken {
                let _ = self.pending.pop_front();
            }
            if taken < chunk.len() {
                break;
            }
        }
        if self.pending.is_empty() {
            self.pending_for = None;
        }
    }

    /// Handles bytes typed on the console.
    pub fn input(&mut self, host: &mut dyn ConsoleHost, bytes: &[u8]) {
        let mut batch: heapless::Vec<u8, BATCH> = heapless::Vec::new();
        for &byte in bytes {
            let to_guest = if self.escaped {
                self.escaped = false;
                if byte == ESCAPE {
                    true
                } else {
                    self.forward(host, &mut batch);
                    self.command(host, byte);
                    false
                }
            } else if byte == ESCAPE {
                self.escaped = true;
                false
            } else {
                true
            };
            if to_guest {
                if batch.is_full() {
                    self.forward(host, &mut batch);
                }
                let _ = batch.push(byte);
            }
        }
        self.forward(host, &mut batch);
    }

    /// Queues `batch` for the focused partition and offers it what waits. Bytes still waiting
    /// for a partition that lost focus go to it first.
    fn forward(&mut self, host: &mut dyn ConsoleHost, batch: &mut heapless::Vec<u8, BATCH>) {
        if batch.is_empty() {
            return;
        }
        let target = self
            .focus
            .filter(|&partition| host.console_kind(partition) == "virtual");
        if self.pending_for.is_some() && self.pending_for != target {
            self.retry(host);
        }
        match target {
            Some(partition) if self.pending_for.is_none() || self.pending_for == target => {
                self.pending_for = Some(partition);
                for &byte in batch.iter() {
                    if self.pending.push_back(byte).is_err() {
                        self.refused = self.refused.saturating_add(1);
                    }
                }
                self.retry(host);
            }
            _ => self.refused = self.refused.saturating_add(batch.len() as u64),
        }
        batch.clear();
    }

    fn command(&mut self, host: &mut dyn ConsoleHost, key: u8) {
        if let Some(number) = (key as char).to_digit(10).filter(|&n| n >= 1) {
            let partition = number as usize - 1;
            if partition < host.partitions() {
                self.set_focus(host, partition);
            } else {
                host.print(format_args!(
                    "console: no partition {number} (see {ESCAPE_NAME} l)"
                ));
            }
            return;
        }
        match COMMANDS.iter().find(|c| c.key == key) {
            Some(command) => (command.run)(self, host),
            None => host.print(format_args!(
                "console: no command {:?}; {ESCAPE_NAME} h for help",
                key as char
            )),
        }
    }

    /// Gives `partition` the keyboard and says so.
    pub fn set_focus(&mut self, host: &mut dyn ConsoleHost, partition: usize) {
        let kind = host.console_kind(partition);
        let name = name_of(host, partition);
        if kind != "virtual" {
            host.print(format_args!(
                "console: {name} has no virtual console ({kind}): focus stays"
            ));
            return;
        }
        self.focus = Some(partition);
        host.print(format_args!("HIL:CONSOLE focus={name}"));
    }

    /// Asks for `op` on the partition with focus.
    fn manage_focused(&mut self, host: &mut dyn ConsoleHost, op: ManageOp) {
        match self.focus {
            Some(partition) => host.manage(partition, op),
            None => host.print(format_args!(
                "console: no partition has focus ({ESCAPE_NAME} 1-9 first)"
            )),
        }
    }

    fn focus_next(&mut self, host: &mut dyn ConsoleHost) {
        let count = host.partitions();
        let start = self.focus.map_or(0, |f| f + 1);
        let next = (0..count)
            .map(|i| (start + i) % count.max(1))
            .find(|&p| host.console_kind(p) == "virtual");
        match next {
            Some(partition) => self.set_focus(host, partition),
            None => host.print(format_args!("console: no partition takes input")),
        }
    }

    fn list(&self, host: &mut dyn ConsoleHost) {
        for partition in 0..host.partitions() {
            let name = name_of(host, partition);
            host.print(format_args!(
                "HIL:CONSOLE partition={} number={} state={} console={} dropped={}{}",
                name,
                partition + 1,
                host.state(partition),
                host.console_kind(partition),
                host.dropped(partition),
                if self.focus == Some(partition) {
                    " focus"
                } else {
                    ""
                },
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Host {
        input: Vec<(usize, Vec<u8>)>,
        lines: Vec<String>,
        fifo_room: usize,
        managed: Vec<(usize, ManageOp)>,
    }
    impl ConsoleHost for Host {
        fn partitions(&self) -> usize {
            3
        }
        fn name(&self, partition: usize) -> &str {
            ["linux", "rtos", "uart"][partition]
        }
        fn state(&self, partition: usize) -> &'static str {
            ["running", "stopped", "running"][partition]
        }
        fn console_kind(&self, partition: usize) -> &'static str {
            ["virtual", "virtual", "passthrough"][partition]
        }
        fn dropped(&self, partition: usize) -> u64 {
            partition as u64 * 10
        }
        fn send_input(&mut self, partition: usize, bytes: &[u8]) -> usize {
            let taken = bytes.len().min(self.fifo_room);
            self.input.push((partition, bytes[..taken].to_vec()));
            taken
        }
        fn print(&mut self, line: fmt::Arguments<'_>) {
            self.lines.push(line.to_string());
        }
        fn manage(&mut self, partition: usize, op: ManageOp) {
            self.managed.push((partition, op));
        }
    }
    fn host() -> Host {
        Host {
            fifo_room: 64,
            ..Default::default()
        }
    }

    #[test]
    fn stop_start_and_restart_ask_for_the_partition_with_focus_and_reach_no_guest() {
        let (mut keyboard, mut host) = (Keyboard::new(Some(1)), host());
        keyboard.input(&mut host, b"\x1ds\x1dg\x1dr");
        assert_eq!(
            host.managed,
            [
                (1, ManageOp::Stop),
                (1, ManageOp::Start),
                (1, ManageOp::Restart)
            ]
        );
        assert!(
            host.input.is_empty(),
            "the command keys never reach a guest"
        );
        let (mut unfocused, mut other) = (Keyboard::new(None), self::host());
        unfocused.input(&mut other, b"\x1dr");
        assert!(other.managed.is_empty());
        assert!(
            other.lines[0].contains("no partition has focus"),
            "{:?}",
            other.lines
        );
    }

    #[test]
    fn typed_bytes_go_to_the_focused_partition() {
        let (mut keyboard, mut host) = (Keyboard::new(Some(0)), host());
        keyboard.input(&mut host, b"echo $((6*7))\r");
        assert_eq!(host.input, [(0, b"echo $((6*7))\r".to_vec())]);
        assert!(host.lines.is_empty());
    }

    #[test]
    fn escape_then_a_digit_switches_focus_and_says_so() {
        let (mut keyboard, mut host) = (Keyboard::new(Some(0)), host());
        keyboard.input(&mut host, b"ab\x1d2stats\r");
        assert_eq!(host.input, [(0, b"ab".to_vec()), (1, b"stats\r".to_vec())]);
        assert_eq!(host.lines, ["HIL:CONSOLE focus=rtos"]);
        assert_eq!(keyboard.focus, Some(1));
    }

    #[test]
    fn the_escape_key_split_across_reads_still_works() {
        let (mut keyboard, mut host) = (Keyboard::new(Some(0)), host());
        keyboard.input(&mut host, b"\x1d");
        keyboard.input(&mut host, b"2");
        assert_eq!(keyboard.focus, Some(1));
        assert!(host.input.is_empty());
    }

    #[test]
    fn escape_twice_sends_the_escape_key_to_the_guest() {
        let (mut keyboard, mut host) = (Keyboard::new(Some(0)), host());
        keyboard.input(&mut host, b"\x1d\x1dx");
        assert_eq!(host.input, [(0, vec![ESCAPE, b'x'])]);
        assert_eq!(keyboard.focus, Some(0));
    }

    #[test]
    fn a_partition_without_a_virtual_console_cannot_take_focus() {
        let (mut keyboard, mut host) = (Keyboard::new(Some(1)), host());
        keyboard.input(&mut host, b"\x1d3\x1d9");
        assert_eq!(keyboard.focus, Some(1));
        assert!(host.lines[0].contains("uart has no virtual console (passthrough)"));
        assert!(host.lines[1].contains("no partition 9"));
        keyboard.input(&mut host, b"\x1dn");
        assert_eq!(keyboard.focus, Some(0), "next skips the passthrough one");
    }

    #[test]
    fn list_shows_every_partition_with_its_state_and_focus() {
        let (mut keyboard, mut host) = (Keyboard::new(Some(0)), host());
        keyboard.input(&mut host, b"\x1dl");
        assert_eq!(
            host.lines,
            [
                "HIL:CONSOLE partition=linux number=1 state=running console=virtual dropped=0 focus",
                "HIL:CONSOLE partition=rtos number=2 state=stopped console=virtual dropped=10",
                "HIL:CONSOLE partition=uart number=3 state=running console=passthrough dropped=20",
            ]
        );
    }

    #[test]
    fn help_lists_every_command_and_unknown_keys_point_to_it() {
        let (mut keyboard, mut host) = (Keyboard::new(Some(0)), host());
        keyboard.input(&mut host, b"\x1dh");
        assert_eq!(host.lines.len(), COMMANDS.len() + 2);
        assert!(host.lines.iter().any(|l| l.contains("Ctrl-] l  list")));
        host.lines.clear();
        keyboard.input(&mut host, b"\x1dz");
        assert_eq!(host.lines, ["console: no command 'z'; Ctrl-] h for help"]);
        assert!(
            host.input.is_empty(),
            "a command key never reaches the guest"
        );
    }

    #[test]
    fn bytes_a_full_receiver_cannot_take_wait_and_are_offered_again() {
        let (mut keyboard, mut host) = (Keyboard::new(Some(0)), host());
        host.fifo_room = 1;
        keyboard.input(&mut host, b"abc");
        assert!(keyboard.has_pending());
        keyboard.retry(&mut host);
        keyboard.retry(&mut host);
        assert!(!keyboard.has_pending());
        let taken: Vec<u8> = host.input.iter().flat_map(|(_, b)| b.clone()).collect();
        assert_eq!(taken, b"abc");
        assert_eq!(keyboard.refused, 0);
    }

    #[test]
    fn waiting_bytes_go_to_the_partition_they_were_typed_for() {
        let (mut keyboard, mut host) = (Keyboard::new(Some(0)), host());
        host.fifo_room = 0;
        keyboard.input(&mut host, b"ab\x1d2");
        host.fifo_room = 64;
        keyboard.input(&mut host, b"x");
        let to: Vec<(usize, Vec<u8>)> = host
            .input
            .into_iter()
            .filter(|(_, b)| !b.is_empty())
            .collect();
        assert_eq!(to, [(0, b"ab".to_vec()), (1, b"x".to_vec())]);
    }

    #[test]
    fn input_nobody_can_take_is_counted() {
        let (mut keyboard, mut host) = (Keyboard::new(None), host());
        keyboard.input(&mut host, b"xyz");
        assert_eq!(keyboard.refused, 3, "no focus: nobody takes input");
        let (mut keyboard, mut host) = (Keyboard::new(Some(0)), self::host());
        host.fifo_room = 0;
        keyboard.input(&mut host, &[b'a'; PENDING + 5]);
        assert_eq!(keyboard.refused, 5, "past what the keyboard holds");
    }

    #[test]
    fn colour_toggles() {
        let (mut keyboard, mut host) = (Keyboard::new(Some(0)), host());
        keyboard.input(&mut host, b"\x1dc");
        assert!(keyboard.colour);
        keyboard.input(&mut host, b"\x1dc");
        assert!(!keyboard.colour);
        assert_eq!(
            host.lines,
            ["HIL:CONSOLE colour=on", "HIL:CONSOLE colour=off"]
        );
    }
}
