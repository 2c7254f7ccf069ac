//! Setting up a PL011 as the hypervisor's console (Arm DDI 0183G, 3.3): disabled while it is
//! programmed (after the transmitter went quiet, bounded), 8 bits, no parity, one stop bit,
//! FIFOs on, the baud divisors for its UARTCLK, then receiver and transmitter on. Kept apart
//! from the transmit and receive paths (`pl011.rs`).

use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_bitfields;
use tock_registers::register_structs;
use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};

register_bitfields! {u32,
    /// UARTFR.
    FR [
        /// The UART is transmitting.
        BUSY OFFSET(3) NUMBITS(1) [],
    ],
    /// UARTLCR_H.
    LCRH [
        /// FIFOs enabled.
        FEN OFFSET(4) NUMBITS(1) [],
        /// Word length: 0b11 = 8 bits.
        WLEN OFFSET(5) NUMBITS(2) [EightBit = 0b11],
    ],
    /// UARTCR.
    CR [
        /// UART enable.
        UARTEN OFFSET(0) NUMBITS(1) [],
        /// Transmit enable.
        TXE OFFSET(8) NUMBITS(1) [],
        /// Receive enable.
        RXE OFFSET(9) NUMBITS(1) [],
    ],
}

register_structs! {
    /// The PL011 registers the setup writes.
    Registers {
        (0x000 => _dr),
        (0x004 => _reserved0),
        /// UARTFR.
        (0x018 => fr: ReadOnly<u32, FR::Register>),
        (0x01c => _reserved1),
        /// UARTIBRD.
        (0x024 => ibrd: ReadWrite<u32>),
        /// UARTFBRD.
        (0x028 => fbrd: ReadWrite<u32>),
        /// UARTLCR_H.
        (0x02c => lcrh: ReadWrite<u32, LCRH::Register>),
        /// UARTCR.
        (0x030 => cr: ReadWrite<u32, CR::Register>),
        (0x034 => _reserved2),
        /// UARTIMSC.
        (0x038 => imsc: ReadWrite<u32>),
        (0x03c => _reserved3),
        /// UARTICR.
        (0x044 => icr: WriteOnly<u32>),
        (0x048 => @END),
    }
}

/// Every interrupt of UARTICR.
const ALL_INTERRUPTS: u32 = 0x7ff;

/// Programs the PL011 at `base` for 8N1 with divisors `(ibrd, fbrd)`, its interrupts masked
/// (the receive path unmasks its own).
///
/// # Safety
/// `base` must be the PL011 the platform facts name, reachable as device memory (the MMU off,
/// or mapped), and only the hypervisor may drive it.
pub unsafe fn program(base: u64, (ibrd, fbrd): (u32, u32)) {
    // SAFETY: guaranteed by the caller; the cells only do volatile accesses.
    let uart = unsafe { &*(base as *const Registers) };
    uart.cr.set(0);
    // What the firmware was sending goes out first (bounded: a stopped clock never clears BUSY).
    super::uart_wait::until(|| !uart.fr.is_set(FR::BUSY));
    // Clearing FEN flushes the transmit FIFO (DDI 0183G 3.3.8).
    uart.lcrh.set(0);
    uart.imsc.set(0);
    uart.icr.set(ALL_INTERRUPTS);
    uart.ibrd.set(ibrd);
    uart.fbrd.set(fbrd);
    // The divisors take effect with the LCR_H write that follows them.
    uart.lcrh.write(LCRH::WLEN::EightBit + LCRH::FEN::SET);
    uart.cr.write(CR::UARTEN::SET + CR::TXE::SET + CR::RXE::SET);
}
