//! What the kernel needs from the machine: the time, one alarm, and a way to run a job with
//! interrupts enabled. The aarch64 port is [`crate::arch::Aarch64Port`]; tests use a fake.
#![forbid(unsafe_code)]

use crate::time::{Frequency, Instant};

/// The machine under the kernel.
pub trait Port {
    /// The current time (the virtual counter).
    fn now(&self) -> Instant;
    /// The counter frequency.
    fn frequency(&self) -> Frequency;
    /// Makes the timer interrupt fire at `at` (at once if `at` has passed), or never.
    fn set_alarm(&self, at: Option<Instant>);
    /// Runs `job` with interrupts enabled and returns with the interrupt mask as it was (jobs
    /// run preemptible, even when dispatched from an interrupt handler).
    fn preemptible(&self, job: &mut dyn FnMut());
}
