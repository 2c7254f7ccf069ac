//! Fixed-priority scheduling on one stack: which job runs next, when periodic jobs are due, and
//! the bookkeeping of deadlines. Pure state machines, driven by the kernel with the time passed
//! in, so every rule is tested on the host.

pub mod ready;
pub mod scheduler;

#[cfg(test)]
mod tests;

pub use scheduler::{Dispatch, Scheduler, SpawnError, MAX_TASKS};
