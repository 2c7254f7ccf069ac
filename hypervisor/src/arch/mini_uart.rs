//! The BCM2835/BCM2711 auxiliary "mini UART" (BCM2711 ARM Peripherals, 2.2): the Raspberry Pi's
//! default console on GPIO14/15. Transmit polled (every wait bounded) or non-blocking, receive
//! by interrupt (the AUX interrupt); the hypervisor enables it and sets its baud itself at boot
//! (`mini_uart_setup.rs`).

use core::sync::atomic::AtomicBool;

use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_bitfields;
use tock_registers::register_structs;
use tock_registers::registers::{ReadOnly, ReadWrite};

use crate::console::ByteSink;

register_bitfields! {u32,
    /// AUX_MU_LSR_REG, line status.
    LSR [
        /// The transmitter can accept a byte.
        TX_EMPTY OFFSET(5) NUMBITS(1) [],
        /// The receive FIFO holds at least one byte.
        DATA_READY OFFSET(0) NUMBITS(1) [],
    ],
    /// AUX_MU_IER_REG, interrupt enable. The BCM2835 manual swaps the two enables (its
    /// erratum): bit 0 is receive, as in a 16550's IER, and bits 3:2 must be set for any
    /// interrupt to reach the AUX interrupt line.
    IER [
        /// Receive interrupt enable.
        RX OFFSET(0) NUMBITS(1) [],
        /// Transmit interrupt enable.
        TX OFFSET(1) NUMBITS(1) [],
        /// Must be set for interrupts to be signalled.
        LINE OFFSET(2) NUMBITS(2) [],
    ],
}

register_structs! {
    /// The mini UART registers the hypervisor uses, from the UART's base (the `reg` of the
    /// device tree's `brcm,bcm2835-aux-uart` node, AUX + 0x40).
    pub Registers {
        /// AUX_MU_IO_REG: data.
        (0x00 => io: ReadWrite<u32>),
        /// AUX_MU_IER_REG: interrupt enable.
        (0x04 => ier: ReadWrite<u32, IER::Register>),
        (0x08 => _reserved0),
        /// AUX_MU_LSR_REG: line status.
        (0x14 => lsr: ReadOnly<u32, LSR::Register>),
        (0x18 => _reserved1),
        (0x40 => @END),
    }
}

const _: () = assert!(core::mem::size_of::<Registers>() == 0x40);

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

    /// The mini UART at `base`, the first time it is asked for, if it is mapped as device
    /// memory at EL2 (see [`super::mmio`]).
    pub fn claim(base: u64) -> Option<Self> {
        static CLAIMED: AtomicBool = AtomicBool::new(false);
        super::mmio::claim::<Registers>(base, &CLAIMED).map(|_| MiniUart { base })
    }

    fn registers(&self) -> &Registers {
        // SAFETY: `new`'s contract or `claim`'s check: a mini UART mapped as device memory that
        // only this value drives; the cells only do volatile accesses.
        unsafe { &*(self.base as *const Registers) }
    }
}

impl ByteSink for MiniUart {
    fn write_byte(&self, byte: u8) {
        let uart = self.registers();
        // Bounded: a UART left disabled or without a clock drops the byte rather than hang.
        if super::uart_wait::until(|| uart.lsr.is_set(LSR::TX_EMPTY)) {
            uart.io.set(u32::from(byte));
        }
    }

    fn try_write_byte(&self, byte: u8) -> bool {
        let uart = self.registers();
        if !uart.lsr.is_set(LSR::TX_EMPTY) {
            return false;
        }
        uart.io.set(u32::from(byte));
        true
    }

    fn read_byte(&self) -> Option<u8> {
        let uart = self.registers();
        uart.lsr
            .is_set(LSR::DATA_READY)
            .then(|| uart.io.get() as u8)
    }

    fn enable_receive_interrupt(&self) {
        // The receive interrupt clears itself when the FIFO is read empty.
        self.registers()
            .ier
            .write(IER::RX::SET + IER::LINE.val(0b11));
    }
}
