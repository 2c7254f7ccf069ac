//! The hypervisor console: one physical UART shared by the hypervisor and every partition.
//!
//! - Each partition's output ([`partition_output`]) goes into its own ring ([`ring`]) and never
//!   waits for the wire: a full ring drops that partition's oldest bytes and counts them.
//! - The multiplexer ([`mux`]) moves the rings' bytes to the UART as lines tagged `[name] `,
//!   as much as the UART (and the wire's baud rate, [`pacer`]) has room for, whenever a
//!   partition writes, a partial line's quiet time ends, or the wire has room again (the EL2
//!   timer, `board.rs`). Bytes two partitions write never share a line.
//! - The hypervisor's own lines ([`print`], [`println!`](crate::println)) are never dropped:
//!   they end the multiplexer's open line and are written out at once.
//! - Input ([`input`]): the UART's receive interrupt hands typed bytes to the keyboard
//!   ([`input::Keyboard`]): the focused partition's virtual UART gets them, the escape key
//!   (Ctrl-]) runs console commands (docs/console.md).
//! - A hypervisor failure writes through [`emergency_print`], which takes no lock (the CPU that
//!   failed may hold one, or another CPU that will never release it) and silences every other
//!   path for good.

pub mod filter;
pub mod input;
pub mod mux;
pub mod pacer;
pub mod ring;

#[cfg(target_os = "none")]
mod board;
#[cfg(all(target_os = "none", feature = "test-hooks"))]
pub use board::is_uart_interrupt;
#[cfg(target_os = "none")]
pub use board::{init_cpu, on_interrupt, on_kick, start, HYP_TIMER_INTID};

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use bulkhead_config::MAX_PARTITIONS;

use mux::{Channel, Channels, Multiplexer, View, Wake, Wire};
use pacer::Pacer;

/// The hypervisor's UART, as the console drives it.
pub trait ByteSink: Sync {
    /// Writes one byte, waiting for room if needed (hypervisor messages, the emergency path).
    fn write_byte(&self, byte: u8);
    /// Writes one byte if the transmit FIFO has room; `false` (nothing written) if it is full.
    fn try_write_byte(&self, byte: u8) -> bool {
        self.write_byte(byte);
        true
    }
    /// The next received byte, if any.
    fn read_byte(&self) -> Option<u8> {
        None
    }
    /// Makes the UART raise its interrupt when bytes arrive (and clears a pending one).
    fn enable_receive_interrupt(&self) {}
}

/// The console: the UART and, once the partitions are known, the multiplexer.
struct Console {
    sink: Option<&'static dyn ByteSink>,
    mux: Option<Multiplexer>,
    pacer: Pacer,
}

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if let Some(sink) = self.sink {
            write_blocking(sink, s);
        }
        Ok(())
    }
}

fn write_blocking(sink: &dyn ByteSink, s: &str) {
    for byte in s.bytes() {
        if byte == b'\n' {
            sink.write_byte(b'\r');
        }
        sink.write_byte(byte);
    }
}

static CONSOLE: spin::Mutex<Console> = spin::Mutex::new(Console {
    sink: None,
    mux: None,
    pacer: Pacer::new_unlimited(),
});
/// The same sink, for the emergency path (read without a lock once set).
static EMERGENCY: spin::Once<&'static dyn ByteSink> = spin::Once::new();
/// Set once the emergency path took over: the locked path prints nothing more.
static SILENCED: AtomicBool = AtomicBool::new(false);
/// Each partition's output ring, by partition index.
static CHANNELS: [spin::Mutex<Channel>; MAX_PARTITIONS] =
    [const { spin::Mutex::new(Channel::new()) }; MAX_PARTITIONS];
/// Set by a CPU that found the console busy: the CPU draining it drains once more.
static DRAIN_AGAIN: AtomicBool = AtomicBool::new(false);

/// The board's rings as the multiplexer reads them.
struct StaticChannels;

impl Channels for StaticChannels {
    fn with<R>(&self, partition: usize, f: impl FnOnce(&mut Channel) -> R) -> Option<R> {
        CHANNELS.get(partition).map(|c| f(&mut c.lock()))
    }
}

/// Makes `sink` the console.
pub fn init(sink: &'static dyn ByteSink) {
    CONSOLE.lock().sink = Some(sink);
    EMERGENCY.call_once(|| sink);
}

/// Starts multiplexing the partitions `names` (by partition index): their output is buffered
/// from now on, shown after `quiet` ticks of silence, drained at `baud` (0: as fast as the UART
/// takes it) on a counter of `frequency` Hz.
pub fn start_multiplexer<'a>(
    names: impl IntoIterator<Item = &'a str>,
    quiet: u64,
    baud: u32,
    frequency: u64,
) {
    let mut console = CONSOLE.lock();
    console.mux = Some(Multiplexer::new(names, quiet, frequency));
    console.pacer = Pacer::new(baud, frequency);
}

/// Writes formatted text to the console (used by [`println!`](crate::println)): a hypervisor
/// message, never dropped. An open partition line is ended first.
pub fn print(args: fmt::Arguments<'_>) {
    if SILENCED.load(Ordering::Acquire) {
        return;
    }
    let mut console = CONSOLE.lock();
    let Console { sink, mux, .. } = &mut *console;
    if let (Some(sink), Some(mux)) = (*sink, mux.as_mut()) {
        mux.interrupt(&StaticChannels, |byte| sink.write_byte(byte));
    }
    let _ = console.write_fmt(args);
}

/// Partition `partition`'s (index into `System::partitions`) console output: buffered, never
/// waiting for the wire, then drained as far as the UART has room.
pub fn partition_output(partition: usize, bytes: &[u8]) {
    if SILENCED.load(Ordering::Acquire) {
        return;
    }
    if let Some(channel) = CHANNELS.get(partition) {
        channel.lock().write(bytes, now());
    }
    // On the board: and the EL2 timer armed for what must wait (a partial line, a full FIFO).
    #[cfg(target_os = "none")]
    board::drain_and_schedule();
    #[cfg(not(target_os = "none"))]
    let _ = drain(Some(partition));
}

/// Bytes partition `partition`'s ring dropped since boot.
pub fn dropped(partition: usize) -> u64 {
    CHANNELS
        .get(partition)
        .map_or(0, |c| c.lock().ring.dropped())
}

/// Forgets what partition `partition` wrote and the terminal has not shown (it restarts).
pub fn discard_output(partition: usize) {
    if let Some(channel) = CHANNELS.get(partition) {
        channel.lock().ring.clear();
    }
}

/// The UART as the multiplexer writes to it: no more than its FIFO and the wire's pace allow.
struct PacedWire<'a> {
    sink: &'a dyn ByteSink,
    pacer: &'a mut Pacer,
    now: u64,
    /// The FIFO refused a byte: no room until the next drain.
    full: bool,
    /// A byte the FIFO refused, written first next time (never lost).
    held: Option<u8>,
}

impl Wire for PacedWire<'_> {
    fn room(&mut self) -> usize {
        if self.full {
            return 0;
        }
        self.pacer.room(self.now)
    }
    fn put(&mut self, byte: u8) {
        self.pacer.spend();
        if !self.sink.try_write_byte(byte) {
            self.full = true;
            self.held = Some(byte);
        }
    }
}

/// A byte the UART's FIFO refused, written before anything else at the next drain.
static HELD: spin::Mutex<Option<u8>> = spin::Mutex::new(None);

/// Partitions (a bit per index) whose CPU found the console busy when it came to drain their
/// output: the CPU holding it drains for them ([`DRAIN_AGAIN`]) and, if some of their output
/// still waits, asks their CPU to arm its own alarm ([`Drained::kick`]).
static OWED: AtomicU32 = AtomicU32::new(0);

/// What a [`drain`] leaves to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Drained {
    /// When the draining CPU's own partition's output needs draining again (for a CPU with no
    /// partition: anyone's).
    pub wake: Wake,
    /// Partitions (a bit per index) whose CPU must be asked to drain: their output waits and
    /// their CPU found the console busy, so no alarm of theirs covers it.
    pub kick: u32,
}

impl Drained {
    /// Nothing to do.
    const NOTHING: Drained = Drained {
        wake: Wake::Idle,
        kick: 0,
    };
}

/// Partition `index`'s bit in the console's partition masks (0 for an index past them).
fn partition_bit(index: usize) -> u32 {
    u32::try_from(index)
        .ok()
        .and_then(|i| 1u32.checked_shl(i))
        .unwrap_or(0)
}

/// Moves buffered partition output to the UART without waiting: if another CPU is draining,
/// it drains again for this one. `own` is the partition of the calling CPU, if it has one: the
/// wake returned is for its output only, so that a CPU arms no alarm for another partition's
/// output (which its own CPU covers).
pub fn drain(own: Option<usize>) -> Drained {
    let bit = own.map_or(0, partition_bit);
    // Before DRAIN_AGAIN: a holder that sees the request also sees whose it is.
    OWED.fetch_or(bit, Ordering::SeqCst);
    let mut drained = Drained::NOTHING;
    loop {
        DRAIN_AGAIN.store(true, Ordering::SeqCst);
        let Some(mut console) = CONSOLE.try_lock() else {
            return drained;
        };
        DRAIN_AGAIN.store(false, Ordering::SeqCst);
        OWED.fetch_and(!bit, Ordering::SeqCst);
        if SILENCED.load(Ordering::Acquire) {
            return Drained::NOTHING;
        }
        let Console { sink, mux, pacer } = &mut *console;
        let (Some(sink), Some(mux)) = (*sink, mux.as_mut()) else {
            return Drained::NOTHING;
        };
        let now = now();
        let mut held = HELD.lock();
        if let Some(byte) = *held {
            if !sink.try_write_byte(byte) {
                return Drained {
                    wake: Wake::WireFull,
                    kick: 0,
                };
            }
            *held = None;
        }
        let mut wire = PacedWire {
            sink,
            pacer,
            now,
            full: false,
            held: None,
        };
        let pumped = mux.pump(&StaticChannels, now, view(), &mut wire);
        let mut wake = match own {
            Some(partition) => mux.wake_of(&StaticChannels, now, partition, pumped),
            None => pumped,
        };
        *held = wire.held;
        if wake == Wake::WireFull && !wire.full {
            // The pace, not the FIFO, stopped it: wake when a few bytes' credit is earned.
            wake = Wake::At(now.saturating_add(pacer.ticks_for(16)));
        }
        let owed = OWED.load(Ordering::SeqCst) & !bit;
        let kick = (0..MAX_PARTITIONS)
            .map(|p| (p, partition_bit(p)))
            .filter(|&(p, b)| owed & b != 0 && mux.has_pending(&StaticChannels, p))
            .fold(0, |mask, (_, b)| mask | b);
        drained = Drained { wake, kick };
        drop(held);
        drop(console);
        if !DRAIN_AGAIN.load(Ordering::SeqCst) {
            // Those asked are no longer owed; the others' bits stay for the next holder.
            OWED.fetch_and(!drained.kick, Ordering::SeqCst);
            return drained;
        }
    }
}

/// The keyboard's focus and colour, for the tags.
fn view() -> View {
    #[cfg(target_os = "none")]
    return board::view();
    #[cfg(not(target_os = "none"))]
    View::default()
}

fn now() -> u64 {
    #[cfg(target_os = "none")]
    return crate::arch::counter();
    #[cfg(not(target_os = "none"))]
    0
}

/// Takes the console over for the emergency path: from now on only [`emergency_print`]
/// prints. Returns `false` if it was taken over already (by another CPU, or by this one).
///
/// A load and a store, not an atomic swap: a failure may come before the MMU is on, where an
/// exclusive never completes on the BCM2711 (`cargo xtask check-boot`). Two CPUs failing at
/// the same instant may then both report, which costs a few lines, never a hang.
pub fn take_over() -> bool {
    if SILENCED.load(Ordering::Acquire) {
        return false;
    }
    SILENCED.store(true, Ordering::Release);
    true
}

/// Writes formatted text straight to the UART, without the console lock.
pub fn emergency_print(args: fmt::Arguments<'_>) {
    let mut console = Console {
        sink: EMERGENCY.get().copied(),
        mux: None,
        pacer: Pacer::new_unlimited(),
    };
    let _ = console.write_fmt(args);
}

/// Prints a line through the emergency path (see [`emergency_print`]).
#[macro_export]
macro_rules! emergency_println {
    ($($arg:tt)*) => {
        $crate::console::emergency_print(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Prints a line on the hypervisor console.
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => {
        $crate::console::print(format_args!("{}\n", format_args!($($arg)*)))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Recorder(std::sync::Mutex<std::vec::Vec<u8>>);
    impl ByteSink for Recorder {
        fn write_byte(&self, byte: u8) {
            self.0.lock().unwrap().push(byte);
        }
    }

    /// One test: the console is a global.
    #[test]
    fn partition_lines_are_tagged_hypervisor_lines_interrupt_them_and_the_emergency_path_silences_all(
    ) {
        static SINK: Recorder = Recorder(std::sync::Mutex::new(std::vec::Vec::new()));
        init(&SINK);
        crate::println!("before");
        start_multiplexer(["linux", "rtos"], 0, 0, 1);
        partition_output(0, b"hello\r\nwor");
        partition_output(1, b"beat\n");
        crate::println!("HIL:PART x");
        partition_output(0, b"ld\n");
        let held = CONSOLE.lock();
        assert!(take_over());
        assert!(!take_over(), "only the first failure takes over");
        crate::emergency_println!("HIL:PANIC test");
        drop(held);
        crate::println!("after");
        partition_output(1, b"late\n");
        let text = std::string::String::from_utf8(SINK.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            text,
            "before\r\n[linux] hello\r\n[linux] wor\r\n[rtos] beat\r\nHIL:PART x\r\n[linux] ld\r\n\
             HIL:PANIC test\r\n"
        );
    }
}
