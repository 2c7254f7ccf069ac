//! The RTOS on one aarch64 CPU at EL1: the one [`Kernel`], the GIC and the timer interrupt, the
//! console's output device, sleeping in the main loop, and what happens on a fault.
//!
//! ```ignore
//! rtos::entry!(main);
//! fn main(device_tree: usize, _boot_counter: u64) -> ! {
//!     let platform = /* Platform::parse(...) */;
//!     rtos::runtime::attach_console(sink);
//!     rtos::runtime::start_interrupts(&platform)?;
//!     KERNEL.spawn(config, body)?;
//!     KERNEL.start(now + first_release, None);
//!     loop { rtos::runtime::sleep_until(...) }
//! }
//! ```

use core::cell::RefCell;

use critical_section::Mutex;

use crate::arch::cpu;
use crate::arch::gic::{Gic, GicInitError};
use crate::arch::Aarch64Port;
use crate::console::input::INPUT;
use crate::console::CONSOLE;
use crate::devicetree::Platform;
use crate::drivers::serial::{HypercallConsole, Interrupts, Uart};
use crate::kernel::Kernel;
use crate::time::Instant;

/// The kernel.
pub static KERNEL: Kernel<Aarch64Port> = Kernel::new(Aarch64Port);

/// The timer interrupt's GIC priority. Jobs are ordered by the kernel, not by GIC priorities.
const TIMER_PRIORITY: u8 = 0x80;
/// The console UART's receive interrupt's GIC priority (below the timer's).
const CONSOLE_PRIORITY: u8 = 0xa0;
/// A device's interrupt's GIC priority (between the timer's and the console's).
const DEVICE_PRIORITY: u8 = 0x90;
/// The most device interrupts with a handler.
const MAX_DEVICE_HANDLERS: usize = 4;

/// A device interrupt's handler, called with its INTID from the IRQ handler (IRQs masked,
/// before the interrupt is ended): it must make the device drop the (level) interrupt.
pub type DeviceHandler = fn(u32);

/// The UART interrupts that mean input arrived: receive (FIFO at its level) and receive timeout.
const RECEIVE: Interrupts = Interrupts::RXI.union(Interrupts::RTI);

/// Where console output goes.
pub enum Sink {
    /// A PL011 (Bulkhead's virtual one, or a real one).
    Uart(Uart<'static>),
    /// Bulkhead's console hypercall.
    Hypercall(HypercallConsole),
}

struct Machine {
    gic: Option<Gic>,
    timer_intid: u32,
    /// The console UART's interrupt, once its receive interrupt is on.
    console_intid: Option<u32>,
    /// The console's interrupt came while its UART was out sending (it is disabled at the GIC
    /// until the UART is back).
    receive_deferred: bool,
    sink: Option<Sink>,
    /// Device interrupts with their handlers ([`enable_device_interrupt`]).
    devices: heapless::Vec<(u32, DeviceHandler), MAX_DEVICE_HANDLERS>,
    /// Interrupts acknowledged since boot.
    taken: u64,
    /// Interrupts acknowledged that nothing handles.
    stray: u64,
}

static MACHINE: Mutex<RefCell<Machine>> = Mutex::new(RefCell::new(Machine {
    gic: None,
    timer_intid: crate::devicetree::DEFAULT_VTIMER_INTID,
    console_intid: None,
    receive_deferred: false,
    sink: None,
    devices: heapless::Vec::new(),
    taken: 0,
    stray: 0,
}));

/// Why interrupts could not be started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartError {
    /// The device tree names no GIC.
    NoGic,
    /// The GIC refused (see [`GicInitError`]).
    Gic(GicInitError),
    /// Interrupts were not started yet ([`start_interrupts`]).
    NotStarted,
    /// [`MAX_DEVICE_HANDLERS`] device interrupts already have handlers, or this one has.
    HandlerTaken(u32),
}

/// Makes `sink` the console's output device.
pub fn attach_console(sink: Sink) {
    critical_section::with(|cs| MACHINE.borrow_ref_mut(cs).sink = Some(sink));
}

/// Sends everything the console holds to its device (with IRQs enabled: jobs keep running).
pub fn flush_console() {
    let Some(mut sink) = critical_section::with(|cs| MACHINE.borrow_ref_mut(cs).sink.take()) else {
        return;
    };
    drain_into(&mut sink);
    critical_section::with(|cs| {
        let mut machine = MACHINE.borrow_ref_mut(cs);
        machine.sink = Some(sink);
        if core::mem::take(&mut machine.receive_deferred) {
            receive(&mut machine);
            if let (Some(intid), Some(gic)) = (machine.console_intid, machine.gic.as_mut()) {
                gic.reenable(intid);
            }
        }
    });
}

/// Moves what the console UART received into [`INPUT`] and acknowledges its receive
/// interrupts. While the UART is out sending (see [`flush_console`]), its interrupt is disabled
/// at the GIC instead and the bytes are taken when it is back.
fn receive(machine: &mut Machine) {
    match machine.sink.as_mut() {
        Some(Sink::Uart(uart)) => {
            // At most a FIFO's worth (32) and a little: a byte with an error flag is consumed
            // and dropped (a virtual PL011 never sets one).
            for _ in 0..64 {
                match uart.read_word() {
                    Ok(Some(byte)) => INPUT.push(byte),
                    Ok(None) => break,
                    Err(_) => {}
                }
            }
            uart.clear_interrupts(RECEIVE);
        }
        _ => {
            machine.receive_deferred = true;
            if let (Some(intid), Some(gic)) = (machine.console_intid, machine.gic.as_mut()) {
                gic.disable(intid);
            }
        }
    }
}

fn drain_into(sink: &mut Sink) {
    match sink {
        Sink::Uart(uart) => {
            let _ = CONSOLE.drain(&mut CrLf(uart));
        }
        Sink::Hypercall(console) => {
            let _ = CONSOLE.drain(console);
        }
    }
}

/// Turns `\n` into `\r\n` for serial terminals (Bulkhead's console drops the `\r`).
struct CrLf<'a, W>(&'a mut W);

impl<W: embedded_io::Write> embedded_io::ErrorType for CrLf<'_, W> {
    type Error = W::Error;
}

impl<W: embedded_io::Write> embedded_io::Write for CrLf<'_, W> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        for line in buf.split_inclusive(|&b| b == b'\n') {
            match line.split_last() {
                Some((b'\n', text)) => {
                    self.0.write_all(text)?;
                    self.0.write_all(b"\r\n")?;
                }
                _ => self.0.write_all(line)?,
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        self.0.flush()
    }
}

/// Sets up the GIC from the device tree, enables the virtual timer's interrupt and unmasks
/// IRQs. Returns the GIC version.
pub fn start_interrupts(platform: &Platform<'_>) -> Result<u8, StartError> {
    let frames = platform.gic.ok_or(StartError::NoGic)?;
    cpu::set_virtual_timer(None);
    // SAFETY: the frames are the GIC of this machine's (or partition's) device tree; the
    // runtime is the only code that drives it.
    let mut gic = unsafe { Gic::new(frames, platform.cpus) }.map_err(StartError::Gic)?;
    gic.enable_private(platform.vtimer_intid, TIMER_PRIORITY)
        .map_err(StartError::Gic)?;
    let version = gic.version();
    critical_section::with(|cs| {
        let mut machine = MACHINE.borrow_ref_mut(cs);
        // Input: the console UART's receive and receive-timeout interrupts, when the console is
        // a UART whose device-tree node names its interrupt.
        if let (Some(intid), Some(Sink::Uart(uart))) =
            (platform.console_intid, machine.sink.as_mut())
        {
            if gic.enable_shared(intid, CONSOLE_PRIORITY).is_ok() {
                uart.set_interrupt_masks(RECEIVE);
                machine.console_intid = Some(intid);
            }
        }
        machine.gic = Some(gic);
        machine.timer_intid = platform.vtimer_intid;
    });
    cpu::unmask_irqs();
    Ok(version)
}

/// Routes device interrupt `intid` (an SPI) to this CPU, enables it at the GIC and calls
/// `handler` each time it is taken (after [`start_interrupts`]).
pub fn enable_device_interrupt(intid: u32, handler: DeviceHandler) -> Result<(), StartError> {
    critical_section::with(|cs| {
        let mut machine = MACHINE.borrow_ref_mut(cs);
        let known = machine.devices.iter().any(|&(i, _)| i == intid)
            || Some(intid) == machine.console_intid
            || intid == machine.timer_intid;
        if known || machine.devices.is_full() {
            return Err(StartError::HandlerTaken(intid));
        }
        let gic = machine.gic.as_mut().ok_or(StartError::NotStarted)?;
        gic.route_here(intid).map_err(StartError::Gic)?;
        gic.enable_shared(intid, DEVICE_PRIORITY)
            .map_err(StartError::Gic)?;
        machine
            .devices
            .push((intid, handler))
            .map_err(|_| StartError::HandlerTaken(intid))
    })
}

/// The IRQ vector's handler: acknowledges and handles every pending interrupt, ends each, then
/// runs the jobs they released.
pub(crate) fn on_irq(entry: Instant) {
    KERNEL.enter_isr();
    while let Some((intid, timer, device)) = critical_section::with(|cs| {
        let mut machine = MACHINE.borrow_ref_mut(cs);
        let timer = machine.timer_intid;
        let intid = machine.gic.as_mut()?.acknowledge()?;
        let device = machine
            .devices
            .iter()
            .find(|&&(i, _)| i == intid)
            .map(|&(_, handler)| handler);
        Some((intid, intid == timer, device))
    }) {
        if timer {
            KERNEL.on_timer(entry);
        }
        if let Some(handler) = device {
            handler(intid);
        }
        critical_section::with(|cs| {
            let mut machine = MACHINE.borrow_ref_mut(cs);
            let console = machine.console_intid == Some(intid);
            if console {
                receive(&mut machine);
            } else {
                machine.taken = machine.taken.saturating_add(1);
            }
            if !timer && !console && device.is_none() {
                machine.stray = machine.stray.saturating_add(1);
            }
            if let Some(gic) = machine.gic.as_mut() {
                gic.end(intid);
            }
        });
    }
    KERNEL.leave_isr();
    KERNEL.dispatch();
}

/// Interrupts acknowledged since boot, the console UART's aside (each physical interrupt a
/// hypervisor injects is one; the console's is a purely virtual one under Bulkhead).
pub fn interrupts_taken() -> u64 {
    critical_section::with(|cs| MACHINE.borrow_ref(cs).taken)
}

/// Interrupts taken that nothing handles.
pub fn stray_interrupts() -> u64 {
    critical_section::with(|cs| MACHINE.borrow_ref(cs).stray)
}

/// Sleeps in the main loop until `deadline`, running jobs as their interrupts come.
pub fn sleep_until(deadline: Instant) {
    KERNEL.set_wakeup(Some(deadline));
    cpu::idle_until(|| cpu::now() >= deadline);
}

/// Sleeps until `done()` holds, waking at least at every interrupt (`done` runs with IRQs
/// masked).
pub fn idle_until(done: impl FnMut() -> bool) {
    cpu::idle_until(done);
}

/// Reports a fatal error (`HIL:RTOS fault ...` and a defmt error), sends the console out and
/// powers off (the partition under Bulkhead, the machine bare).
pub fn fault(args: core::fmt::Arguments<'_>) -> ! {
    cpu::mask_irqs();
    crate::println!("HIL:RTOS fault {}", args);
    let sink = critical_section::with(|cs| {
        MACHINE
            .borrow(cs)
            .try_borrow_mut()
            .ok()
            .and_then(|mut machine| machine.sink.take())
    });
    if let Some(mut sink) = sink {
        drain_into(&mut sink);
    }
    guest_shim::psci::system_off()
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    fault(format_args!("panic {info}"))
}
