//! `DelayNs` on a free-running counter (the generic timer's virtual counter): a busy wait that
//! is never shorter than asked.
#![forbid(unsafe_code)]

use embedded_hal::delay::DelayNs;

use crate::time::Frequency;

/// A free-running counter.
pub trait Counter {
    /// The current count.
    fn ticks(&self) -> u64;
    /// Counts per second.
    fn frequency(&self) -> Frequency;
}

/// Busy-wait delays on counter `C`.
#[derive(Clone, Copy, Debug)]
pub struct CounterDelay<C> {
    counter: C,
}

impl<C: Counter> CounterDelay<C> {
    /// Delays measured on `counter`.
    pub const fn new(counter: C) -> Self {
        CounterDelay { counter }
    }
}

impl<C: Counter> DelayNs for CounterDelay<C> {
    fn delay_ns(&mut self, ns: u32) {
        let ticks = self.counter.frequency().nanos_ceil(u64::from(ns));
        let start = self.counter.ticks();
        while self.counter.ticks().wrapping_sub(start) < ticks {
            core::hint::spin_loop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::cell::Cell;

    /// A counter that moves `step` ticks per read and remembers the last value read.
    struct SteppingCounter {
        now: Cell<u64>,
        step: u64,
        frequency: u64,
    }

    impl Counter for &SteppingCounter {
        fn ticks(&self) -> u64 {
            self.now.set(self.now.get().wrapping_add(self.step));
            self.now.get()
        }
        fn frequency(&self) -> Frequency {
            Frequency(self.frequency)
        }
    }

    #[test]
    fn a_delay_lasts_at_least_the_time_asked() {
        let counter = SteppingCounter {
            now: Cell::new(0),
            step: 7,
            frequency: 62_500_000,
        };
        let mut delay = CounterDelay::new(&counter);
        delay.delay_us(10);
        // 10 us at 62.5 MHz is 625 ticks: the wait ends on the first read at or past that.
        assert_eq!(counter.now.get(), 7 * (625u64.div_ceil(7) + 1));
        let before = counter.now.get();
        delay.delay_ns(1);
        assert!(counter.now.get() - before >= 1);
    }

    #[test]
    fn a_delay_survives_the_counter_wrapping() {
        let counter = SteppingCounter {
            now: Cell::new(u64::MAX - 10),
            step: 4,
            frequency: 1_000_000_000,
        };
        CounterDelay::new(&counter).delay_ns(20);
        assert!(counter.now.get() < 100, "wrapped and stopped soon after");
    }
}
