//! A polled PL011 console: the partition's virtual UART under Bulkhead, or a real one.

use core::fmt;

/// UARTFR (0x018): transmit FIFO full.
const FR_TXFF: u32 = 1 << 5;

/// A PL011 transmitter at a fixed address.
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
            while crate::mmio::read32(self.base + 0x18) & FR_TXFF != 0 {}
            crate::mmio::write32(self.base, u32::from(byte));
        }
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
