//! The kernel's machine on aarch64 EL1: the virtual counter, the virtual timer, and jobs run
//! with IRQs unmasked.

use super::cpu;
use crate::port::Port;
use crate::time::{Frequency, Instant};

/// The CPU this runs on.
#[derive(Clone, Copy, Debug, Default)]
pub struct Aarch64Port;

impl Port for Aarch64Port {
    fn now(&self) -> Instant {
        cpu::now()
    }

    fn frequency(&self) -> Frequency {
        cpu::frequency()
    }

    fn set_alarm(&self, at: Option<Instant>) {
        cpu::set_virtual_timer(at);
    }

    fn preemptible(&self, job: &mut dyn FnMut()) {
        let was_masked = cpu::irqs_masked();
        cpu::unmask_irqs();
        job();
        if was_masked {
            cpu::mask_irqs();
        }
    }
}

/// The generic timer's virtual counter, for [`crate::drivers::delay::CounterDelay`] and the
/// simulated input.
#[derive(Clone, Copy, Debug, Default)]
pub struct GenericTimer;

impl crate::drivers::delay::Counter for GenericTimer {
    fn ticks(&self) -> u64 {
        cpu::now().0
    }

    fn frequency(&self) -> Frequency {
        cpu::frequency()
    }
}
