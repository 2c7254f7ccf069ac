//! The virtual PL011's state machine: registers, the receive FIFO, the interrupt status and the
//! bytes transmitted but not yet handed to the console.
//!
//! The transmitter is infinitely fast: a byte written to UARTDR leaves the transmit FIFO at
//! once, so the guest always finds the FIFO empty (UARTFR.TXFE set, TXFF and BUSY clear) and
//! every write makes the FIFO pass through its trigger level, setting TXRIS (TRM 2.8 "Interrupts", UARTTXINTR:
//! the transmit interrupt is based on a transition through a level; it is not set before data
//! is written). Transmitted bytes are *staged* here and handed to the console in batches
//! ([`VirtualPl011::output_due`]): when the stage is full, at a newline, at any access other than
//! a data write or flag read, and at the third flag read in a row (a guest polling for input
//! after a prompt). That way a `FR, DR, FR, DR, ...` stream (Linux's console) or a
//! `FR, DR, FR, FR, DR, ...` one (`earlycon`: TXFF before, BUSY after each byte) goes out a line
//! at a time.
//!
//! Receive: bytes from the console enter a 32-entry FIFO (1 entry with UARTLCR_H.FEN clear).
//! RXRIS follows the FIFO level against RXIFLSEL; the receive timeout, which on hardware fires
//! after 32 bit periods without a new character, fires at the end of each batch of input that
//! leaves the FIFO non-empty (there is no line time here). Error and modem status is always
//! zero: no break, framing, parity or overrun (the console refuses input the FIFO has no room
//! for instead of overrunning it), CTS/DSR/DCD/RI low.
//!
//! IBRD, FBRD, LCR_H, CR, ILPR and DMACR are accepted and read back; the baud rate, word
//! format, loopback, IrDA and DMA have no effect, and neither UARTCR.UARTEN nor TXE/RXE gates
//! data (firmware-less guests and `earlycon` write without enabling the UART).
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use super::fifo::{Fifo, DEPTH};
use super::levels::receive_level;
use super::registers::{self as reg, fr, int, lcr_h};

/// Bytes staged for the console before they must be handed over.
pub const STAGE: usize = 64;

/// The kind of an access (for the output batching rule).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Last {
    #[default]
    Other,
    DataWrite,
    FlagRead,
}

/// Flag reads in a row that mean the guest is polling (the third hands staged output over).
pub const POLLING_FLAG_READS: u32 = 3;

/// One virtual PL011.
#[derive(Clone, Debug)]
pub struct VirtualPl011 {
    ilpr: u32,
    ibrd: u32,
    fbrd: u32,
    lcr_h: u32,
    cr: u32,
    ifls: u32,
    imsc: u32,
    ris: u32,
    dmacr: u32,
    rx: Fifo,
    staged: heapless::Vec<u8, STAGE>,
    due: bool,
    /// Flag reads since the last other access.
    flag_reads: u32,
    /// Accesses to offsets the model does not implement (RAZ/WI).
    pub ignored_accesses: u32,
}

impl Default for VirtualPl011 {
    fn default() -> Self {
        VirtualPl011::new()
    }
}

impl VirtualPl011 {
    /// A UART in its reset state (TRM 3.3: UARTCR = 0x300, UARTIFLS = 0x12, everything else 0).
    pub const fn new() -> Self {
        VirtualPl011 {
            ilpr: 0,
            ibrd: 0,
            fbrd: 0,
            lcr_h: 0,
            cr: reg::CR_RESET,
            ifls: reg::IFLS_RESET,
            imsc: 0,
            ris: 0,
            dmacr: 0,
            rx: Fifo::new(),
            staged: heapless::Vec::new(),
            due: false,
            flag_reads: 0,
            ignored_accesses: 0,
        }
    }

    /// The receive FIFO's depth now: 32 with FIFOs enabled, 1 without (TRM 3.3.7, FEN).
    fn depth(&self) -> usize {
        if self.lcr_h & lcr_h::FEN != 0 {
            DEPTH
        } else {
            1
        }
    }

    /// Updates RXRIS and RTRIS after the receive FIFO's level changed, by reception
    /// (`received`) or a read (TRM 2.8 "Interrupts", UARTRXINTR: with FIFOs, asserted when reception
    /// makes the level reach the trigger level, cleared when reads take it below; without,
    /// asserted when a byte fills the holding register, cleared by reading it).
    fn update_receive(&mut self, received: bool) {
        let level = if self.lcr_h & lcr_h::FEN != 0 {
            receive_level(self.ifls)
        } else {
            1
        };
        if self.rx.len() >= level {
            if received {
                self.ris |= int::RX;
            }
        } else {
            self.ris &= !int::RX;
        }
        if self.rx.is_empty() {
            // "cleared when the FIFO becomes empty through reading all the data" (UARTRTINTR).
            self.ris &= !int::RT;
        }
    }

    /// The UART's combined interrupt output, UARTINTR: any bit of UARTMIS (TRM 2.8).
    pub fn line(&self) -> bool {
        self.ris & self.imsc != 0
    }

    /// The value of UARTFR (TRM 3.3.3).
    pub fn flags(&self) -> u32 {
        let mut flags = fr::TXFE;
        if self.rx.is_empty() {
            flags |= fr::RXFE;
        }
        if self.rx.len() >= self.depth() {
            flags |= fr::RXFF;
        }
        flags
    }

    /// Whether a data write could be answered without the model: it would only stage a byte,
    /// because TXRIS is already set or the transmit interrupt is masked (no edge of the line).
    pub fn data_write_is_plain(&self) -> bool {
        self.ris & int::TX != 0 || self.imsc & int::TX == 0
    }

    /// Bytes the receive FIFO has room for.
    pub fn receive_space(&self) -> usize {
        self.depth().saturating_sub(self.rx.len())
    }

    /// Bytes from the console's input: as many as the receive FIFO takes (the rest is the
    /// caller's to keep or drop). Returns how many were taken.
    pub fn receive(&mut self, bytes: &[u8]) -> usize {
        let depth = self.depth();
        let taken = bytes
            .iter()
            .take_while(|&&byte| self.rx.push(byte, depth))
            .count();
        if taken > 0 {
            self.update_receive(true);
            // The batch ended: no more data follows within the timeout (see the module doc).
            self.ris |= int::RT;
        }
        taken
    }

    /// Stages `byte`, transmitted: the FIFO empties through its trigger level at once.
    fn transmit(&mut self, byte: u8) {
        if self.staged.push(byte).is_err() {
            self.due = true;
        }
        self.ris |= int::TX;
        if byte == b'\n' || self.staged.is_full() {
            self.due = true;
        }
    }

    /// Data writes the assembly fast path answered since this model last ran (their bytes
    /// went to the console already, after this model's staged ones): the FIFO emptied through
    /// its trigger level (TXRIS), and the last access was a data write.
    pub fn fast_transmitted(&mut self) {
        self.ris |= int::TX;
        self.flag_reads = 0;
    }

    /// Flag reads in a row up to now (the fast path keeps the batching rule and tells the
    /// model the flag reads it answered with [`Self::set_flag_reads`]).
    pub fn flag_reads(&self) -> u32 {
        self.flag_reads
    }

    /// Sets the count of flag reads in a row (the fast path answered some).
    pub fn set_flag_reads(&mut self, reads: u32) {
        self.flag_reads = reads;
    }

    /// Whether transmitted bytes are staged here.
    pub fn holds_output(&self) -> bool {
        !self.staged.is_empty()
    }

    /// Makes the staged bytes due now (the console flushes a quiet partition's output).
    pub fn hand_over(&mut self) {
        self.due = true;
    }

    /// Whether the staged bytes must be handed to the console now (module doc).
    pub fn output_due(&self) -> bool {
        self.due && !self.staged.is_empty()
    }

    /// The staged bytes (to hand to the console), emptying the stage.
    pub fn take_output(&mut self) -> heapless::Vec<u8, STAGE> {
        self.due = false;
        core::mem::take(&mut self.staged)
    }

    /// Notes an access of kind `now` for the batching rule.
    fn note(&mut self, now: Last) {
        match now {
            Last::FlagRead => {
                self.flag_reads = self.flag_reads.saturating_add(1);
                if self.flag_reads >= POLLING_FLAG_READS {
                    self.due = true;
                }
            }
            Last::DataWrite => self.flag_reads = 0,
            Last::Other => {
                self.flag_reads = 0;
                self.due = true;
            }
        }
    }

    /// A read of the 32-bit register at `offset` (word aligned).
    pub fn read(&mut self, offset: u64) -> u32 {
        self.note(if offset == reg::FR {
            Last::FlagRead
        } else {
            Last::Other
        });
        match offset {
            reg::DR => {
                // TRM 3.3.1: the received byte, error bits [11:8] zero. Empty: 0.
                let byte = self.rx.pop().map_or(0, u32::from);
                self.update_receive(false);
                byte
            }
            reg::RSR => 0,
            reg::FR => self.flags(),
            reg::ILPR => self.ilpr,
            reg::IBRD => self.ibrd,
            reg::FBRD => self.fbrd,
            reg::LCR_H => self.lcr_h,
            reg::CR => self.cr,
            reg::IFLS => self.ifls,
            reg::IMSC => self.imsc,
            reg::RIS => self.ris,
            reg::MIS => self.ris & self.imsc,
            reg::DMACR => self.dmacr,
            id if (reg::ID_START..reg::WINDOW_SIZE).contains(&id) => id
                .checked_sub(reg::ID_START)
                .and_then(|index| reg::ID_REGISTERS.get((index / 4) as usize))
                .copied()
                .unwrap_or(0),
            // UARTICR is write-only; reserved and test offsets: RAZ.
            _ => {
                self.ignored_accesses = self.ignored_accesses.saturating_add(1);
                0
            }
        }
    }

    /// A write of `value` to the 32-bit register at `offset` (word aligned).
    pub fn write(&mut self, offset: u64, value: u32) {
        self.note(if offset == reg::DR {
            Last::DataWrite
        } else {
            Last::Other
        });
        match offset {
            reg::DR => self.transmit(value as u8),
            // UARTECR: a write clears the (always clear) error bits.
            reg::RSR => {}
            reg::ILPR => self.ilpr = value & reg::ILPR_MASK,
            reg::IBRD => self.ibrd = value & reg::IBRD_MASK,
            reg::FBRD => self.fbrd = value & reg::FBRD_MASK,
            reg::LCR_H => {
                self.lcr_h = value & lcr_h::MASK;
                self.update_receive(false);
            }
            reg::CR => self.cr = value & reg::CR_MASK,
            reg::IFLS => {
                self.ifls = value & reg::IFLS_MASK;
                self.update_receive(false);
            }
            reg::IMSC => self.imsc = value & int::MASK,
            reg::ICR => self.ris &= !(value & int::MASK),
            reg::DMACR => self.dmacr = value & reg::DMACR_MASK,
            // UARTFR, UARTRIS, UARTMIS and the IDs are read-only; reserved offsets: WI.
            _ => self.ignored_accesses = self.ignored_accesses.saturating_add(1),
        }
    }
}
