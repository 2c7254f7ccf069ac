//! Virtual interrupts waiting for a free list register, most urgent first.

use super::list_registers::ListEntry;

/// How many interrupts can wait per vCPU.
pub const QUEUE_LEN: usize = 32;

/// A vCPU's queue of virtual interrupts that found no free list register.
#[derive(Clone, Debug, Default)]
pub struct PendingQueue {
    entries: heapless::Vec<ListEntry, QUEUE_LEN>,
    /// Interrupts dropped because the queue was full (a guest that never acknowledges).
    pub dropped: u32,
}

impl PendingQueue {
    /// An empty queue (usable in statics).
    pub const fn new() -> Self {
        PendingQueue {
            entries: heapless::Vec::new(),
            dropped: 0,
        }
    }

    /// Queues `entry` unless the same INTID already waits (pending is a state, not a count).
    pub fn push(&mut self, entry: ListEntry) {
        if self.entries.iter().any(|e| e.vintid == entry.vintid) {
            return;
        }
        let result = match self
            .entries
            .iter()
            .position(|e| e.priority > entry.priority)
        {
            Some(at) => self.entries.insert(at, entry),
            // The common case (an empty queue, or nothing less urgent waiting) appends, which
            // moves nothing: this is on the path of every doorbell.
            None => self.entries.push(entry),
        };
        if result.is_err() {
            self.dropped = self.dropped.saturating_add(1);
        }
    }

    /// Takes the most urgent entry.
    pub fn pop(&mut self) -> Option<ListEntry> {
        if self.entries.len() <= 1 {
            // The usual case (one doorbell or SGI waiting) moves nothing.
            self.entries.pop()
        } else {
            Some(self.entries.remove(0))
        }
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many wait.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_urgent_first_and_no_duplicates() {
        let mut queue = PendingQueue::default();
        queue.push(ListEntry::virtual_irq(40, 0xa0, 0));
        queue.push(ListEntry::virtual_irq(1, 0x20, 0));
        queue.push(ListEntry::virtual_irq(40, 0xa0, 0));
        queue.push(ListEntry::virtual_irq(41, 0xf0, 0));
        assert_eq!(queue.len(), 3);
        assert_eq!(queue.pop().map(|e| e.vintid), Some(1));
        assert_eq!(queue.pop().map(|e| e.vintid), Some(40));
        assert_eq!(queue.pop().map(|e| e.vintid), Some(41));
        assert!(queue.pop().is_none());
    }

    #[test]
    fn overflow_is_counted_not_fatal() {
        let mut queue = PendingQueue::default();
        for intid in 0..(QUEUE_LEN as u32 + 5) {
            queue.push(ListEntry::virtual_irq(intid + 32, 0x80, 0));
        }
        assert_eq!(queue.len(), QUEUE_LEN);
        assert_eq!(queue.dropped, 5);
    }
}
