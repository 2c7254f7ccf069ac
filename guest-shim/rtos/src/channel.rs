//! Message queues between tasks: a bounded FIFO that, when it has a receiving event task,
//! activates that task on every message (so the receiver runs as soon as it is the most urgent
//! job). A periodic task can also poll a channel with no receiver bound.
#![forbid(unsafe_code)]

use core::cell::{Cell, RefCell};

use critical_section::Mutex;
use heapless::Deque;

use crate::context::{Context, Services};
use crate::task::TaskId;

/// What a channel has seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChannelStats {
    /// Messages accepted.
    pub sent: u64,
    /// Messages refused because the queue was full.
    pub full: u64,
    /// The most messages that were waiting at once.
    pub high_water: usize,
}

/// A queue of up to `N` messages of type `T`.
pub struct Channel<T, const N: usize> {
    queue: Mutex<RefCell<Deque<T, N>>>,
    receiver: Mutex<Cell<Option<TaskId>>>,
    stats: Mutex<Cell<ChannelStats>>,
}

impl<T, const N: usize> Default for Channel<T, N> {
    fn default() -> Self {
        Channel::new()
    }
}

impl<T, const N: usize> Channel<T, N> {
    /// An empty channel with no receiver.
    pub const fn new() -> Self {
        Channel {
            queue: Mutex::new(RefCell::new(Deque::new())),
            receiver: Mutex::new(Cell::new(None)),
            stats: Mutex::new(Cell::new(ChannelStats {
                sent: 0,
                full: 0,
                high_water: 0,
            })),
        }
    }

    /// Makes event task `receiver` run on every message.
    pub fn bind(&self, receiver: TaskId) {
        critical_section::with(|cs| self.receiver.borrow(cs).set(Some(receiver)));
    }

    /// Sends `message` from a job; gives it back if the queue is full.
    pub fn send(&self, cx: &Context<'_>, message: T) -> Result<(), T> {
        let receiver = self.push(message)?;
        if let Some(task) = receiver {
            cx.activate(task);
        }
        Ok(())
    }

    /// Sends `message` from outside a job (an interrupt handler or the main loop).
    pub fn send_from(&self, services: &dyn Services, message: T) -> Result<(), T> {
        let receiver = self.push(message)?;
        if let Some(task) = receiver {
            services.activate(task);
        }
        Ok(())
    }

    fn push(&self, message: T) -> Result<Option<TaskId>, T> {
        critical_section::with(|cs| {
            let mut queue = self.queue.borrow_ref_mut(cs);
            let stats = self.stats.borrow(cs);
            let mut counts = stats.get();
            if let Err(message) = queue.push_back(message) {
                counts.full = counts.full.saturating_add(1);
                stats.set(counts);
                return Err(message);
            }
            counts.sent = counts.sent.saturating_add(1);
            counts.high_water = counts.high_water.max(queue.len());
            stats.set(counts);
            Ok(self.receiver.borrow(cs).get())
        })
    }

    /// Takes the oldest message, if any.
    pub fn try_recv(&self) -> Option<T> {
        critical_section::with(|cs| self.queue.borrow_ref_mut(cs).pop_front())
    }

    /// How many messages wait.
    pub fn len(&self) -> usize {
        critical_section::with(|cs| self.queue.borrow_ref(cs).len())
    }

    /// Whether no message waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The channel's counters.
    pub fn stats(&self) -> ChannelStats {
        critical_section::with(|cs| self.stats.borrow(cs).get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Job;
    use crate::time::{Frequency, Instant};
    use std::sync::Mutex as StdMutex;

    /// Services that record activations.
    #[derive(Default)]
    struct Activations(StdMutex<Vec<TaskId>>);

    impl Services for Activations {
        fn now(&self) -> Instant {
            Instant(0)
        }
        fn frequency(&self) -> Frequency {
            Frequency(1)
        }
        fn activate(&self, task: TaskId) {
            self.0.lock().unwrap().push(task);
        }
    }

    fn job() -> Job {
        Job {
            task: TaskId(0),
            number: 0,
            release: Instant(0),
            deadline: Instant(1),
        }
    }

    #[test]
    fn messages_come_out_in_order_and_a_full_queue_refuses() {
        let channel: Channel<u32, 2> = Channel::new();
        let services = Activations::default();
        let cx = Context::new(&services, job());
        assert_eq!(channel.send(&cx, 1), Ok(()));
        assert_eq!(channel.send(&cx, 2), Ok(()));
        assert_eq!(channel.send(&cx, 3), Err(3));
        assert_eq!(channel.try_recv(), Some(1));
        assert_eq!(channel.try_recv(), Some(2));
        assert!(channel.is_empty());
        let stats = channel.stats();
        assert_eq!((stats.sent, stats.full, stats.high_water), (2, 1, 2));
        assert!(services.0.lock().unwrap().is_empty(), "no receiver bound");
    }

    #[test]
    fn each_message_activates_the_bound_receiver() {
        let channel: Channel<u32, 4> = Channel::new();
        let services = Activations::default();
        channel.bind(TaskId(3));
        channel.send_from(&services, 7).unwrap();
        channel.send(&Context::new(&services, job()), 8).unwrap();
        assert_eq!(*services.0.lock().unwrap(), [TaskId(3), TaskId(3)]);
    }
}
