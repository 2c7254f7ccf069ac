//! Pins for boards without a GPIO block (QEMU `virt`): an output that remembers its level and
//! counts its edges, and an input that reads a square wave derived from a counter (a stand-in
//! sensor), so the same task code runs everywhere.
#![forbid(unsafe_code)]

use embedded_hal::digital::{ErrorType, InputPin, OutputPin, StatefulOutputPin};

use super::delay::Counter;

/// An output with no wire behind it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimulatedOutput {
    high: bool,
    /// Level changes so far.
    pub edges: u64,
}

impl SimulatedOutput {
    /// A low output.
    pub const fn new() -> Self {
        SimulatedOutput {
            high: false,
            edges: 0,
        }
    }

    fn set(&mut self, high: bool) {
        if high != self.high {
            self.edges = self.edges.saturating_add(1);
        }
        self.high = high;
    }
}

impl ErrorType for SimulatedOutput {
    type Error = core::convert::Infallible;
}

impl OutputPin for SimulatedOutput {
    fn set_low(&mut self) -> Result<(), Self::Error> {
        self.set(false);
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Self::Error> {
        self.set(true);
        Ok(())
    }
}

impl StatefulOutputPin for SimulatedOutput {
    fn is_set_high(&mut self) -> Result<bool, Self::Error> {
        Ok(self.high)
    }

    fn is_set_low(&mut self) -> Result<bool, Self::Error> {
        Ok(!self.high)
    }
}

/// An input that is high during the second half of every `period` ticks of `counter`.
#[derive(Clone, Copy, Debug)]
pub struct SquareWaveInput<C> {
    counter: C,
    period: u64,
}

impl<C: Counter> SquareWaveInput<C> {
    /// A square wave of `period` ticks (at least 2).
    pub fn new(counter: C, period: u64) -> Self {
        SquareWaveInput {
            counter,
            period: period.max(2),
        }
    }
}

impl<C> ErrorType for SquareWaveInput<C> {
    type Error = core::convert::Infallible;
}

impl<C: Counter> InputPin for SquareWaveInput<C> {
    fn is_high(&mut self) -> Result<bool, Self::Error> {
        Ok(self.counter.ticks() % self.period >= self.period / 2)
    }

    fn is_low(&mut self) -> Result<bool, Self::Error> {
        self.is_high().map(|high| !high)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Frequency;
    use core::cell::Cell;

    struct Fixed<'a>(&'a Cell<u64>);

    impl Counter for Fixed<'_> {
        fn ticks(&self) -> u64 {
            self.0.get()
        }
        fn frequency(&self) -> Frequency {
            Frequency(1)
        }
    }

    #[test]
    fn the_output_counts_only_real_edges() {
        let mut pin = SimulatedOutput::new();
        pin.set_high().unwrap();
        pin.set_high().unwrap();
        pin.set_low().unwrap();
        assert_eq!(pin.edges, 2);
        assert!(pin.is_set_low().unwrap());
    }

    #[test]
    fn the_input_follows_the_square_wave() {
        let now = Cell::new(0);
        let mut pin = SquareWaveInput::new(Fixed(&now), 100);
        assert!(pin.is_low().unwrap());
        now.set(50);
        assert!(pin.is_high().unwrap());
        now.set(100);
        assert!(pin.is_low().unwrap());
    }
}
