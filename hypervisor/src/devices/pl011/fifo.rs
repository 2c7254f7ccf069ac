//! The PL011's receive FIFO: 32 entries deep with FIFOs enabled (UARTLCR_H.FEN), one (the
//! holding register) without (PL011 TRM chapter 2, "Receive FIFO", and 3.3.7, FEN).
//!
//! Our own ring rather than `heapless::Deque`: it is one byte per entry with a depth that
//! changes with FEN, and must be `const`-constructible inside a static partition table.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

/// The depth with FIFOs enabled (TRM chapter 2, "Receive FIFO": 32 x 12 bits; the four status bits are
/// always zero here, so a byte is stored).
pub const DEPTH: usize = 32;

/// A receive FIFO of up to [`DEPTH`] bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fifo {
    bytes: [u8; DEPTH],
    head: u8,
    len: u8,
}

impl Default for Fifo {
    fn default() -> Self {
        Fifo::new()
    }
}

impl Fifo {
    /// An empty FIFO.
    pub const fn new() -> Self {
        Fifo {
            bytes: [0; DEPTH],
            head: 0,
            len: 0,
        }
    }

    /// Bytes held.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `byte` if fewer than `depth` (at most [`DEPTH`]) bytes are held.
    pub fn push(&mut self, byte: u8, depth: usize) -> bool {
        let len = self.len();
        if len >= depth.min(DEPTH) {
            return false;
        }
        let at = usize::from(self.head).wrapping_add(len) % DEPTH;
        if let Some(slot) = self.bytes.get_mut(at) {
            *slot = byte;
        }
        self.len = self.len.wrapping_add(1);
        true
    }

    /// Takes the oldest byte.
    pub fn pop(&mut self) -> Option<u8> {
        if self.len == 0 {
            return None;
        }
        let byte = self.bytes.get(usize::from(self.head)).copied();
        self.head = (usize::from(self.head).wrapping_add(1) % DEPTH) as u8;
        self.len = self.len.wrapping_sub(1);
        byte
    }

    /// Empties it.
    pub fn clear(&mut self) {
        *self = Fifo::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_come_out_in_order_and_the_depth_is_respected() {
        let mut fifo = Fifo::new();
        for byte in 0..40u8 {
            assert_eq!(fifo.push(byte, DEPTH), byte < 32, "byte {byte}");
        }
        assert_eq!(fifo.len(), 32);
        for byte in 0..32u8 {
            assert_eq!(fifo.pop(), Some(byte));
        }
        assert_eq!(fifo.pop(), None);
        assert!(fifo.is_empty());
    }

    #[test]
    fn with_fifos_disabled_it_holds_one_byte() {
        // TRM 3.3.7, FEN = 0: "the FIFOs become 1-byte-deep holding registers".
        let mut fifo = Fifo::new();
        assert!(fifo.push(b'a', 1));
        assert!(!fifo.push(b'b', 1));
        assert_eq!(fifo.pop(), Some(b'a'));
        assert!(fifo.push(b'c', 1));
    }

    #[test]
    fn it_wraps_around() {
        let mut fifo = Fifo::new();
        for round in 0..100u8 {
            assert!(fifo.push(round, DEPTH));
            assert!(fifo.push(round ^ 0xff, DEPTH));
            assert_eq!(fifo.pop(), Some(round));
            assert_eq!(fifo.pop(), Some(round ^ 0xff));
        }
    }
}
