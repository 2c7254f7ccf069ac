//! The consumer's end: attaches to a ring the producer initialised (header read once and
//! checked), reads records in place, releases them; any impossible value makes the ring dead
//! for it ([`Corrupt`]), and it never reads outside the data area.

use core::sync::atomic::Ordering;

use crate::layout::{self, consumer, producer};
use crate::shared::Shared;
use crate::{Corrupt, Wake};

/// The consumer's end of a ring.
pub struct Consumer {
    shared: Shared,
    /// The data area's size as read once at attach (the producer cannot change it later).
    capacity: usize,
    /// Bytes ever consumed (the consumer's own copy).
    head: u64,
    /// Set once the ring was found corrupt: every later call fails the same way.
    dead: Option<Corrupt>,
    /// The producer's wait this consumer last rang for (one doorbell per wait).
    rang_for: u32,
    /// This consumer's waits so far (its `waiting` value while it waits).
    waits: u32,
}

/// A record read in place: its payload is at `offset` in the region, `len` bytes; it stays
/// the consumer's until [`Consumer::release`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    offset: usize,
    len: usize,
    /// Bytes the record (and any padding before it) takes in the ring.
    size: usize,
}

impl Record {
    /// The payload's length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Consumer {
    /// Attaches to the ring in `shared`: `None` until the producer has published it (magic);
    /// `Err` if its version, header size or capacity are not what this crate speaks or do not
    /// fit the region. The head starts where the header says (0 after initialisation).
    pub fn attach(shared: Shared) -> Result<Option<Self>, Corrupt> {
        if shared.size() < layout::HEADER_SIZE {
            return Err(Corrupt::Capacity);
        }
        if shared.u32_at(producer::MAGIC).load(Ordering::Acquire) != layout::MAGIC {
            return Ok(None);
        }
        let version_and_size = shared.u32_at(producer::VERSION).load(Ordering::Relaxed);
        if version_and_size & 0xffff != u32::from(layout::VERSION) {
            return Err(Corrupt::Version);
        }
        if (version_and_size >> 16) as usize != layout::HEADER_SIZE {
            return Err(Corrupt::Version);
        }
        let capacity = shared.u32_at(producer::CAPACITY).load(Ordering::Relaxed) as usize;
        let fits = layout::HEADER_SIZE
            .checked_add(capacity)
            .is_some_and(|end| end <= shared.size());
        if !capacity.is_power_of_two()
            || !(layout::MIN_CAPACITY..=layout::MAX_CAPACITY).contains(&capacity)
            || !fits
        {
            return Err(Corrupt::Capacity);
        }
        let head = shared.u64_at(consumer::HEAD).load(Ordering::Relaxed);
        if !head.is_multiple_of(8) {
            return Err(Corrupt::HeadBehind);
        }
        Ok(Some(Consumer {
            shared,
            capacity,
            head,
            dead: None,
            rang_for: 0,
            waits: 0,
        }))
    }

    /// The data area's size.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn fail(&mut self, why: Corrupt) -> Corrupt {
        self.dead = Some(why);
        why
    }

    /// The next record, if the producer has published one. Padding is skipped (and released).
    pub fn peek(&mut self) -> Result<Option<Record>, Corrupt> {
        if let Some(why) = self.dead {
            return Err(why);
        }
        let mut skipped = 0usize;
        loop {
            let tail = self.shared.u64_at(producer::TAIL).load(Ordering::Acquire);
            let start = self.head + skipped as u64;
            let Some(available) = tail.checked_sub(start) else {
                return Err(self.fail(Corrupt::TailBehind));
            };
            if available > self.capacity as u64 || !tail.is_multiple_of(8) {
                return Err(self.fail(Corrupt::TailAhead));
            }
            if available == 0 {
                if skipped != 0 {
                    self.advance(skipped);
                }
                return Ok(None);
            }
            let available = available as usize;
            let position = (start as usize) & (self.capacity - 1);
            let contiguous = self.capacity - position;
            let offset = layout::HEADER_SIZE + position;
            // Read once; only the copy is checked and used.
            let header = self.shared.read_word(offset);
            let len = (header & 0xffff_ffff) as usize;
            let kind = (header >> 32) as u32;
            match kind {
                layout::KIND_PAD if skipped == 0 => {
                    if len.checked_add(layout::RECORD_HEADER) != Some(contiguous)
                        || contiguous > available
                    {
                        return Err(self.fail(Corrupt::Record));
                    }
                    skipped = contiguous;
                }
                layout::KIND_DATA => {
                    if len > layout::max_payload(self.capacity) {
                        return Err(self.fail(Corrupt::Record));
                    }
                    let size = layout::record_size(len);
                    if size > contiguous || size > available {
                        return Err(self.fail(Corrupt::Record));
                    }
                    return Ok(Some(Record {
                        offset: offset + layout::RECORD_HEADER,
                        len,
                        size: skipped + size,
                    }));
                }
                _ => return Err(self.fail(Corrupt::Record)),
            }
        }
    }

    /// The payload's words, read once each (volatile) in order: `visit(word_index, word)`.
    /// The last word's bytes past the length are whatever the producer sent.
    pub fn read_words(&self, record: &Record, visit: impl FnMut(usize, u64)) {
        // In bounds: `peek` checked the record against the data area.
        let _ = self
            .shared
            .visit_words(record.offset, record.len.div_ceil(8), visit);
    }

    /// Copies the payload into `out` (its first `min(out.len(), len)` bytes); returns how many.
    pub fn copy_to(&self, record: &Record, out: &mut [u8]) -> usize {
        let n = out.len().min(record.len);
        self.read_words(record, |word, value| {
            let bytes = value.to_le_bytes();
            for (i, byte) in bytes.iter().enumerate() {
                if let Some(slot) = out.get_mut(word * 8 + i).filter(|_| word * 8 + i < n) {
                    *slot = *byte;
                }
            }
        });
        n
    }

    /// Gives the record's space back to the producer (release: the reads are done first).
    /// Returns whether the producer asked for a doorbell (it waits for space).
    pub fn release(&mut self, record: Record) -> Wake {
        self.advance(record.size);
        let waiting = self.shared.u32_at(producer::WAITING).load(Ordering::SeqCst);
        // One doorbell per wait: the producer numbers its waits.
        if waiting != 0 && waiting != self.rang_for {
            self.rang_for = waiting;
            Wake::Ring
        } else {
            Wake::Quiet
        }
    }

    fn advance(&mut self, bytes: usize) {
        self.head += bytes as u64;
        self.shared
            .u64_at(consumer::HEAD)
            .store(self.head, Ordering::SeqCst);
    }

    /// Says the consumer is about to wait for data: sets its flag (the number of this wait,
    /// never 0), then looks again. `true` if a record appeared meanwhile (do not wait; the
    /// flag is cleared). The producer rings the doorbell once when it publishes during this
    /// wait.
    pub fn prepare_wait(&mut self) -> bool {
        let flag = self.shared.u32_at(consumer::WAITING);
        self.waits = self.waits.wrapping_add(1).max(1);
        flag.store(self.waits, Ordering::SeqCst);
        let tail = self.shared.u64_at(producer::TAIL).load(Ordering::SeqCst);
        let ready = tail != self.head;
        if ready {
            flag.store(0, Ordering::Relaxed);
        }
        ready
    }

    /// Clears the consumer's waiting flag (it woke up).
    pub fn done_waiting(&self) {
        self.shared
            .u32_at(consumer::WAITING)
            .store(0, Ordering::Relaxed);
    }
}
