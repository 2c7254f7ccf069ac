//! The hypervisor's own console UART: an Arm PL011 (Arm DDI 0183G, 3.2 "Summary of
//! registers"). Transmit polled (every wait bounded) or non-blocking (the console multiplexer
//! only writes while the FIFO has room); receive by interrupt (RX and receive-timeout, 3.4).
//! `pl011_setup.rs` programs it at boot.

use core::sync::atomic::AtomicBool;

use tock_registers::interfaces::{ReadWriteable, Readable, Writeable};
use tock_registers::register_bitfields;
use tock_registers::register_structs;
use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};

use crate::console::ByteSink;

register_bitfields! {u32,
    /// UARTFR, the flag register.
    FR [
        /// The transmit FIFO is full.
        TXFF OFFSET(5) NUMBITS(1) [],
        /// The receive FIFO is empty.
        RXFE OFFSET(4) NUMBITS(1) [],
    ],
    /// UARTIMSC / UARTICR: the interrupts (mask set/clear, and clear).
    INT [
        /// Receive timeout.
        RT OFFSET(6) NUMBITS(1) [],
        /// Receive.
        RX OFFSET(4) NUMBITS(1) [],
    ],
}

register_structs! {
    /// The PL011 registers the hypervisor uses.
    pub Registers {
        /// UARTDR: data.
        (0x000 => dr: ReadWrite<u32>),
        (0x004 => _reserved0),
        /// UARTFR: flags.
        (0x018 => fr: ReadOnly<u32, FR::Register>),
        (0x01c => _reserved1),
        /// UARTIMSC: interrupt mask set/clear.
        (0x038 => imsc: ReadWrite<u32, INT::Register>),
        (0x03c => _reserved2),
        /// UARTICR: interrupt clear.
        (0x044 => icr: WriteOnly<u32, INT::Register>),
        (0x048 => _reserved3),
        (0x1000 => @END),
    }
}

const _: () = assert!(core::mem::size_of::<Registers>() == 0x1000);

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

    /// The PL011 at `base`, the first time it is asked for, if it is mapped as device memory
    /// at EL2 (see [`super::mmio`]).
    pub fn claim(base: u64) -> Option<Self> {
        static CLAIMED: AtomicBool = AtomicBool::new(false);
        super::mmio::claim::<Registers>(base, &CLAIMED).map(|_| Pl011 { base })
    }

    fn registers(&self) -> &Registers {
        // SAFETY: `new`'s contract or `claim`'s check: a PL011 mapped as device memory that
        // only this value drives; the cells only do volatile accesses.
        unsafe { &*(self.base as *const Registers) }
    }
}

impl ByteSink for Pl011 {
    fn write_byte(&self, byte: u8) {
        let uart = self.registers();
        // Bounded: a UART that never drains drops the byte rather than hang the hypervisor.
        if super::uart_wait::until(|| !uart.fr.is_set(FR::TXFF)) {
            uart.dr.set(u32::from(byte));
        }
    }

    fn try_write_byte(&self, byte: u8) -> bool {
        let uart = self.registers();
        if uart.fr.is_set(FR::TXFF) {
            return false;
        }
        uart.dr.set(u32::from(byte));
        true
    }

    fn read_byte(&self) -> Option<u8> {
        let uart = self.registers();
        // UARTDR's bits [11:8] are the byte's error flags; a byte with an error is still
        // the byte that arrived.
        (!uart.fr.is_set(FR::RXFE)).then(|| uart.dr.get() as u8)
    }

    fn enable_receive_interrupt(&self) {
        let uart = self.registers();
        uart.icr.write(INT::RX::SET + INT::RT::SET);
        uart.imsc.modify(INT::RX::SET + INT::RT::SET);
    }
}
