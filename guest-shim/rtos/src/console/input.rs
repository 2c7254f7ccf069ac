//! Console input: the bytes the console UART's receive interrupt takes out of its FIFO wait
//! here until the main loop reads them, a byte at a time ([`Input::read_byte`]) or as lines
//! ([`LineReader`]). The interrupt handler only moves bytes; nothing it does waits.
#![forbid(unsafe_code)]

use core::cell::RefCell;

use critical_section::Mutex;

use super::ring::ByteRing;

/// Bytes of input that can wait.
pub const CAPACITY: usize = 256;
/// The longest line [`LineReader`] assembles (longer ones are cut).
pub const MAX_LINE: usize = 80;

/// Received bytes, oldest first.
pub struct Input {
    ring: Mutex<RefCell<ByteRing<CAPACITY>>>,
    dropped: Mutex<core::cell::Cell<u64>>,
}

/// The RTOS's console input.
pub static INPUT: Input = Input::new();

impl Default for Input {
    fn default() -> Self {
        Input::new()
    }
}

impl Input {
    /// No input.
    pub const fn new() -> Self {
        Input {
            ring: Mutex::new(RefCell::new(ByteRing::new())),
            dropped: Mutex::new(core::cell::Cell::new(0)),
        }
    }

    /// Adds a received byte (from the receive interrupt); a byte with no room is counted and
    /// dropped.
    pub fn push(&self, byte: u8) {
        critical_section::with(|cs| {
            if !self.ring.borrow_ref_mut(cs).push_all(&[&[byte]]) {
                let dropped = self.dropped.borrow(cs);
                dropped.set(dropped.get().saturating_add(1));
            }
        });
    }

    /// The oldest byte not read yet.
    pub fn read_byte(&self) -> Option<u8> {
        let mut byte = [0u8; 1];
        let n = critical_section::with(|cs| self.ring.borrow_ref_mut(cs).pop_into(&mut byte));
        (n == 1).then_some(byte[0])
    }

    /// Whether bytes wait.
    pub fn pending(&self) -> bool {
        critical_section::with(|cs| !self.ring.borrow_ref(cs).is_empty())
    }

    /// Bytes dropped because no room was left.
    pub fn dropped(&self) -> u64 {
        critical_section::with(|cs| self.dropped.borrow(cs).get())
    }
}

/// Assembles input into lines: a carriage return or a line feed ends one (a terminal sends
/// `\r` for Enter), backspace and DEL remove the last character, other control bytes are
/// ignored.
#[derive(Default)]
pub struct LineReader {
    line: heapless::String<MAX_LINE>,
}

impl LineReader {
    /// An empty line.
    pub const fn new() -> Self {
        LineReader {
            line: heapless::String::new(),
        }
    }

    /// Reads what `input` holds; returns the next complete line (without its end), or `None`
    /// when the input ran out first. Empty lines are skipped.
    pub fn poll(&mut self, input: &Input) -> Option<heapless::String<MAX_LINE>> {
        while let Some(byte) = input.read_byte() {
            match byte {
                b'\r' | b'\n' if !self.line.is_empty() => {
                    return Some(core::mem::take(&mut self.line));
                }
                0x08 | 0x7f => {
                    self.line.pop();
                }
                0x20..=0x7e => {
                    let _ = self.line.push(char::from(byte));
                }
                _ => {}
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(input: &Input, text: &[u8]) {
        text.iter().for_each(|&b| input.push(b));
    }

    #[test]
    fn bytes_come_out_in_order_and_overflow_is_counted() {
        let input = Input::new();
        typed(&input, b"ab");
        assert_eq!(input.read_byte(), Some(b'a'));
        assert_eq!(input.read_byte(), Some(b'b'));
        assert_eq!(input.read_byte(), None);
        typed(&input, &[b'x'; CAPACITY + 3]);
        assert_eq!(input.dropped(), 3);
    }

    #[test]
    fn lines_end_at_enter_and_backspace_edits() {
        let input = Input::new();
        let mut reader = LineReader::new();
        typed(&input, b"stax\x7fts\r\r\nhe");
        assert_eq!(reader.poll(&input).as_deref(), Some("stats"));
        assert_eq!(
            reader.poll(&input),
            None,
            "empty lines skipped, 'he' is partial"
        );
        typed(&input, b"lp\n");
        assert_eq!(reader.poll(&input).as_deref(), Some("help"));
    }
}
