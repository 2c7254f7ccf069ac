//! The console on the board: the multiplexer started over the built system, the EL2 timer that
//! drains it (quiet time, wire pace), the UART's receive interrupt feeding the keyboard, and the
//! partitions' virtual UARTs taking the typed bytes.

use core::fmt;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, AtomicUsize, Ordering};

use bulkhead_config::model::ConsoleMode;
use bulkhead_config::MAX_PARTITIONS;

use super::input::{ConsoleHost, Keyboard, ESCAPE_NAME};
use super::mux::{View, Wake};
use crate::arch::{self, gic, hyp_timer};
use crate::partition::PartitionState;
use crate::system::{System, SYSTEM};

/// The EL2 timer's interrupt, which the console keeps on every CPU.
pub const HYP_TIMER_INTID: u32 = hyp_timer::INTID;

/// The UART's receive interrupt (0: none).
static UART_INTID: AtomicU32 = AtomicU32::new(0);
/// Where input goes, and whether tags are coloured.
static KEYBOARD: spin::Mutex<Keyboard> = spin::Mutex::new(Keyboard::new(None));
/// The keyboard's focus (`usize::MAX`: none) and colour, for the multiplexer's tags.
static FOCUS: AtomicUsize = AtomicUsize::new(usize::MAX);
static COLOUR: AtomicBool = AtomicBool::new(false);
/// Each partition's console mode ([`ConsoleMode`] as a number).
static MODES: [AtomicU8; MAX_PARTITIONS] = [const { AtomicU8::new(0) }; MAX_PARTITIONS];
/// The console's UART, for reading input.
static UART: spin::Once<&'static dyn super::ByteSink> = spin::Once::new();

/// A partial line is shown after this long without output (milliseconds).
const QUIET_MS: u64 = 30;
/// When the UART's FIFO is full, draining resumes this much later (microseconds): a few
/// bytes' time at 115200 baud.
const RETRY_US: u64 = 300;

/// The multiplexer's view of the keyboard.
pub(super) fn view() -> View {
    let focus = FOCUS.load(Ordering::Relaxed);
    View {
        focus: (focus != usize::MAX).then_some(focus),
        colour: COLOUR.load(Ordering::Relaxed),
    }
}

fn mode(partition: usize) -> ConsoleMode {
    ConsoleMode::from_u8(
        MODES
            .get(partition)
            .map_or(0, |m| m.load(Ordering::Relaxed)),
    )
}

/// Starts the console over `system`: multiplexes its partitions, takes the UART's receive
/// interrupt `uart_intid` (routed to the first CPU that runs no partition, else CPU 0), and
/// gives the keyboard to the configured partition
/// (else the first with a virtual console).
pub fn start(system: &System, uart_intid: Option<u32>) {
    let frequency = arch::counter_frequency();
    for (slot, partition) in MODES.iter().zip(&system.partitions) {
        slot.store(partition.console_mode as u8, Ordering::Relaxed);
    }
    super::start_multiplexer(
        system.partitions.iter().map(|p| p.name.as_str()),
        frequency.saturating_mul(QUIET_MS) / 1000,
        system.console_baud,
        frequency,
    );
    let focus = system
        .console_focus
        .or_else(|| (0..system.partitions.len()).find(|&p| mode(p) == ConsoleMode::Virtual));
    *KEYBOARD.lock() = Keyboard::new(focus);
    FOCUS.store(focus.unwrap_or(usize::MAX), Ordering::Relaxed);
    if let (Some(intid), Some(uart)) = (uart_intid, super::EMERGENCY.get()) {
        UART.call_once(|| *uart);
        UART_INTID.store(intid, Ordering::Relaxed);
        gic::set_spi_edge(intid, false);
        let spare =
            (0..system.cpus.len()).find(|&cpu| system.slots.get(cpu).is_some_and(Option::is_none));
        gic::route_spi(intid, spare.unwrap_or(0));
        gic::set_spi_enabled(intid, true);
        uart.enable_receive_interrupt();
    }
    let name = focus
        .and_then(|f| system.partitions.get(f))
        .map_or("none", |p| p.name.as_str());
    crate::println!("HIL:CONSOLE focus={name} ({ESCAPE_NAME} h: console keys)");
    drain_and_schedule();
}

/// Lets this CPU take the console's EL2 timer interrupt (on its own CPU interface).
pub fn init_cpu(cpu: usize) {
    gic::set_private_enabled(cpu, HYP_TIMER_INTID, true);
}

/// Partition output was added: drain, and arm this CPU's timer for what of its own partition's
/// output must wait (a partial line's quiet time, a full FIFO), and for typed bytes a UART has
/// not taken yet. Another partition's waiting output is its own CPU's to arm for, so a real-time
/// partition's CPU is never interrupted for another's console; a partition whose CPU found the
/// console busy meanwhile, and whose output still waits, is asked to (a kick to its CPU, which
/// then drains here itself). A CPU with no partition arms for everyone's.
pub fn drain_and_schedule() {
    let retry = arch::counter()
        .saturating_add(arch::counter_frequency().saturating_mul(RETRY_US) / 1_000_000);
    let system = SYSTEM.get();
    let own = system
        .and_then(|s| s.slot(arch::current_cpu()))
        .map(|(partition, _)| partition.id.saturating_sub(1));
    let drained = super::drain(own);
    if let Some(system) = system {
        ask_to_drain(system, drained.kick);
    }
    let deadline = match drained.wake {
        Wake::Idle => None,
        Wake::At(deadline) => Some(deadline),
        Wake::WireFull => Some(retry),
    };
    let input = INPUT_PENDING.load(Ordering::Acquire).then_some(retry);
    // Nothing waits: no alarm left to interrupt this CPU's partition for nothing (a line written
    // in pieces armed it for its quiet time, and then it ended).
    hyp_timer::set(
        hyp_timer::Alarm::Console,
        [deadline, input].into_iter().flatten().min(),
    );
}

/// Partitions (a bit per index) whose CPU was kicked to drain its own output.
static ASKED: AtomicU32 = AtomicU32::new(0);

/// Kicks the first CPU of each partition in `partitions` (a bit per index) to drain.
fn ask_to_drain(system: &System, partitions: u32) {
    if partitions == 0 {
        return;
    }
    ASKED.fetch_or(partitions, Ordering::SeqCst);
    for (index, partition) in system.partitions.iter().enumerate() {
        if partitions & super::partition_bit(index) != 0 {
            if let Some(&cpu) = partition.cpus.first() {
                crate::interrupts::kick(system, cpu);
            }
        }
    }
}

/// This CPU was kicked: if its partition was asked to drain, it drains and arms its own alarm.
pub fn on_kick() {
    let Some(system) = SYSTEM.get() else { return };
    let Some((partition, _)) = system.slot(arch::current_cpu()) else {
        return;
    };
    let bit = super::partition_bit(partition.id.saturating_sub(1));
    if ASKED.fetch_and(!bit, Ordering::SeqCst) & bit != 0 {
        drain_and_schedule();
    }
}

/// Typed bytes wait for a partition's UART (the timer offers them again).
static INPUT_PENDING: AtomicBool = AtomicBool::new(false);

/// Offers waiting typed bytes to their UART again.
fn retry_input() {
    if !INPUT_PENDING.load(Ordering::Acquire) {
        return;
    }
    let (Some(system), Some(mut keyboard)) = (SYSTEM.get(), KEYBOARD.try_lock()) else {
        return;
    };
    keyboard.retry(&mut BoardHost {
        system,
        request: None,
    });
    INPUT_PENDING.store(keyboard.has_pending(), Ordering::Release);
}

/// Whether `intid` is the console UART's interrupt (the hypervisor's own, no partition's).
#[cfg(feature = "test-hooks")]
pub fn is_uart_interrupt(intid: u32) -> bool {
    intid != 0 && intid == UART_INTID.load(Ordering::Relaxed)
}

/// A physical interrupt the console keeps: the EL2 timer or the UART. `false` if `intid` is
/// neither.
pub fn on_interrupt(intid: u32) -> bool {
    if intid == HYP_TIMER_INTID {
        if !hyp_timer::take_due(hyp_timer::Alarm::Console) {
            return true; // the watchdog's alarm: not the console's business
        }
        hyp_timer::set(hyp_timer::Alarm::Console, None);
        retry_input();
        drain_and_schedule();
        return true;
    }
    if intid == 0 || intid != UART_INTID.load(Ordering::Relaxed) {
        return false;
    }
    let Some(uart) = UART.get() else {
        return true;
    };
    // Everything the FIFO holds (it is 32 deep at most), then the interrupt is clear.
    let mut typed: heapless::Vec<u8, 64> = heapless::Vec::new();
    while !typed.is_full() {
        match uart.read_byte() {
            Some(byte) => {
                let _ = typed.push(byte);
            }
            None => break,
        }
    }
    uart.enable_receive_interrupt();
    if let Some(system) = SYSTEM.get() {
        let mut host = BoardHost {
            system,
            request: None,
        };
        {
            let mut keyboard = KEYBOARD.lock();
            keyboard.input(&mut host, &typed);
            FOCUS.store(keyboard.focus.unwrap_or(usize::MAX), Ordering::Relaxed);
            COLOUR.store(keyboard.colour, Ordering::Relaxed);
            INPUT_PENDING.store(keyboard.has_pending(), Ordering::Release);
        }
        // A stop, start or restart waits for the partition's CPUs (and prints): never under the
        // keyboard's lock.
        if let Some((partition, op)) = host.request {
            crate::cpu::manage_from_console(system, op, partition);
        }
    }
    drain_and_schedule();
    true
}

/// The partitions as the console's commands see them.
struct BoardHost<'a> {
    system: &'a System,
    /// A management operation a command asked for (the last one of this batch of keys).
    request: Option<(usize, super::input::ManageOp)>,
}

impl ConsoleHost for BoardHost<'_> {
    fn partitions(&self) -> usize {
        self.system.partitions.len()
    }

    fn name(&self, partition: usize) -> &str {
        self.system
            .partitions
            .get(partition)
            .map_or("?", |p| p.name.as_str())
    }

    fn state(&self, partition: usize) -> &'static str {
        match self.system.partitions.get(partition).map(|p| p.state()) {
            Some(PartitionState::Running) => "running",
            Some(PartitionState::Stopped) => "stopped",
            Some(PartitionState::Refused) | None => "refused",
        }
    }

    fn console_kind(&self, partition: usize) -> &'static str {
        mode(partition).name()
    }

    fn dropped(&self, partition: usize) -> u64 {
        super::dropped(partition)
    }

    fn send_input(&mut self, partition: usize, bytes: &[u8]) -> usize {
        deliver(partition, bytes)
    }

    fn print(&mut self, line: fmt::Arguments<'_>) {
        crate::println!("{line}");
    }

    fn manage(&mut self, partition: usize, op: super::input::ManageOp) {
        self.request = Some((partition, op));
    }
}

/// Hands typed bytes to partition `partition`'s virtual PL011 receiver (its RX FIFO and
/// interrupt); how many it took.
fn deliver(partition: usize, bytes: &[u8]) -> usize {
    crate::devices::pl011::console_input(partition, bytes)
}
