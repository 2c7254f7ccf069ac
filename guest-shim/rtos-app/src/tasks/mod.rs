//! The partition's task set, generic over the `embedded-hal`/`embedded-io` traits so each task
//! runs on the host against mocks:
//!
//! | task | activation | priority | does |
//! |---|---|---|---|
//! | `control` | 1 kHz | 4 | reads the sensor pin, steps a PI controller, queues a sample |
//! | `reporter` | event | 3 | prints a summary line (embedded-io) and logs it (defmt) |
//! | `filter` | 100 Hz | 2 | drains the samples, toggles the LED, sends a summary |
//! | `supervisor` | 10 Hz | 1 | waits for a sensor to settle (`DelayNs`), logs health |
//! | `watchdog` | 10 Hz | 0 (lowest) | refreshes the SBSA generic watchdog, if there is one |

pub mod control;
pub mod filter;
pub mod reporter;
pub mod supervisor;
pub mod watchdog;

#[cfg(test)]
mod fake;

use rtos::channel::Channel;
use rtos::Instant;

/// One control-loop sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    /// The job's release.
    pub at: Instant,
    /// The controller's output.
    pub value: i32,
}

/// What the filter makes of one period's samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The filter job that made it.
    pub job: u64,
    /// Samples summarised.
    pub count: u32,
    /// Their mean.
    pub mean: i32,
    /// The smallest.
    pub min: i32,
    /// The largest.
    pub max: i32,
}

/// Samples from `control` to `filter` (polled: `filter` is periodic).
pub type Samples = Channel<Sample, 32>;
/// Summaries from `filter` to `reporter` (each one activates `reporter`).
pub type Summaries = Channel<Summary, 8>;
