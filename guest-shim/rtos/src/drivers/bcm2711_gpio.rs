//! The Raspberry Pi 4's GPIO block (BCM2711 ARM Peripherals, chapter 5 "General Purpose I/O"):
//! pins as `embedded-hal` `OutputPin`/`StatefulOutputPin` and `InputPin`.
//!
//! The block's base comes from the device tree (`brcm,bcm2711-gpio`). Function select and pull
//! registers hold several pins each, so [`Gpio`] owns the block and hands out one handle per pin;
//! the handles write the set/clear registers (which touch only their own pin) and take a short
//! critical section for the shared read-modify-write registers.
//!
//! An input can raise its bank's interrupt on its edges ([`Input::listen`]): the block sets the
//! pin's bit in GPEDS on each edge and holds its bank's (level) interrupt line, one of the
//! node's `interrupts` (bank 0, GPIO0..27, is the first), until the bit is written back
//! ([`Gpio::take_events`], from the interrupt handler).
#![forbid(unsafe_code)]

use core::cell::{Cell, RefCell};

use critical_section::Mutex;
use embedded_hal::digital::{ErrorType, InputPin, OutputPin, StatefulOutputPin};
use safe_mmio::fields::{ReadPure, ReadPureWrite, ReadWrite, WriteOnly};
use safe_mmio::{field, UniqueMmioPointer};

/// The number of GPIO lines of the BCM2711 (GPIO0..GPIO57).
pub const PINS: u8 = 58;

/// The GPIO register block (BCM2711 ARM Peripherals, 5.2 "Register View").
#[repr(C)]
pub struct Registers {
    /// 0x00..0x14: GPFSEL0..5, function select, 3 bits per pin, 10 pins per register.
    pub gpfsel: [ReadPureWrite<u32>; 6],
    _reserved_18: u32,
    /// 0x1c, 0x20: GPSET0..1, write 1 to drive a pin high.
    pub gpset: [WriteOnly<u32>; 2],
    _reserved_24: u32,
    /// 0x28, 0x2c: GPCLR0..1, write 1 to drive a pin low.
    pub gpclr: [WriteOnly<u32>; 2],
    _reserved_30: u32,
    /// 0x34, 0x38: GPLEV0..1, the level of each pin.
    pub gplev: [ReadPure<u32>; 2],
    _reserved_3c: u32,
    /// 0x40, 0x44: GPEDS0..1, event detect status (write 1 to clear).
    pub gpeds: [ReadWrite<u32>; 2],
    _reserved_48: u32,
    /// 0x4c, 0x50: GPREN0..1, rising edge detect enable, 1 bit per pin.
    pub gpren: [ReadPureWrite<u32>; 2],
    _reserved_54: u32,
    /// 0x58, 0x5c: GPFEN0..1, falling edge detect enable, 1 bit per pin.
    pub gpfen: [ReadPureWrite<u32>; 2],
    _reserved_60: [u32; 33],
    /// 0xe4..0xf0: GPIO_PUP_PDN_CNTRL_REG0..3, pull-up/down, 2 bits per pin, 16 pins per
    /// register.
    pub pup_pdn: [ReadPureWrite<u32>; 4],
}

/// GPFSELn function codes (3 bits).
const FSEL_INPUT: u32 = 0b000;
const FSEL_OUTPUT: u32 = 0b001;
const FSEL_MASK: u32 = 0b111;
/// GPIO_PUP_PDN_CNTRL resistor codes (2 bits).
const PULL_MASK: u32 = 0b11;

/// An input's resistor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pull {
    /// No resistor (0b00).
    None = 0b00,
    /// Pull up (0b01).
    Up = 0b01,
    /// Pull down (0b10).
    Down = 0b10,
}

/// Which edges of an input set its event bit (and raise its bank's interrupt).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edges {
    /// Low to high (GPREN).
    Rising,
    /// High to low (GPFEN).
    Falling,
    /// Both (GPREN and GPFEN).
    Both,
}

/// Why a pin cannot be had.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GpioError {
    /// The block has not been attached.
    NoBlock,
    /// There is no such pin.
    NoSuchPin(u8),
    /// The pin was already handed out.
    PinTaken(u8),
}

impl embedded_hal::digital::Error for GpioError {
    fn kind(&self) -> embedded_hal::digital::ErrorKind {
        embedded_hal::digital::ErrorKind::Other
    }
}

/// The GPIO block and which pins have been handed out.
pub struct Gpio<'a> {
    regs: Mutex<RefCell<Option<UniqueMmioPointer<'a, Registers>>>>,
    taken: Mutex<Cell<u64>>,
}

impl Default for Gpio<'_> {
    fn default() -> Self {
        Gpio::new()
    }
}

impl<'a> Gpio<'a> {
    /// A driver with no block yet (so it can be a `static`).
    pub const fn new() -> Self {
        Gpio {
            regs: Mutex::new(RefCell::new(None)),
            taken: Mutex::new(Cell::new(0)),
        }
    }

    /// Gives the driver its register block.
    pub fn attach(&self, regs: UniqueMmioPointer<'a, Registers>) {
        critical_section::with(|cs| *self.regs.borrow_ref_mut(cs) = Some(regs));
    }

    fn claim(&self, pin: u8) -> Result<(), GpioError> {
        if pin >= PINS {
            return Err(GpioError::NoSuchPin(pin));
        }
        critical_section::with(|cs| {
            if self.regs.borrow_ref(cs).is_none() {
                return Err(GpioError::NoBlock);
            }
            let taken = self.taken.borrow(cs);
            if taken.get() & (1 << pin) != 0 {
                return Err(GpioError::PinTaken(pin));
            }
            taken.set(taken.get() | 1 << pin);
            Ok(())
        })
    }

    fn with_regs<R>(
        &self,
        f: impl FnOnce(&mut UniqueMmioPointer<'a, Registers>) -> R,
    ) -> Option<R> {
        critical_section::with(|cs| self.regs.borrow_ref_mut(cs).as_mut().map(f))
    }

    fn set_function(&self, pin: u8, function: u32) {
        let (index, shift) = (usize::from(pin / 10), u32::from(pin % 10) * 3);
        self.with_regs(|regs| {
            if let Some(mut fsel) = field!(*regs, gpfsel).get(index) {
                fsel.modify(|v| v & !(FSEL_MASK << shift) | function << shift);
            }
        });
    }

    /// Makes `pin` an output, driven low first, and hands it out.
    pub fn output(&self, pin: u8) -> Result<Output<'_, 'a>, GpioError> {
        self.claim(pin)?;
        let mut output = Output { gpio: self, pin };
        output.write(false);
        self.set_function(pin, FSEL_OUTPUT);
        Ok(output)
    }

    /// Makes `pin` an input with resistor `pull` and hands it out.
    pub fn input(&self, pin: u8, pull: Pull) -> Result<Input<'_, 'a>, GpioError> {
        self.claim(pin)?;
        self.set_function(pin, FSEL_INPUT);
        let (index, shift) = (usize::from(pin / 16), u32::from(pin % 16) * 2);
        self.with_regs(|regs| {
            if let Some(mut reg) = field!(*regs, pup_pdn).get(index) {
                reg.modify(|v| v & !(PULL_MASK << shift) | (pull as u32) << shift);
            }
        });
        Ok(Input { gpio: self, pin })
    }

    /// Enables edge detection on `pin` for `edges` (GPREN/GPFEN), after clearing an event it
    /// may already hold, so the pin's bank interrupt fires on its next such edge.
    fn listen(&self, pin: u8, edges: Edges) {
        let (index, bit) = (usize::from(pin / 32), 1u32 << (pin % 32));
        self.with_regs(|regs| {
            if let Some(mut eds) = field!(*regs, gpeds).get(index) {
                eds.write(bit);
            }
            let set = |on: bool| move |v: u32| if on { v | bit } else { v & !bit };
            if let Some(mut ren) = field!(*regs, gpren).get(index) {
                ren.modify(set(matches!(edges, Edges::Rising | Edges::Both)));
            }
            if let Some(mut fen) = field!(*regs, gpfen).get(index) {
                fen.modify(set(matches!(edges, Edges::Falling | Edges::Both)));
            }
        });
    }

    /// Reads the pending edge events of the 32 pins of event register `index` (0: GPIO0..31,
    /// 1: GPIO32..57) that `mask` selects and clears them (GPEDS is write-1-to-clear), so the
    /// bank interrupt they hold drops: the interrupt handler's acknowledgement at the device.
    pub fn take_events(&self, index: usize, mask: u32) -> u32 {
        self.with_regs(|regs| {
            let Some(mut eds) = field!(*regs, gpeds).take(index) else {
                return 0;
            };
            let events = eds.read() & mask;
            if events != 0 {
                eds.write(events);
            }
            events
        })
        .unwrap_or(0)
    }

    /// The levels of the 32 pins of level register `index` (GPLEV0: GPIO0..31, GPLEV1:
    /// GPIO32..57); 0 without a block.
    pub fn levels(&self, index: usize) -> u32 {
        self.with_regs(|regs| field!(*regs, gplev).get(index).map_or(0, |lev| lev.read()))
            .unwrap_or(0)
    }

    fn level(&self, pin: u8) -> bool {
        let (index, bit) = (usize::from(pin / 32), 1u32 << (pin % 32));
        self.with_regs(|regs| {
            field!(*regs, gplev)
                .get(index)
                .is_some_and(|lev| lev.read() & bit != 0)
        })
        .unwrap_or(false)
    }

    fn write(&self, pin: u8, high: bool) {
        let (index, bit) = (usize::from(pin / 32), 1u32 << (pin % 32));
        self.with_regs(|regs| {
            let register = if high {
                field!(*regs, gpset).take(index)
            } else {
                field!(*regs, gpclr).take(index)
            };
            if let Some(mut register) = register {
                register.write(bit);
            }
        });
    }
}

/// A pin configured as an output.
pub struct Output<'g, 'a> {
    gpio: &'g Gpio<'a>,
    pin: u8,
}

/// A pin configured as an input.
pub struct Input<'g, 'a> {
    gpio: &'g Gpio<'a>,
    pin: u8,
}

impl Output<'_, '_> {
    fn write(&mut self, high: bool) {
        self.gpio.write(self.pin, high);
    }
}

impl Input<'_, '_> {
    /// Lets this pin's `edges` raise its bank's interrupt (see the module documentation).
    pub fn listen(&mut self, edges: Edges) {
        self.gpio.listen(self.pin, edges);
    }

    /// This pin's number (its bit in event register `pin / 32` is `pin % 32`).
    pub fn pin(&self) -> u8 {
        self.pin
    }
}

impl ErrorType for Output<'_, '_> {
    type Error = core::convert::Infallible;
}

impl ErrorType for Input<'_, '_> {
    type Error = core::convert::Infallible;
}

impl OutputPin for Output<'_, '_> {
    fn set_low(&mut self) -> Result<(), Self::Error> {
        self.write(false);
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Self::Error> {
        self.write(true);
        Ok(())
    }
}

impl StatefulOutputPin for Output<'_, '_> {
    /// GPLEV reads an output's driven level back.
    fn is_set_high(&mut self) -> Result<bool, Self::Error> {
        Ok(self.gpio.level(self.pin))
    }

    fn is_set_low(&mut self) -> Result<bool, Self::Error> {
        Ok(!self.gpio.level(self.pin))
    }
}

impl InputPin for Input<'_, '_> {
    fn is_high(&mut self) -> Result<bool, Self::Error> {
        Ok(self.gpio.level(self.pin))
    }

    fn is_low(&mut self) -> Result<bool, Self::Error> {
        Ok(!self.gpio.level(self.pin))
    }
}

#[cfg(test)]
mod tests;
