//! The FIFO trigger levels of UARTIFLS (PL011 TRM 3.3.9) for the 32-entry FIFOs.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use super::fifo::DEPTH;

/// The FIFO level, in entries, selected by a 3-bit IFLS field (TRM 3.3.9: b000 = 1/8 full,
/// b001 = 1/4, b010 = 1/2, b011 = 3/4, b100 = 7/8). The reserved values b101..b111 act as
/// 1/2, the reset value.
pub fn trigger_level(select: u32) -> usize {
    match select & 7 {
        0 => DEPTH / 8,
        1 => DEPTH / 4,
        3 => DEPTH * 3 / 4,
        4 => DEPTH * 7 / 8,
        _ => DEPTH / 2,
    }
}

/// The receive trigger level of `ifls` (RXIFLSEL, bits [5:3]).
pub fn receive_level(ifls: u32) -> usize {
    trigger_level(ifls >> 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_the_eighths_of_section_3_3_9() {
        // TRM 3.3.9, UARTIFLS: RXIFLSEL and TXIFLSEL b000..b100 = 1/8, 1/4, 1/2, 3/4, 7/8 full.
        let levels: Vec<usize> = (0..5).map(trigger_level).collect();
        assert_eq!(levels, [4, 8, 16, 24, 28]);
        assert_eq!(trigger_level(7), 16, "reserved: half full");
        assert_eq!(receive_level(0x12), 16, "reset value: half full");
        assert_eq!(receive_level(0b100_000), 28);
    }
}
