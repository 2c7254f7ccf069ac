//! The BCM2835/BCM2711 auxiliary "mini UART" (BCM2711 ARM Peripherals, 2.2): the Raspberry Pi's
//! default console on GPIO14/15. Transmit only, polled; the firmware (`enable_uart=1`) has set
//! its baud rate.

use crate::arch;
use crate::console::ByteSink;

/// AUX_MU_IO_REG (0x00 from the UART's base): data.
const IO: u64 = 0x00;
/// AUX_MU_LSR_REG (0x14): line status; bit 5 = the transmitter can accept a byte.
const LSR: u64 = 0x14;
const LSR_TX_EMPTY: u32 = 1 << 5;

/// A mini UART at a physical (identity-mapped) base address.
pub struct MiniUart {
    base: u64,
}

impl MiniUart {
    /// A mini UART at `base` (the `reg` of the device tree's `brcm,bcm2835-aux-uart` node).
    ///
    /// # Safety
    /// `base` must be a mini UART that only the hypervisor drives, mapped as device memory.
    pub const unsafe fn new(base: u64) -> Self {
        MiniUart { base }
    }
}

impl ByteSink for MiniUart {
    fn write_byte(&self, byte: u8) {
        // SAFETY: `new`'s contract: the UART is ours and mapped; LSR reads have no side effects
        // and IO writes only transmit.
        unsafe {
            while arch::read32(self.base + LSR) & LSR_TX_EMPTY == 0 {}
            arch::write32(self.base + IO, u32::from(byte));
        }
    }
}
