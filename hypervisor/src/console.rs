//! The hypervisor console: one UART shared by the hypervisor and the partitions' virtual UARTs.
//!
//! Output is serialised by a lock so lines from different CPUs never interleave. Partitions'
//! lines are prefixed with `[name] `.

use core::fmt::{self, Write};

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

/// Makes `sink` the console.
pub fn init(sink: &'static dyn ByteSink) {
    CONSOLE.lock().sink = Some(sink);
}

/// Writes formatted text to the console (used by [`println!`](crate::println)).
pub fn print(args: fmt::Arguments<'_>) {
    let _ = CONSOLE.lock().write_fmt(args);
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

    #[test]
    fn overlong_lines_are_broken() {
        let mut buffer = LineBuffer::default();
        let full = (0..250).filter_map(|_| buffer.push(b'x')).count();
        assert_eq!(full, 1);
    }
}
