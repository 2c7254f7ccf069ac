//! The PL011's register map and bit fields (Arm PrimeCell UART PL011 TRM r1p5, DDI 0183G,
//! section 3.2 "Summary of registers", table 3-1, and the register descriptions of 3.3).

/// 0x000: Data Register, UARTDR (3.3.1).
pub const DR: u64 = 0x000;
/// 0x004: Receive Status Register / Error Clear Register, UARTRSR/UARTECR (3.3.2).
pub const RSR: u64 = 0x004;
/// 0x018: Flag Register, UARTFR (3.3.3).
pub const FR: u64 = 0x018;
/// 0x020: IrDA Low-Power Counter Register, UARTILPR (3.3.4).
pub const ILPR: u64 = 0x020;
/// 0x024: Integer Baud Rate Register, UARTIBRD (3.3.5).
pub const IBRD: u64 = 0x024;
/// 0x028: Fractional Baud Rate Register, UARTFBRD (3.3.6).
pub const FBRD: u64 = 0x028;
/// 0x02c: Line Control Register, UARTLCR_H (3.3.7).
pub const LCR_H: u64 = 0x02c;
/// 0x030: Control Register, UARTCR (3.3.8).
pub const CR: u64 = 0x030;
/// 0x034: Interrupt FIFO Level Select Register, UARTIFLS (3.3.9).
pub const IFLS: u64 = 0x034;
/// 0x038: Interrupt Mask Set/Clear Register, UARTIMSC (3.3.10).
pub const IMSC: u64 = 0x038;
/// 0x03c: Raw Interrupt Status Register, UARTRIS (3.3.11).
pub const RIS: u64 = 0x03c;
/// 0x040: Masked Interrupt Status Register, UARTMIS (3.3.12).
pub const MIS: u64 = 0x040;
/// 0x044: Interrupt Clear Register, UARTICR (3.3.13).
pub const ICR: u64 = 0x044;
/// 0x048: DMA Control Register, UARTDMACR (3.3.14).
pub const DMACR: u64 = 0x048;
/// 0xfe0..0xffc: UARTPeriphID0-3 and UARTPCellID0-3 (3.3.15, 3.3.16).
pub const ID_START: u64 = 0xfe0;

/// The size of the register window (4 KiB, table 3-1).
pub const WINDOW_SIZE: u64 = 0x1000;

/// UARTPeriphID0..3 and UARTPCellID0..3 of a PL011 r1p5 (3.3.15-3.3.16): part number 0x011,
/// designer 0x41 (Arm), revision 3; PCellID 0xb105f00d.
pub const ID_REGISTERS: [u32; 8] = [0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1];

/// UARTFR bits (3.3.3). CTS, DSR, DCD and RI (the modem inputs) read as 0.
pub mod fr {
    /// UART busy transmitting.
    pub const BUSY: u32 = 1 << 3;
    /// Receive FIFO empty.
    pub const RXFE: u32 = 1 << 4;
    /// Transmit FIFO full.
    pub const TXFF: u32 = 1 << 5;
    /// Receive FIFO full.
    pub const RXFF: u32 = 1 << 6;
    /// Transmit FIFO empty.
    pub const TXFE: u32 = 1 << 7;
}

/// UARTLCR_H bits (3.3.7).
pub mod lcr_h {
    /// Enable FIFOs: 32-entry FIFOs when set, 1-entry holding registers when clear.
    pub const FEN: u32 = 1 << 4;
    /// The implemented bits [7:0].
    pub const MASK: u32 = 0xff;
}

/// UARTCR: the implemented bits (3.3.8): CTSEn..UARTEN, without the reserved [6:3].
pub const CR_MASK: u32 = 0xff87;
/// UARTCR reset value: TXE and RXE set (3.3.8).
pub const CR_RESET: u32 = 0x0300;
/// UARTIFLS reset value: both trigger levels at half full (3.3.9).
pub const IFLS_RESET: u32 = 0x12;
/// UARTIFLS implemented bits: RXIFLSEL [5:3], TXIFLSEL [2:0] (3.3.9).
pub const IFLS_MASK: u32 = 0x3f;
/// UARTIBRD: BAUD DIVINT [15:0] (3.3.5).
pub const IBRD_MASK: u32 = 0xffff;
/// UARTFBRD: BAUD DIVFRAC [5:0] (3.3.6).
pub const FBRD_MASK: u32 = 0x3f;
/// UARTILPR: ILPDVSR [7:0] (3.3.4).
pub const ILPR_MASK: u32 = 0xff;
/// UARTDMACR: DMAONERR, TXDMAE, RXDMAE [2:0] (3.3.14).
pub const DMACR_MASK: u32 = 0x7;

/// Interrupt bits, the same in UARTIMSC, UARTRIS, UARTMIS and UARTICR (3.3.10-3.3.13).
pub mod int {
    /// Receive interrupt (RXIM/RXRIS/RXMIS/RXIC).
    pub const RX: u32 = 1 << 4;
    /// Transmit interrupt (TXIM/TXRIS/TXMIS/TXIC).
    pub const TX: u32 = 1 << 5;
    /// Receive timeout interrupt (RTIM/RTRIS/RTMIS/RTIC).
    pub const RT: u32 = 1 << 6;
    /// All eleven interrupt bits [10:0] (modem, error, RX, TX, timeout).
    pub const MASK: u32 = 0x7ff;
}
