//! A virtual PL011 UART (Arm PrimeCell UART, DDI 0183) for partitions' consoles.
//!
//! Transmit only for now: bytes the guest writes to UARTDR are handed to the caller, which
//! prefixes each line with the partition's name on the hypervisor console. The identification
//! registers match a real PL011 so Linux's `amba-pl011` driver and earlycon probe it. Offsets the
//! model does not implement read as zero and ignore writes (RAZ/WI), and are counted.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
// Tests may compute freely; unwrap, indexing and panics in tests are allowed by clippy.toml.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use crate::devices::{DeviceAccess, DeviceEffect, DeviceEffects, MmioFault};

/// Register offsets (PL011 TRM, table 3-1).
mod reg {
    /// 0x000: Data Register.
    pub const DR: u64 = 0x000;
    /// 0x018: Flag Register.
    pub const FR: u64 = 0x018;
    /// 0x024: Integer Baud Rate Register.
    pub const IBRD: u64 = 0x024;
    /// 0x028: Fractional Baud Rate Register.
    pub const FBRD: u64 = 0x028;
    /// 0x02c: Line Control Register.
    pub const LCR_H: u64 = 0x02c;
    /// 0x030: Control Register.
    pub const CR: u64 = 0x030;
    /// 0x034: Interrupt FIFO Level Select Register.
    pub const IFLS: u64 = 0x034;
    /// 0x038: Interrupt Mask Set/Clear Register.
    pub const IMSC: u64 = 0x038;
    /// 0xfe0..0xffc: Peripheral and PrimeCell identification registers.
    pub const ID_START: u64 = 0xfe0;
}

/// UARTFR: transmit FIFO empty.
const FR_TXFE: u32 = 1 << 7;
/// UARTFR: receive FIFO empty.
const FR_RXFE: u32 = 1 << 4;
/// UARTPeriphID0..3 and UARTPCellID0..3 of a PL011 r1p5 (TRM, section 3.3.15-3.3.16).
const ID_REGISTERS: [u32; 8] = [0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1];

/// The size of the register window.
pub const WINDOW_SIZE: u64 = 0x1000;

/// What a guest access asks the caller to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UartEffect {
    /// Nothing beyond the register update.
    None,
    /// Print this byte on the partition's console.
    Output(u8),
}

/// The state of one virtual PL011.
#[derive(Clone, Debug, Default)]
pub struct VirtualPl011 {
    ibrd: u32,
    fbrd: u32,
    lcr_h: u32,
    cr: u32,
    ifls: u32,
    imsc: u32,
    /// Accesses to offsets the model does not implement.
    pub ignored_accesses: u32,
}

impl VirtualPl011 {
    /// A UART in its reset state (UARTCR = 0x300: TX and RX enabled).
    pub fn new() -> Self {
        VirtualPl011 {
            cr: 0x300,
            ifls: 0x12,
            ..Default::default()
        }
    }

    /// A read of the 32-bit register at `offset`.
    #[inline(always)]
    pub fn read(&mut self, offset: u64) -> u32 {
        match offset {
            reg::DR => 0,
            reg::FR => FR_TXFE | FR_RXFE,
            reg::IBRD => self.ibrd,
            reg::FBRD => self.fbrd,
            reg::LCR_H => self.lcr_h,
            reg::CR => self.cr,
            reg::IFLS => self.ifls,
            reg::IMSC => self.imsc,
            id if (reg::ID_START..WINDOW_SIZE).contains(&id) && id % 4 == 0 => id
                .checked_sub(reg::ID_START)
                .and_then(|index| ID_REGISTERS.get((index / 4) as usize))
                .copied()
                .unwrap_or(0),
            _ => {
                self.ignored_accesses = self.ignored_accesses.saturating_add(1);
                0
            }
        }
    }

    /// A write of `value` to the register at `offset`.
    pub fn write(&mut self, offset: u64, value: u32) -> UartEffect {
        match offset {
            reg::DR => return UartEffect::Output(value as u8),
            reg::IBRD => self.ibrd = value & 0xffff,
            reg::FBRD => self.fbrd = value & 0x3f,
            reg::LCR_H => self.lcr_h = value & 0xff,
            reg::CR => self.cr = value & 0xff87,
            reg::IFLS => self.ifls = value & 0x3f,
            reg::IMSC => self.imsc = value & 0x7ff,
            _ => self.ignored_accesses = self.ignored_accesses.saturating_add(1),
        }
        UartEffect::None
    }
}

impl crate::devices::MmioDevice for VirtualPl011 {
    /// The PL011's registers are 32-bit words (TRM 3.2); byte and halfword reads return the
    /// addressed lanes of the word.
    #[inline(always)]
    fn read(&mut self, access: DeviceAccess) -> Result<u64, MmioFault> {
        let lane = (access.offset & 3).wrapping_mul(8);
        Ok(u64::from(VirtualPl011::read(self, access.offset & !3)) >> lane)
    }

    fn write(
        &mut self,
        access: DeviceAccess,
        value: u64,
        effects: &mut DeviceEffects,
    ) -> Result<(), MmioFault> {
        let lane = (access.offset & 3).wrapping_mul(8);
        let word = (value << lane) as u32;
        if let UartEffect::Output(byte) = VirtualPl011::write(self, access.offset & !3, word) {
            let _ = effects.push(DeviceEffect::ConsoleByte(byte));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_register_writes_are_output() {
        let mut uart = VirtualPl011::new();
        assert_eq!(
            uart.write(reg::DR, u32::from(b'A')),
            UartEffect::Output(b'A')
        );
        assert_eq!(
            uart.write(reg::DR, 0x142),
            UartEffect::Output(0x42),
            "only the data byte"
        );
    }

    #[test]
    fn flag_register_says_transmitter_empty_and_no_input() {
        let mut uart = VirtualPl011::new();
        assert_eq!(uart.read(reg::FR), FR_TXFE | FR_RXFE);
    }

    #[test]
    fn identification_registers_match_a_pl011() {
        // PL011 TRM 3.3.15/3.3.16: PeriphID = 0x00_34_10_11 (part 0x011, Arm), PCellID = 0xb105f00d.
        let mut uart = VirtualPl011::new();
        let ids: Vec<u32> = (0..8).map(|i| uart.read(0xfe0 + i * 4)).collect();
        assert_eq!(ids, ID_REGISTERS);
    }

    #[test]
    fn control_registers_read_back_and_unknown_offsets_are_raz_wi() {
        let mut uart = VirtualPl011::new();
        uart.write(reg::IBRD, 26);
        uart.write(reg::LCR_H, 0x70);
        assert_eq!((uart.read(reg::IBRD), uart.read(reg::LCR_H)), (26, 0x70));
        assert_eq!(uart.write(0x800, 1), UartEffect::None);
        assert_eq!(uart.read(0x800), 0);
        assert_eq!(uart.ignored_accesses, 2);
    }
}
