//! A partition's virtual console as the hypervisor holds it: the [`VirtualPl011`] behind a
//! lock and the INTID its interrupt line drives in the partition's virtual GIC.
//!
//! Every guest access and every batch of input runs through [`ConsolePort::run`], which hands
//! the bytes the model says are due to [`crate::console::partition_output`] and turns changes of
//! the model's interrupt line (UARTINTR) into [`ConsoleHooks::line`]: the board makes the INTID
//! pending in the partition's virtual distributor on a rising edge (whichever CPU that runs on:
//! the vCPU's own, or the one that took the physical console's input) and withdraws a latched,
//! undelivered one on a falling edge. The line is level-sensitive (the device tree says
//! `IRQ_TYPE_LEVEL_HIGH`); a rising edge while the guest still handles the previous one makes
//! it pending again, so the handler runs once more and finds the new cause.

use bulkhead_config::range::Range;

use super::model::VirtualPl011;
use crate::devices::{self, DeviceAccess, DeviceEffects, MmioFault};
use crate::partition::PartitionState;

/// What a console access or input asks of the board.
pub trait ConsoleHooks {
    /// The UART's interrupt line of partition `partition` (index in configuration order), INTID
    /// `intid`, became `high`.
    fn line(&mut self, partition: usize, intid: u32, high: bool);

    /// Hands to `emit` the bytes the assembly fast path transmitted for partition `partition`
    /// since its model last ran (on each of its CPUs, in vCPU order); returns the flag reads
    /// in a row the calling CPU's fast path counted, if it runs one of the partition's vCPUs.
    fn take_fast(&mut self, _partition: usize, _emit: &mut dyn FnMut(&[u8])) -> Option<u32> {
        None
    }

    /// What the fast path may answer for partition `partition` from now on: UARTFR's value,
    /// whether a data write is plain ([`VirtualPl011::data_write_is_plain`]), whether the model
    /// holds output, and the flag reads in a row on the calling CPU.
    fn publish(&mut self, _partition: usize, _state: FastState) {}
}

/// Bytes the assembly fast path stages per CPU (`arch::console_fast_path::STAGE`).
pub const FAST_STAGE: usize = 64;

/// What the model lets the assembly fast path answer (see [`ConsoleHooks::publish`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FastState {
    /// UARTFR.
    pub flags: u32,
    /// A data write only transmits (no interrupt edge).
    pub plain_writes: bool,
    /// The model holds staged output.
    pub held: bool,
    /// Flag reads in a row up to now.
    pub flag_reads: u32,
}

impl FastState {
    /// The state of `uart`.
    pub fn of(uart: &VirtualPl011) -> Self {
        FastState {
            flags: uart.flags(),
            plain_writes: uart.data_write_is_plain(),
            held: uart.holds_output(),
            flag_reads: uart.flag_reads(),
        }
    }
}

/// A partition's virtual console.
#[derive(Debug)]
pub struct ConsolePort {
    /// The register window (IPA).
    pub window: Range,
    /// The INTID of its interrupt in the partition's virtual GIC (a purely virtual SPI).
    pub intid: u32,
    /// The UART model.
    pub state: spin::Mutex<VirtualPl011>,
}

impl ConsolePort {
    /// A console in its reset state at `window`, interrupting on `intid`.
    pub fn new(window: Range, intid: u32) -> Self {
        ConsolePort {
            window,
            intid,
            state: spin::Mutex::new(VirtualPl011::new()),
        }
    }

    /// Runs `f` on the model of partition `partition`'s console (index in configuration order)
    /// under its lock, then hands due output to the console and reports a change of the
    /// interrupt line to `hooks`, still under the lock (so edges from different CPUs reach the
    /// virtual GIC in the order they happened).
    pub fn run<R>(
        &self,
        partition: usize,
        hooks: &mut impl ConsoleHooks,
        f: impl FnOnce(&mut VirtualPl011) -> R,
    ) -> R {
        let mut uart = self.state.lock();
        let before = uart.line();
        // Bytes the fast path transmitted come after those the model staged before them.
        let mut fast_bytes = false;
        let flag_reads = hooks.take_fast(partition, &mut |bytes| {
            if !fast_bytes {
                let held = uart.take_output();
                if !held.is_empty() {
                    crate::console::partition_output(partition, &held);
                }
                fast_bytes = true;
            }
            crate::console::partition_output(partition, bytes);
        });
        if fast_bytes {
            uart.fast_transmitted();
        }
        if let Some(reads) = flag_reads {
            uart.set_flag_reads(reads);
        }
        let result = f(&mut uart);
        if uart.output_due() {
            let bytes = uart.take_output();
            crate::console::partition_output(partition, &bytes);
        }
        let after = uart.line();
        if after != before {
            hooks.line(partition, self.intid, after);
        }
        hooks.publish(partition, FastState::of(&uart));
        result
    }

    /// A guest access: a read when `store` is `None`, else a write of it.
    pub fn access(
        &self,
        partition: usize,
        hooks: &mut impl ConsoleHooks,
        access: DeviceAccess,
        store: Option<u64>,
    ) -> Result<u64, MmioFault> {
        self.run(partition, hooks, |uart| {
            let mut effects = DeviceEffects::new();
            devices::perform(uart, access, store, &mut effects)
        })
    }

    /// Puts the model back in its reset state (a partition restart), line low.
    pub fn reset(&self) {
        *self.state.lock() = VirtualPl011::new();
    }
}

/// The board's hooks: interrupt edges into the partition's virtual GIC, and the assembly
/// fast path's state (`arch::console_fast_path`). On the host: none.
struct BoardHooks<'a> {
    #[cfg_attr(not(target_os = "none"), allow(dead_code))]
    system: &'a crate::system::System,
}

#[cfg(target_os = "none")]
impl BoardHooks<'_> {
    /// This CPU, if it runs a vCPU of partition `partition`.
    fn own_cpu(&self, partition: usize) -> Option<usize> {
        let cpu = crate::arch::current_cpu();
        let slot = (*self.system.slots.get(cpu)?)?;
        (slot.partition == partition).then_some(cpu)
    }
}

#[cfg(target_os = "none")]
impl ConsoleHooks for BoardHooks<'_> {
    fn line(&mut self, partition: usize, intid: u32, high: bool) {
        crate::interrupts::set_software_line(self.system, partition, intid, high);
    }

    fn take_fast(&mut self, partition: usize, emit: &mut dyn FnMut(&[u8])) -> Option<u32> {
        use crate::arch::console_fast_path as fast;
        let mut bytes = [0u8; FAST_STAGE];
        for &cpu in self
            .system
            .partitions
            .get(partition)
            .map_or(&[][..], |p| &p.cpus[..])
        {
            let taken = fast::take_staged(cpu, &mut bytes);
            if let Some(staged) = bytes.get(..taken).filter(|b| !b.is_empty()) {
                emit(staged);
            }
        }
        self.own_cpu(partition).map(fast::flag_reads)
    }

    fn publish(&mut self, partition: usize, state: FastState) {
        use crate::arch::console_fast_path::{self as fast, HELD, WRITE_OK};
        let mut control = 0;
        if state.plain_writes {
            control |= WRITE_OK;
        }
        if state.held {
            control |= HELD;
        }
        if let Some(p) = self.system.partitions.get(partition) {
            for &cpu in &p.cpus {
                fast::publish(cpu, state.flags, control);
            }
        }
        if let Some(cpu) = self.own_cpu(partition) {
            fast::set_flag_reads(cpu, state.flag_reads);
        }
    }
}

#[cfg(not(target_os = "none"))]
impl ConsoleHooks for BoardHooks<'_> {
    fn line(&mut self, _partition: usize, _intid: u32, _high: bool) {}
}

/// The running partition at `partition` (index in configuration order) and its console.
fn running_console(
    partition: usize,
) -> Option<(&'static crate::system::System, &'static ConsolePort)> {
    let system = crate::system::SYSTEM.get()?;
    let p = system.partitions.get(partition)?;
    if p.state() != PartitionState::Running {
        return None;
    }
    Some((system, p.console.as_ref()?))
}

/// Console input for partition `partition` (its index in configuration order, id - 1):
/// pushes as much of `bytes` as its virtual PL011's receive FIFO has room for and raises the
/// UART's interrupt in the partition's virtual GIC as UARTIMSC, UARTIFLS and the receive
/// timeout say. Returns how many bytes were taken (0 for a partition without a virtual console
/// or not running). Callable from any CPU.
pub fn console_input(partition: usize, bytes: &[u8]) -> usize {
    let Some((system, port)) = running_console(partition) else {
        return 0;
    };
    port.run(partition, &mut BoardHooks { system }, |uart| {
        uart.receive(bytes)
    })
}

/// Hands everything partition `partition` (index in configuration order) transmitted so far
/// to [`crate::console::partition_output`], even a line not finished yet: what its model
/// staged and what the assembly fast path staged on each of its CPUs. For the console's
/// quiet-time flush (a prompt the guest printed before waiting for input without touching the
/// UART again). Callable from any CPU.
pub fn console_flush(partition: usize) {
    let Some((system, port)) = running_console(partition) else {
        return;
    };
    port.run(partition, &mut BoardHooks { system }, |uart| {
        uart.hand_over()
    });
}

/// How many bytes [`console_input`] would take for partition `partition` now (0 when it has
/// no virtual console or is not running).
pub fn console_input_space(partition: usize) -> usize {
    running_console(partition).map_or(0, |(_, port)| port.state.lock().receive_space())
}

/// A guest access to partition `partition`'s console on the board (see [`ConsolePort::access`]).
pub fn guest_access(
    system: &crate::system::System,
    partition: usize,
    port: &ConsolePort,
    access: DeviceAccess,
    store: Option<u64>,
) -> Result<u64, MmioFault> {
    port.access(partition, &mut BoardHooks { system }, access, store)
}
