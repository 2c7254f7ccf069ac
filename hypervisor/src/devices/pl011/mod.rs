//! The virtual PL011 each partition's console is (Arm PrimeCell UART PL011 TRM r1p5,
//! DDI 0183G): complete enough for Linux's stock `amba-pl011` driver with interrupts and for
//! `earlycon=pl011,...`, and for the shim's and the RTOS's interrupt-driven driver.
//!
//! - [`registers`]: the register map, bit fields and ID values (TRM 3.2, 3.3).
//! - [`fifo`] and [`levels`]: the receive FIFO (32 entries, 1 with FEN clear) and the UARTIFLS
//!   trigger levels.
//! - [`model`]: the pure state machine, [`VirtualPl011`]: data, flags, FIFOs, the RX, TX and
//!   receive-timeout interrupts (UARTIMSC/RIS/MIS/ICR), what is and is not modelled.
//! - [`port`]: a partition's console as the hypervisor holds it (the model behind a lock, its
//!   INTID): every access or batch of input there drives the interrupt line's edges into the
//!   partition's virtual GIC and hands transmitted bytes to [`crate::console::partition_output`].
//!
//! Input reaches a partition through [`console_input`] (from any CPU, e.g. the one that took
//! the physical UART's receive interrupt); [`console_input_space`] says how much it would take.
//! [`console_flush`] hands over output not yet due (a prompt), for the console's quiet time.
#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

pub mod fifo;
pub mod levels;
pub mod model;
pub mod port;
pub mod registers;

#[cfg(test)]
mod tests;

pub use model::VirtualPl011;
pub use port::{console_flush, console_input, console_input_space, ConsolePort};
pub use registers::WINDOW_SIZE;

use crate::devices::{DeviceAccess, DeviceEffects, MmioDevice, MmioFault};

impl MmioDevice for VirtualPl011 {
    /// The PL011's registers are 32-bit words (TRM 3.2); byte and halfword reads return the
    /// addressed lanes of the word (a read of UARTDR's byte 0 pops the FIFO like a word read).
    #[inline(always)]
    fn read(&mut self, access: DeviceAccess) -> Result<u64, MmioFault> {
        let lane = (access.offset & 3).wrapping_mul(8);
        Ok(u64::from(VirtualPl011::read(self, access.offset & !3)) >> lane)
    }

    /// Writes of a word, or of its low byte or halfword (`strb` to UARTDR), reach the register;
    /// a narrow write to any other lane is ignored (the APB has no byte strobes).
    fn write(
        &mut self,
        access: DeviceAccess,
        value: u64,
        _effects: &mut DeviceEffects,
    ) -> Result<(), MmioFault> {
        if access.offset & 3 != 0 {
            self.ignored_accesses = self.ignored_accesses.saturating_add(1);
        } else {
            VirtualPl011::write(self, access.offset, value as u32);
        }
        Ok(())
    }
}
