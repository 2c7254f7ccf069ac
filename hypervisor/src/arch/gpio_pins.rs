//! Switching GPIO14/15 of the BCM2711 GPIO block to the console UART (BCM2711 ARM Peripherals,
//! 5.2: GPFSEL1 at 0x04, GPIO_PUP_PDN_CNTRL_REG0 at 0xe4). The values are computed in
//! [`crate::console_spec`]; this only reads and writes the two registers, once, at boot.

use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_structs;
use tock_registers::registers::ReadWrite;

use crate::console_spec;

register_structs! {
    /// The GPIO registers the console's pins need.
    Registers {
        (0x00 => _reserved0),
        /// GPFSEL1: the function of GPIO10-19.
        (0x04 => gpfsel1: ReadWrite<u32>),
        (0x08 => _reserved1),
        /// GPIO_PUP_PDN_CNTRL_REG0: the pulls of GPIO0-15.
        (0xe4 => pulls0: ReadWrite<u32>),
        (0xe8 => @END),
    }
}

/// Gives GPIO14/15 of the GPIO block at `base` to the console UART of `kind` (TXD on 14, RXD on
/// 15 with a pull-up); the other pins keep their function and pull.
///
/// # Safety
/// `base` must be the BCM2711 GPIO block (as the platform facts name it), reachable as device
/// memory (the MMU off, or mapped), and no partition may run yet.
pub unsafe fn give_pins_to_console(base: u64, kind: console_spec::Kind) {
    // SAFETY: guaranteed by the caller; the cells only do volatile accesses.
    let gpio = unsafe { &*(base as *const Registers) };
    gpio.gpfsel1.set(console_spec::gpfsel1_with_uart(
        gpio.gpfsel1.get(),
        console_spec::pin_function(kind),
    ));
    gpio.pulls0
        .set(console_spec::pulls_with_uart(gpio.pulls0.get()));
}
