//! The hypervisor's own console UART: an Arm PL011 (transmit only, polled, every wait bounded;
//! Arm DDI 0183G, 3.2 "Summary of registers"). `pl011_setup.rs` programs it at boot.

use core::sync::atomic::AtomicBool;

use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_bitfields;
use tock_registers::register_structs;
use tock_registers::registers::{ReadOnly, ReadWrite};

use crate::console::ByteSink;

register_bitfields! {u32,
    /// UARTFR, the flag register.
    FR [
        /// The transmit FIFO is full.
        TXFF OFFSET(5) NUMBITS(1) [],
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
}
