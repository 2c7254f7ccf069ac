//! Kernel services for running a task's job on the host.

use rtos::context::{Job, Services as KernelServices};
use rtos::{Context, Frequency, Instant, TaskId};

/// Services whose clock stands still and whose activations are ignored.
#[derive(Default)]
pub struct Services;

impl KernelServices for Services {
    fn now(&self) -> Instant {
        Instant(0)
    }
    fn frequency(&self) -> Frequency {
        Frequency(1_000_000_000)
    }
    fn activate(&self, _task: TaskId) {}
}

/// A context for job `number` (of task 0).
pub fn context(services: &Services, number: u64) -> Context<'_> {
    Context::new(
        services,
        Job {
            task: TaskId::from_index(0),
            number,
            release: Instant(number * 1000),
            deadline: Instant(number * 1000 + 1000),
        },
    )
}
