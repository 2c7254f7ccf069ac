//! Setting up the mini UART as the hypervisor's console (BCM2711 ARM Peripherals, 2.1 and
//! 2.2): enable it in AUX_ENABLES, then 8 bits, no parity, one stop bit, no flow control, the
//! FIFOs cleared, the baud register from the pinned core clock, receiver and transmitter on.
//! Kept apart from the transmit and receive paths (`mini_uart.rs`).

use tock_registers::interfaces::{ReadWriteable, Readable, Writeable};
use tock_registers::register_bitfields;
use tock_registers::register_structs;
use tock_registers::registers::ReadWrite;

register_bitfields! {u32,
    /// AUX_ENABLES.
    ENABLES [
        /// The mini UART is enabled (its registers answer only then).
        MINI_UART OFFSET(0) NUMBITS(1) [],
    ],
    /// AUX_MU_LCR_REG.
    LCR [
        /// Data size: 0b11 = 8 bits.
        DATA_SIZE OFFSET(0) NUMBITS(2) [EightBit = 0b11],
    ],
    /// AUX_MU_IIR_REG (write: FIFO clear).
    IIR [
        /// Bit 1 clears the receive FIFO, bit 2 the transmit FIFO.
        CLEAR_FIFOS OFFSET(1) NUMBITS(2) [Both = 0b11],
    ],
    /// AUX_MU_CNTL_REG.
    CNTL [
        /// Receiver enable.
        RX_ENABLE OFFSET(0) NUMBITS(1) [],
        /// Transmitter enable.
        TX_ENABLE OFFSET(1) NUMBITS(1) [],
    ],
}

register_structs! {
    /// The AUX block's registers the setup writes, from the AUX base (the mini UART's - 0x40).
    Registers {
        /// AUX_IRQ.
        (0x00 => _irq),
        /// AUX_ENABLES.
        (0x04 => enables: ReadWrite<u32, ENABLES::Register>),
        (0x08 => _reserved0),
        /// AUX_MU_IER_REG.
        (0x44 => ier: ReadWrite<u32>),
        /// AUX_MU_IIR_REG.
        (0x48 => iir: ReadWrite<u32, IIR::Register>),
        /// AUX_MU_LCR_REG.
        (0x4c => lcr: ReadWrite<u32, LCR::Register>),
        /// AUX_MU_MCR_REG.
        (0x50 => mcr: ReadWrite<u32>),
        (0x54 => _reserved1),
        /// AUX_MU_CNTL_REG.
        (0x60 => cntl: ReadWrite<u32, CNTL::Register>),
        /// AUX_MU_STAT_REG.
        (0x64 => _stat),
        /// AUX_MU_BAUD_REG.
        (0x68 => baud: ReadWrite<u32>),
        (0x6c => @END),
    }
}

/// The AUX block lies 0x40 below the mini UART's registers.
const AUX_OFFSET: u64 = 0x40;

/// Enables and programs the mini UART at `base` (AUX + 0x40) for 8N1 with baud register
/// `baud_register`, its interrupts off (the receive path enables its own).
///
/// # Safety
/// `base` must be the mini UART the platform facts name, reachable as device memory (the MMU
/// off, or mapped), and only the hypervisor may drive it.
pub unsafe fn program(base: u64, baud_register: u32) {
    // SAFETY: guaranteed by the caller; the AUX page holds both; volatile accesses only.
    let aux = unsafe { &*((base - AUX_OFFSET) as *const Registers) };
    // Read-modify-write: AUX_ENABLES also enables SPI1/SPI2, which are not ours to change.
    aux.enables.modify(ENABLES::MINI_UART::SET);
    aux.cntl.set(0);
    aux.ier.set(0);
    aux.lcr.write(LCR::DATA_SIZE::EightBit);
    aux.mcr.set(0);
    aux.iir.write(IIR::CLEAR_FIFOS::Both);
    aux.baud.set(baud_register);
    aux.cntl.write(CNTL::RX_ENABLE::SET + CNTL::TX_ENABLE::SET);
    let _ = aux.enables.get();
}
