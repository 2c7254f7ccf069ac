//! A partition's console output buffer: a fixed ring of bytes that never blocks its writer.
//!
//! A full ring drops its oldest line (its oldest bytes up to and including a newline) to make
//! room, and counts the bytes, so a chatty partition loses its own old output, never its newest,
//! never waits for the wire, and what is left still starts at a line's beginning. The ring
//! remembers that it was cut, so the multiplexer ends a line whose rest was dropped. The ring also counts the
//! newlines it holds, so the multiplexer knows in O(1) whether a whole line is waiting.
//!
//! Written here rather than taken from `heapless::Deque`: the drop-oldest policy with a dropped
//! count and the newline count are the point, and they need the ring's indices.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

/// Bytes each partition's ring holds: a few seconds of output at 115200 baud.
pub const RING_SIZE: usize = 16 * 1024;

/// A ring of `N` bytes that drops its oldest bytes when full.
#[derive(Clone, Debug)]
pub struct OutputRing<const N: usize = RING_SIZE> {
    bytes: [u8; N],
    /// Index of the oldest byte.
    head: usize,
    /// Bytes held.
    len: usize,
    /// Newlines among the bytes held.
    newlines: usize,
    /// Bytes dropped (oldest first) because the ring was full, since boot.
    dropped: u64,
    /// Bytes were dropped since [`OutputRing::take_cut`] last looked.
    cut: bool,
}

impl<const N: usize> Default for OutputRing<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> OutputRing<N> {
    /// An empty ring.
    pub const fn new() -> Self {
        OutputRing {
            bytes: [0; N],
            head: 0,
            len: 0,
            newlines: 0,
            dropped: 0,
            cut: false,
        }
    }

    /// Bytes held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the ring holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The ring's capacity.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Whether at least one whole line (a newline) is held.
    pub fn has_line(&self) -> bool {
        self.newlines > 0
    }

    /// Bytes dropped since boot.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Appends `bytes`, dropping the oldest bytes held (or the oldest of `bytes` themselves, if
    /// they alone overflow the ring) to make room. Never fails, never waits.
    pub fn push(&mut self, bytes: &[u8]) {
        // Only the last N bytes of an oversized write can survive.
        let skip = bytes.len().saturating_sub(N);
        let (lost, bytes) = bytes.split_at(skip);
        if !lost.is_empty() {
            self.dropped = self.dropped.saturating_add(lost.len() as u64);
            self.cut = true;
        }
        for &byte in bytes {
            if self.len == N {
                self.drop_oldest_line();
            }
            let tail = (self.head + self.len) % N;
            if let Some(slot) = self.bytes.get_mut(tail) {
                *slot = byte;
            }
            self.len += 1;
            if byte == b'\n' {
                self.newlines += 1;
            }
        }
    }

    /// Drops the oldest bytes up to and including the oldest newline (only the oldest byte if
    /// the ring holds no newline: one line longer than the ring).
    fn drop_oldest_line(&mut self) {
        self.cut = true;
        if self.newlines == 0 {
            let _ = self.pop();
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        while let Some(byte) = self.pop() {
            self.dropped = self.dropped.saturating_add(1);
            if byte == b'\n' {
                break;
            }
        }
    }

    /// Whether bytes were dropped since the last call (and forgets it).
    pub fn take_cut(&mut self) -> bool {
        core::mem::take(&mut self.cut)
    }

    /// Removes and returns the oldest byte.
    pub fn pop(&mut self) -> Option<u8> {
        if self.len == 0 {
            return None;
        }
        let byte = self.bytes.get(self.head).copied()?;
        self.head = (self.head + 1) % N;
        self.len -= 1;
        if byte == b'\n' {
            self.newlines = self.newlines.saturating_sub(1);
        }
        Some(byte)
    }

    /// Empties the ring (a partition restart); the dropped count is kept.
    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
        self.newlines = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain<const N: usize>(ring: &mut OutputRing<N>) -> Vec<u8> {
        core::iter::from_fn(|| ring.pop()).collect()
    }

    #[test]
    fn bytes_come_out_in_order_and_lines_are_counted() {
        let mut ring = OutputRing::<8>::new();
        ring.push(b"ab\ncd");
        assert!(ring.has_line());
        assert_eq!(ring.len(), 5);
        assert_eq!(ring.pop(), Some(b'a'));
        assert_eq!(ring.pop(), Some(b'b'));
        assert_eq!(ring.pop(), Some(b'\n'));
        assert!(!ring.has_line());
        assert_eq!(drain(&mut ring), b"cd");
        assert!(ring.is_empty());
    }

    #[test]
    fn a_full_ring_drops_its_oldest_line_and_counts_the_bytes() {
        let mut ring = OutputRing::<6>::new();
        ring.push(b"ab\ncd\n");
        assert!(!ring.take_cut());
        ring.push(b"e");
        assert_eq!(ring.dropped(), 3, "the whole of ab and its newline");
        assert!(ring.take_cut());
        assert!(!ring.take_cut(), "once");
        assert_eq!(drain(&mut ring), b"cd\ne");
        let mut ring = OutputRing::<4>::new();
        ring.push(b"1\n23");
        ring.push(b"45");
        assert_eq!(ring.dropped(), 2, "1 and its newline");
        assert!(!ring.has_line(), "the dropped newline is no longer counted");
        assert_eq!(drain(&mut ring), b"2345");
    }

    #[test]
    fn a_write_larger_than_the_ring_keeps_its_newest_bytes() {
        let mut ring = OutputRing::<4>::new();
        ring.push(b"x");
        ring.push(b"abcdefg");
        assert_eq!(ring.dropped(), 4, "three of the write and the old x");
        assert!(ring.take_cut());
        assert_eq!(drain(&mut ring), b"defg");
    }

    #[test]
    fn wrapping_around_keeps_order() {
        let mut ring = OutputRing::<3>::new();
        for round in 0..10u8 {
            ring.push(&[round, round + 100]);
            assert_eq!(drain(&mut ring), [round, round + 100]);
        }
        assert_eq!(ring.dropped(), 0);
    }
}
