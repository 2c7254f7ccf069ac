//! The console: plain lines (`HIL:RTOS ...`) and defmt frames share one buffer in RAM, in
//! the order they were made, and the main loop sends them to the serial port when it chooses
//! (between measurement windows, or whenever it is idle). Writing never waits for the port.
//! Input from the port's receive interrupt waits in [`input`] until the main loop reads it.
#![forbid(unsafe_code)]

pub mod base64;
pub mod defmt_frame;
pub mod input;
pub mod ring;
pub mod writer;

use core::cell::{Cell, RefCell};
use core::fmt::{self, Write as _};

use critical_section::Mutex;

use defmt_frame::{FrameBuffer, MAX_LINES_LEN};
use ring::ByteRing;

/// Bytes of console output that can wait.
pub const CAPACITY: usize = 32 * 1024;
/// The longest plain line (longer ones are cut).
pub const MAX_LINE: usize = 199;

/// The buffered console (see the module documentation).
pub struct Console {
    ring: Mutex<RefCell<ByteRing<CAPACITY>>>,
    dropped: Mutex<Cell<u64>>,
}

/// The RTOS's console.
pub static CONSOLE: Console = Console::new();

impl Default for Console {
    fn default() -> Self {
        Console::new()
    }
}

impl Console {
    /// An empty console.
    pub const fn new() -> Self {
        Console {
            ring: Mutex::new(RefCell::new(ByteRing::new())),
            dropped: Mutex::new(Cell::new(0)),
        }
    }

    fn push(&self, parts: &[&[u8]]) -> bool {
        let stored = critical_section::with(|cs| self.ring.borrow_ref_mut(cs).push_all(parts));
        if !stored {
            self.count_drop();
        }
        stored
    }

    fn count_drop(&self) {
        critical_section::with(|cs| {
            let dropped = self.dropped.borrow(cs);
            dropped.set(dropped.get().saturating_add(1));
        });
    }

    /// Queues one plain line (a newline is added); `false` if it was dropped (no room).
    pub fn line(&self, args: fmt::Arguments<'_>) -> bool {
        let mut text: heapless::String<MAX_LINE> = heapless::String::new();
        let _ = text.write_fmt(args);
        self.push(&[text.as_bytes(), b"\n"])
    }

    /// Queues the lines of one defmt frame; `false` if it was dropped.
    pub fn defmt_frame(&self, frame: &mut FrameBuffer) -> bool {
        let mut lines = [0u8; MAX_LINES_LEN];
        match frame.take_lines(&mut lines) {
            Some(n) => self.push(&[lines.get(..n).unwrap_or(&[])]),
            None => {
                self.count_drop();
                false
            }
        }
    }

    /// Sends everything queued to `out`.
    pub fn drain<W: embedded_io::Write>(&self, out: &mut W) -> Result<(), W::Error> {
        loop {
            let mut chunk = [0u8; 64];
            let n = critical_section::with(|cs| self.ring.borrow_ref_mut(cs).pop_into(&mut chunk));
            if n == 0 {
                return out.flush();
            }
            out.write_all(chunk.get(..n).unwrap_or(&[]))?;
        }
    }

    /// Bytes waiting to be sent.
    pub fn pending(&self) -> usize {
        critical_section::with(|cs| self.ring.borrow_ref(cs).len())
    }

    /// Lines and frames dropped because the buffer was full (or a frame was too long).
    pub fn dropped(&self) -> u64 {
        critical_section::with(|cs| self.dropped.borrow(cs).get())
    }
}

/// Queues a plain console line, like `println!`.
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => {
        $crate::console::CONSOLE.line(format_args!($($arg)*))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_frames_come_out_in_order() {
        let console = Console::new();
        console.line(format_args!("HIL:RTOS start n={}", 1));
        let mut frame = FrameBuffer::new();
        frame.extend(&[1, 0]);
        assert!(console.defmt_frame(&mut frame));
        let mut out = Vec::new();
        console.drain(&mut out).unwrap();
        assert_eq!(out, b"HIL:RTOS start n=1\nDEFMT:AQA=\n");
        assert_eq!(console.pending(), 0);
    }

    #[test]
    fn a_full_console_drops_whole_lines_and_counts_them() {
        let console = Console::new();
        let long = "x".repeat(MAX_LINE);
        let mut stored = 0;
        while console.line(format_args!("{long}")) {
            stored += 1;
        }
        assert_eq!(stored, CAPACITY / (MAX_LINE + 1));
        assert_eq!(console.dropped(), 1);
    }
}
