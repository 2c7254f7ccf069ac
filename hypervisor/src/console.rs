//! The hypervisor console: one UART shared by the hypervisor and the partitions' virtual UARTs.
//!
//! Output is serialised by a lock so lines from different CPUs never interleave. Partitions'
//! lines are prefixed with `[name] `. A hypervisor failure writes through [`emergency_print`],
//! which takes no lock (the CPU that failed may hold it, or another CPU that will never release
//! it) and silences the locked path for good.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering};

/// Something bytes can be written to.
pub trait ByteSink: Sync {
    /// Writes one byte, waiting for room if needed.
    fn write_byte(&self, byte: u8);
}

struct Console {
    sink: Option<&'static dyn ByteSink>,
}

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if let Some(sink) = self.sink {
            for byte in s.bytes() {
                if byte == b'\n' {
                    sink.write_byte(b'\r');
                }
                sink.write_byte(byte);
            }
        }
        Ok(())
    }
}

static CONSOLE: spin::Mutex<Console> = spin::Mutex::new(Console { sink: None });
/// The same sink, for the emergency path (read without a lock once set).
static EMERGENCY: spin::Once<&'static dyn ByteSink> = spin::Once::new();
/// Set once the emergency path took over: the locked path prints nothing more.
static SILENCED: AtomicBool = AtomicBool::new(false);

/// Makes `sink` the console.
pub fn init(sink: &'static dyn ByteSink) {
    CONSOLE.lock().sink = Some(sink);
    EMERGENCY.call_once(|| sink);
}

/// Writes formatted text to the console (used by [`println!`](crate::println)).
pub fn print(args: fmt::Arguments<'_>) {
    if SILENCED.load(Ordering::Acquire) {
        return;
    }
    let _ = CONSOLE.lock().write_fmt(args);
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

/// Collects a partition's console output into lines.
#[derive(Clone, Debug, Default)]
pub struct LineBuffer {
    line: heapless::String<200>,
}

impl LineBuffer {
    /// Adds `byte`; returns the completed line (without its newline) when `byte` ends one or the
    /// buffer is full. Carriage returns and other control bytes are dropped.
    pub fn push(&mut self, byte: u8) -> Option<heapless::String<200>> {
        match byte {
            b'\n' => return Some(core::mem::take(&mut self.line)),
            b'\t' | 0x20..=0x7e => {
                let _ = self.line.push(byte as char);
            }
            0x80..=0xff => {
                let _ = self.line.push('?');
            }
            _ => {}
        }
        if self.line.len() == self.line.capacity() {
            return Some(core::mem::take(&mut self.line));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_on_newline_and_control_bytes_dropped() {
        let mut buffer = LineBuffer::default();
        let mut lines = std::vec::Vec::new();
        for &byte in b"hello\r\nworld\x07\n" {
            if let Some(line) = buffer.push(byte) {
                lines.push(line);
            }
        }
        assert_eq!(lines, ["hello", "world"]);
    }

    struct Recorder(std::sync::Mutex<std::vec::Vec<u8>>);
    impl ByteSink for Recorder {
        fn write_byte(&self, byte: u8) {
            self.0.lock().unwrap().push(byte);
        }
    }

    #[test]
    fn the_emergency_path_prints_while_the_console_is_locked_and_silences_it() {
        static SINK: Recorder = Recorder(std::sync::Mutex::new(std::vec::Vec::new()));
        init(&SINK);
        crate::println!("before");
        let held = CONSOLE.lock();
        assert!(take_over());
        assert!(!take_over(), "only the first failure takes over");
        crate::emergency_println!("HIL:PANIC test");
        drop(held);
        crate::println!("after");
        let text = std::string::String::from_utf8(SINK.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("before\r\n"), "{text}");
        assert!(text.contains("HIL:PANIC test\r\n"), "{text}");
        assert!(
            !text.contains("after"),
            "the locked path is silenced: {text}"
        );
    }

    #[test]
    fn overlong_lines_are_broken() {
        let mut buffer = LineBuffer::default();
        let full = (0..250).filter_map(|_| buffer.push(b'x')).count();
        assert_eq!(full, 1);
    }
}
