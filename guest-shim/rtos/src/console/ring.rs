//! A byte ring buffer: console output waits here until the main loop sends it, so jobs never
//! wait for a UART (or for the hypervisor's console).
#![forbid(unsafe_code)]

/// A FIFO of up to `N` bytes.
#[derive(Clone, Debug)]
pub struct ByteRing<const N: usize> {
    bytes: [u8; N],
    head: usize,
    len: usize,
}

impl<const N: usize> Default for ByteRing<N> {
    fn default() -> Self {
        ByteRing::new()
    }
}

impl<const N: usize> ByteRing<N> {
    /// An empty ring.
    pub const fn new() -> Self {
        ByteRing {
            bytes: [0; N],
            head: 0,
            len: 0,
        }
    }

    /// The bytes waiting.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Room left.
    pub fn free(&self) -> usize {
        N - self.len
    }

    /// Appends all of `parts` (in order), or nothing if they do not all fit.
    pub fn push_all(&mut self, parts: &[&[u8]]) -> bool {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        if total > self.free() {
            return false;
        }
        for &byte in parts.iter().flat_map(|p| p.iter()) {
            let tail = (self.head + self.len) % N;
            if let Some(slot) = self.bytes.get_mut(tail) {
                *slot = byte;
            }
            self.len += 1;
        }
        true
    }

    /// Moves the oldest bytes into `out`; returns how many.
    pub fn pop_into(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.len);
        for slot in out.iter_mut().take(n) {
            *slot = self.bytes.get(self.head).copied().unwrap_or(0);
            self.head = (self.head + 1) % N;
        }
        self.len -= n;
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_come_out_in_order_across_the_wrap() {
        let mut ring: ByteRing<8> = ByteRing::new();
        assert!(ring.push_all(&[b"abcde"]));
        let mut out = [0u8; 4];
        assert_eq!(ring.pop_into(&mut out), 4);
        assert_eq!(&out, b"abcd");
        assert!(ring.push_all(&[b"fgh", b"ijk"]), "wraps around");
        let mut out = [0u8; 16];
        let n = ring.pop_into(&mut out);
        assert_eq!(&out[..n], b"efghijk");
        assert!(ring.is_empty());
    }

    #[test]
    fn a_message_that_does_not_fit_is_refused_whole() {
        let mut ring: ByteRing<4> = ByteRing::new();
        assert!(ring.push_all(&[b"ab"]));
        assert!(!ring.push_all(&[b"cd", b"e"]));
        assert_eq!(ring.len(), 2, "nothing of the refused message went in");
    }
}
