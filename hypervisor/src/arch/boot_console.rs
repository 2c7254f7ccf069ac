//! The console from the first instruction on: the UART the build names (set up here by the
//! hypervisor itself), or the device tree's, reached through plain loads and stores only.
//!
//! Before the EL2 MMU and caches are on, every access is to Device memory, where the BCM2711
//! never completes an exclusive: so no lock, no `Once`, no atomic read-modify-write here. The
//! UART is recorded with two relaxed stores (plain STR instructions: `cargo xtask check-boot`
//! checks the image for the rest) by the boot CPU before any other CPU runs, and read with
//! relaxed loads. The same UART becomes the locked console once the MMU is on
//! ([`BootConsole`] is its [`ByteSink`]), and stays the emergency path's.

use core::fmt;
use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use crate::console::ByteSink;
use crate::console_spec::{self, ConsoleSpec, Kind};
use crate::host_dt::UartKind;

/// 0: no console yet, 1: a PL011, 2: a mini UART.
static KIND: AtomicU8 = AtomicU8::new(0);
/// The UART's base.
static BASE: AtomicU64 = AtomicU64::new(0);

const PL011: u8 = 1;
const MINI_UART: u8 = 2;

/// Records the console UART (plain stores; the boot CPU only, before any other CPU runs).
fn install(kind: UartKind, base: u64) {
    BASE.store(base, Ordering::Relaxed);
    KIND.store(
        match kind {
            UartKind::Pl011 => PL011,
            UartKind::MiniUart => MINI_UART,
        },
        Ordering::Relaxed,
    );
}

/// The console UART, if one is installed.
pub fn uart() -> Option<(UartKind, u64)> {
    let base = BASE.load(Ordering::Relaxed);
    match KIND.load(Ordering::Relaxed) {
        PL011 => Some((UartKind::Pl011, base)),
        MINI_UART => Some((UartKind::MiniUart, base)),
        _ => None,
    }
}

/// Sets up the UART `spec` names (its GPIO pins, then the UART) and makes it the console.
///
/// # Safety
/// `spec` must be the build's console ([`console_spec::built`]): the board's UART and GPIO
/// block, reachable as device memory, which only the hypervisor drives; no partition runs yet.
pub unsafe fn start(spec: &ConsoleSpec) {
    if let Some(gpio) = spec.gpio {
        // SAFETY: guaranteed by the caller.
        unsafe { super::gpio_pins::give_pins_to_console(gpio, spec.kind) };
    }
    match spec.kind {
        Kind::Pl011 => {
            let divisors = console_spec::pl011_divisors(spec.clock_hz, console_spec::BAUD);
            // SAFETY: guaranteed by the caller.
            unsafe { super::pl011_setup::program(spec.base, divisors) };
            install(UartKind::Pl011, spec.base);
        }
        Kind::MiniUart => {
            let baud = console_spec::mini_uart_baud(spec.clock_hz, console_spec::BAUD);
            // SAFETY: guaranteed by the caller.
            unsafe { super::mini_uart_setup::program(spec.base, baud) };
            install(UartKind::MiniUart, spec.base);
        }
    }
}

/// Makes the device tree's console UART the console, as the firmware left it, when the build
/// named none (a build outside `cargo xtask`).
///
/// # Safety
/// `base` must be the device tree's console UART, of `kind`, which only the hypervisor drives.
pub unsafe fn adopt(kind: UartKind, base: u64) {
    if uart().is_none() {
        install(kind, base);
    }
}

/// The console UART as a byte sink (every wait bounded).
pub struct BootConsole;

impl BootConsole {
    /// Runs `f` on the recorded UART, if any.
    fn with<R>(&self, f: impl FnOnce(&dyn ByteSink) -> R) -> Option<R> {
        let (kind, base) = uart()?;
        Some(match kind {
            UartKind::Pl011 => {
                // SAFETY: `install` recorded a UART that the build or the device tree names,
                // which only the hypervisor drives; it is device memory with the MMU off and
                // mapped as device memory in the EL2 map (its range is the host's console).
                f(&unsafe { crate::pl011::Pl011::new(base) })
            }
            UartKind::MiniUart => {
                // SAFETY: as for the PL011.
                f(&unsafe { crate::mini_uart::MiniUart::new(base) })
            }
        })
    }
}

impl ByteSink for BootConsole {
    fn write_byte(&self, byte: u8) {
        self.with(|uart| uart.write_byte(byte));
    }

    fn try_write_byte(&self, byte: u8) -> bool {
        self.with(|uart| uart.try_write_byte(byte)).unwrap_or(true)
    }

    fn read_byte(&self) -> Option<u8> {
        self.with(|uart| uart.read_byte()).flatten()
    }

    fn enable_receive_interrupt(&self) {
        self.with(|uart| uart.enable_receive_interrupt());
    }
}

/// The console's sink.
pub static SINK: BootConsole = BootConsole;

/// Writes `text` (a newline becomes CR LF).
pub fn write_str(text: &str) {
    for byte in text.bytes() {
        if byte == b'\n' {
            SINK.write_byte(b'\r');
        }
        SINK.write_byte(byte);
    }
}

/// Writes `value` as `0x` and 16 hexadecimal digits.
pub fn write_hex(value: u64) {
    write_str("0x");
    for shift in (0..16).rev() {
        let digit = (value >> (shift * 4) & 0xf) as u8;
        SINK.write_byte(if digit < 10 {
            b'0' + digit
        } else {
            b'a' + digit - 10
        });
    }
}

struct Raw;

impl fmt::Write for Raw {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_str(s);
        Ok(())
    }
}

/// Writes formatted text (for the emergency path before the locked console exists).
pub fn print(args: fmt::Arguments<'_>) {
    let _ = fmt::Write::write_fmt(&mut Raw, args);
}
