//! A PL011 console (the partition's virtual UART under Bulkhead, or a real one): polled
//! output, and input either polled ([`Pl011::read_byte`]) or interrupt-driven: the receive
//! and receive-timeout interrupts ([`Pl011::enable_receive_interrupt`]) move what arrived into
//! an [`InputRing`] from the interrupt handler ([`Pl011::receive_into`]), and the guest reads
//! the ring a byte or a line at a time. Register offsets and bits: PL011 TRM r1p5, 3.2-3.3.

use core::fmt;

/// UARTDR (0x000): data.
const DR: usize = 0x000;
/// UARTFR (0x018): flags.
const FR: usize = 0x018;
/// UARTLCR_H (0x02c): line control.
const LCR_H: usize = 0x02c;
/// UARTIMSC (0x038): interrupt mask set/clear.
const IMSC: usize = 0x038;
/// UARTICR (0x044): interrupt clear.
const ICR: usize = 0x044;
/// UARTFR: receive FIFO empty.
const FR_RXFE: u32 = 1 << 4;
/// UARTFR: transmit FIFO full.
const FR_TXFF: u32 = 1 << 5;
/// UARTLCR_H: FIFOs enabled, 8-bit words.
const LCR_H_FEN_8BIT: u32 = (1 << 4) | (0b11 << 5);
/// UARTIMSC/ICR: the receive and receive-timeout interrupts.
const RECEIVE_INTERRUPTS: u32 = (1 << 4) | (1 << 6);
/// The most bytes one [`Pl011::receive_into`] moves (a FIFO is 32 deep).
const MAX_DRAIN: usize = 64;

/// A PL011 at a fixed address.
pub struct Pl011 {
    base: usize,
}

impl Pl011 {
    /// A PL011 whose registers are at `base`.
    ///
    /// # Safety
    /// `base` must be a PL011 (or Bulkhead's virtual PL011) mapped for this guest and used by
    /// nothing else.
    pub const unsafe fn new(base: usize) -> Self {
        Pl011 { base }
    }

    /// Sends one byte.
    pub fn write_byte(&mut self, byte: u8) {
        // SAFETY: `new`'s contract: a PL011 (or Bulkhead's virtual one) mapped for us. The FR
        // read has no side effect; the DR write transmits.
        unsafe {
            while crate::mmio::read32(self.base + FR) & FR_TXFF != 0 {}
            crate::mmio::write32(self.base + DR, u32::from(byte));
        }
    }

    /// The next received byte, if one waits (polled).
    pub fn read_byte(&mut self) -> Option<u8> {
        // SAFETY: `new`'s contract. Reading DR takes the byte out of the FIFO, which is what
        // this function is for.
        unsafe {
            if crate::mmio::read32(self.base + FR) & FR_RXFE != 0 {
                return None;
            }
            Some(crate::mmio::read32(self.base + DR) as u8)
        }
    }

    /// Turns the FIFOs on and unmasks the receive and receive-timeout interrupts: received
    /// bytes raise the UART's interrupt (the device tree's, INTID 33 for Bulkhead's virtual
    /// PL011), which the guest enables at its GIC and handles with [`Self::receive_into`].
    pub fn enable_receive_interrupt(&mut self) {
        // SAFETY: `new`'s contract; these registers only configure the UART.
        unsafe {
            crate::mmio::write32(self.base + LCR_H, LCR_H_FEN_8BIT);
            crate::mmio::write32(self.base + IMSC, RECEIVE_INTERRUPTS);
        }
    }

    /// Masks the receive interrupts again (input stays in the FIFO until read).
    pub fn disable_receive_interrupt(&mut self) {
        // SAFETY: `new`'s contract; IMSC only masks interrupts.
        unsafe { crate::mmio::write32(self.base + IMSC, 0) };
    }

    /// The interrupt handler's part: moves what the receive FIFO holds into `ring` and clears
    /// the receive interrupts. Returns how many bytes arrived.
    pub fn receive_into(&mut self, ring: &mut InputRing) -> usize {
        let mut count = 0;
        while count < MAX_DRAIN {
            let Some(byte) = self.read_byte() else { break };
            ring.push(byte);
            count += 1;
        }
        // SAFETY: `new`'s contract; ICR only clears interrupt status.
        unsafe { crate::mmio::write32(self.base + ICR, RECEIVE_INTERRUPTS) };
        count
    }
}

impl fmt::Write for Pl011 {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for byte in s.bytes() {
            if byte == b'\n' {
                self.write_byte(b'\r');
            }
            self.write_byte(byte);
        }
        Ok(())
    }
}

/// Bytes an [`InputRing`] holds.
pub const INPUT_CAPACITY: usize = 128;

/// Received bytes waiting for the guest, oldest first; a byte with no room is dropped and
/// counted.
pub struct InputRing {
    bytes: [u8; INPUT_CAPACITY],
    head: usize,
    len: usize,
    /// Bytes dropped for want of room.
    pub dropped: u64,
}

impl Default for InputRing {
    fn default() -> Self {
        InputRing::new()
    }
}

impl InputRing {
    /// An empty ring.
    pub const fn new() -> Self {
        InputRing {
            bytes: [0; INPUT_CAPACITY],
            head: 0,
            len: 0,
            dropped: 0,
        }
    }

    /// Adds `byte`.
    pub fn push(&mut self, byte: u8) {
        if self.len == INPUT_CAPACITY {
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        let tail = (self.head + self.len) % INPUT_CAPACITY;
        if let Some(slot) = self.bytes.get_mut(tail) {
            *slot = byte;
        }
        self.len += 1;
    }

    /// The oldest byte.
    pub fn read_byte(&mut self) -> Option<u8> {
        if self.len == 0 {
            return None;
        }
        let byte = self.bytes.get(self.head).copied();
        self.head = (self.head + 1) % INPUT_CAPACITY;
        self.len -= 1;
        byte
    }

    /// Bytes waiting.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Takes the first complete line (ended by `\r` or `\n`, which is dropped) into `out`;
    /// returns its length, or `None` (taking nothing) while no line is complete. A line longer
    /// than `out` is cut to fit.
    pub fn read_line(&mut self, out: &mut [u8]) -> Option<usize> {
        let end = (0..self.len).find(|&i| {
            matches!(
                self.bytes.get((self.head + i) % INPUT_CAPACITY),
                Some(b'\r' | b'\n')
            )
        })?;
        let mut n = 0;
        for _ in 0..end {
            if let (Some(byte), Some(slot)) = (self.read_byte(), out.get_mut(n)) {
                *slot = byte;
                n += 1;
            }
        }
        let _ = self.read_byte();
        Some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_come_out_whole_and_in_order() {
        let mut ring = InputRing::new();
        for &b in b"ping\rpo" {
            ring.push(b);
        }
        let mut line = [0u8; 16];
        assert_eq!(ring.read_line(&mut line), Some(4));
        assert_eq!(&line[..4], b"ping");
        assert_eq!(ring.read_line(&mut line), None, "'po' is not a line yet");
        assert_eq!(ring.read_byte(), Some(b'p'));
    }

    #[test]
    fn a_full_ring_drops_and_counts() {
        let mut ring = InputRing::new();
        for _ in 0..INPUT_CAPACITY + 2 {
            ring.push(b'x');
        }
        assert_eq!((ring.len(), ring.dropped), (INPUT_CAPACITY, 2));
    }
}
