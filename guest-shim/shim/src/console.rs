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
        #[cfg(target_arch = "aarch64")]
        // SAFETY: `new`'s contract. Single 32-bit accesses give the hypervisor a valid syndrome
        // (ISV = 1) when it emulates the UART.
        unsafe {
            while core::ptr::read_volatile((self.base + 0x18) as *const u32) & FR_TXFF != 0 {}
            core::ptr::write_volatile(self.base as *mut u32, u32::from(byte));
        }
        #[cfg(not(target_arch = "aarch64"))]
        let _ = (byte, FR_TXFF, self.base);
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
