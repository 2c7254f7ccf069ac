//! The console as an `embedded_io::Write` device: bytes are gathered into lines and each line
//! is queued whole, so a task's output is never split by another task's.
#![forbid(unsafe_code)]

use super::{Console, MAX_LINE};

/// Writes lines to a [`Console`].
pub struct LineWriter<'c> {
    console: &'c Console,
    line: heapless::Vec<u8, MAX_LINE>,
}

impl<'c> LineWriter<'c> {
    /// A writer to `console`.
    pub const fn new(console: &'c Console) -> Self {
        LineWriter {
            console,
            line: heapless::Vec::new(),
        }
    }

    fn end_line(&mut self) {
        self.console.push(&[&self.line, b"\n"]);
        self.line.clear();
    }
}

impl embedded_io::ErrorType for LineWriter<'_> {
    type Error = core::convert::Infallible;
}

impl embedded_io::Write for LineWriter<'_> {
    /// Takes every byte; a line longer than the console's [`MAX_LINE`] is broken.
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        for &byte in buf {
            if byte == b'\n' {
                self.end_line();
            } else if self.line.push(byte).is_err() {
                self.end_line();
                let _ = self.line.push(byte);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_io::Write;

    #[test]
    fn lines_are_queued_whole() {
        let console = Console::new();
        let mut writer = LineWriter::new(&console);
        writer.write_all(b"HIL:RTOS sum").unwrap();
        assert_eq!(console.pending(), 0, "nothing until the line ends");
        writeln!(writer, "mary n={}", 3).unwrap();
        let mut out = Vec::new();
        console.drain(&mut out).unwrap();
        assert_eq!(out, b"HIL:RTOS summary n=3\n");
    }
}
