//! The hypervisor's own console UART: an Arm PL011 (transmit only, polled).

use crate::arch;
use crate::console::ByteSink;

/// UARTFR (0x018): transmit FIFO full.
const FR_TXFF: u32 = 1 << 5;
/// UARTDR (0x000).
const DR: u64 = 0x000;
/// UARTFR (0x018).
const FR: u64 = 0x018;

/// A PL011 at a physical (identity-mapped) base address.
pub struct Pl011 {
    base: u64,
}

impl Pl011 {
    /// A PL011 at `base`.
    ///
    /// # Safety
    /// `base` must be a PL011 that only the hypervisor drives, mapped as device memory at EL2
    /// (or reachable with the MMU off).
    pub const unsafe fn new(base: u64) -> Self {
        Pl011 { base }
    }
}

impl ByteSink for Pl011 {
    fn write_byte(&self, byte: u8) {
        // SAFETY: `new`'s contract: the UART is ours and mapped; FR reads have no side effects
        // and DR writes only transmit.
        unsafe {
            while arch::read32(self.base + FR) & FR_TXFF != 0 {}
            arch::write32(self.base + DR, u32::from(byte));
        }
    }
}
