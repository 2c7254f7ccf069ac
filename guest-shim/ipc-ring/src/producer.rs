//! The producer's end: initialises the header, writes records, publishes the tail; a full ring
//! is reported ([`PushError::Full`]), never overwritten.

use core::sync::atomic::Ordering;

use crate::layout::{self, consumer, producer};
use crate::shared::Shared;
use crate::{Corrupt, Wake};

/// Why a record was not written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushError {
    /// Not enough free space now: try again after the consumer has read (its doorbell).
    Full,
    /// The payload is larger than the ring ever carries ([`layout::max_payload`]).
    TooLarge,
    /// The consumer's head is impossible (behind the data read or past the tail): the ring is
    /// dead for this producer.
    Corrupt(Corrupt),
}

/// The producer's end of a ring.
pub struct Producer {
    shared: Shared,
    capacity: usize,
    /// Bytes ever published (the producer's own copy; the shared tail is only written).
    tail: u64,
    /// The consumer's wait this producer last rang for (one doorbell per wait).
    rang_for: u32,
    /// This producer's waits so far (its `waiting` value while it waits).
    waits: u32,
}

impl Producer {
    /// Initialises a ring over all of `shared` (the data area: the largest power of two that
    /// fits after the header) with initialisation count `epoch`, and publishes it: every
    /// field first, the magic last (release). `None` if the region is too small.
    pub fn init(shared: Shared, epoch: u32) -> Option<Self> {
        let room = shared.size().checked_sub(layout::HEADER_SIZE)?;
        let room = room.min(layout::MAX_CAPACITY);
        if room < layout::MIN_CAPACITY {
            return None;
        }
        let capacity = 1usize << (usize::BITS - 1 - room.leading_zeros());
        shared.u32_at(producer::MAGIC).store(0, Ordering::Relaxed);
        let version_and_size = u32::from(layout::VERSION) | ((layout::HEADER_SIZE as u32) << 16);
        shared
            .u32_at(producer::VERSION)
            .store(version_and_size, Ordering::Relaxed);
        shared
            .u32_at(producer::CAPACITY)
            .store(capacity as u32, Ordering::Relaxed);
        shared
            .u32_at(producer::EPOCH)
            .store(epoch, Ordering::Relaxed);
        shared.u64_at(producer::TAIL).store(0, Ordering::Relaxed);
        shared.u32_at(producer::WAITING).store(0, Ordering::Relaxed);
        shared.u64_at(consumer::HEAD).store(0, Ordering::Relaxed);
        shared.u32_at(consumer::WAITING).store(0, Ordering::Relaxed);
        shared
            .u32_at(producer::MAGIC)
            .store(layout::MAGIC, Ordering::Release);
        Some(Producer {
            shared,
            capacity,
            tail: 0,
            rang_for: 0,
            waits: 0,
        })
    }

    /// The data area's size.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes free now (0 if the consumer's head is impossible).
    pub fn free(&self) -> Result<usize, Corrupt> {
        let head = self.shared.u64_at(consumer::HEAD).load(Ordering::Acquire);
        let used = self.tail.checked_sub(head).ok_or(Corrupt::HeadPastTail)?;
        let used = usize::try_from(used)
            .ok()
            .filter(|&u| u <= self.capacity)
            .ok_or(Corrupt::HeadBehind)?;
        Ok(self.capacity - used)
    }

    /// Writes one record of `len` bytes, its words produced by `fill(word_index)` (the last
    /// word's bytes past `len` are sent as they are), and publishes it (release). Returns
    /// whether the consumer asked for a doorbell (it waits for data).
    pub fn try_push_with(
        &mut self,
        len: usize,
        mut fill: impl FnMut(usize) -> u64,
    ) -> Result<Wake, PushError> {
        if len > layout::max_payload(self.capacity) {
            return Err(PushError::TooLarge);
        }
        let size = layout::record_size(len);
        let free = self.free().map_err(PushError::Corrupt)?;
        let mut position = (self.tail as usize) & (self.capacity - 1);
        let contiguous = self.capacity - position;
        let pad = if contiguous < size { contiguous } else { 0 };
        if free < pad + size {
            return Err(PushError::Full);
        }
        if pad != 0 {
            let header = u64::from((pad - layout::RECORD_HEADER) as u32)
                | (u64::from(layout::KIND_PAD) << 32);
            self.shared
                .write_word(layout::HEADER_SIZE + position, header);
            position = 0;
        }
        let data = layout::HEADER_SIZE + position;
        let header = u64::from(len as u32) | (u64::from(layout::KIND_DATA) << 32);
        self.shared.write_word(data, header);
        let words = (size - layout::RECORD_HEADER) / 8;
        self.shared
            .fill_words(data + layout::RECORD_HEADER, words, &mut fill);
        self.tail += (pad + size) as u64;
        self.publish()
    }

    /// Writes `payload` as one record (see [`Producer::try_push_with`]).
    pub fn try_push(&mut self, payload: &[u8]) -> Result<Wake, PushError> {
        self.try_push_with(payload.len(), |word| {
            let mut bytes = [0u8; 8];
            let start = word * 8;
            for (i, byte) in bytes.iter_mut().enumerate() {
                *byte = payload.get(start + i).copied().unwrap_or(0);
            }
            u64::from_le_bytes(bytes)
        })
    }

    /// Publishes the tail (release: the records before it are visible first), then reads
    /// whether the consumer waits (sequentially consistent: the store and the load are not
    /// reordered, so a consumer that armed its flag after its last look is seen).
    fn publish(&mut self) -> Result<Wake, PushError> {
        self.shared
            .u64_at(producer::TAIL)
            .store(self.tail, Ordering::SeqCst);
        let waiting = self.shared.u32_at(consumer::WAITING).load(Ordering::SeqCst);
        // One doorbell per wait: the consumer numbers its waits.
        if waiting != 0 && waiting != self.rang_for {
            self.rang_for = waiting;
            Ok(Wake::Ring)
        } else {
            Ok(Wake::Quiet)
        }
    }

    /// Says the producer is about to wait for space: sets its flag (the number of this wait,
    /// never 0), then looks again. `true` if space for a record of `len` bytes appeared
    /// meanwhile (do not wait; the flag is cleared). The consumer rings the doorbell once when
    /// it frees space during this wait.
    pub fn prepare_wait(&mut self, len: usize) -> bool {
        let flag = self.shared.u32_at(producer::WAITING);
        self.waits = self.waits.wrapping_add(1).max(1);
        flag.store(self.waits, Ordering::SeqCst);
        let size = layout::record_size(len);
        let position = (self.tail as usize) & (self.capacity - 1);
        let pad = if self.capacity - position < size {
            self.capacity - position
        } else {
            0
        };
        let ready = self.free().map_or(true, |free| free >= pad + size);
        if ready {
            flag.store(0, Ordering::Relaxed);
        }
        ready
    }

    /// Clears the producer's waiting flag (it woke up).
    pub fn done_waiting(&self) {
        self.shared
            .u32_at(producer::WAITING)
            .store(0, Ordering::Relaxed);
    }
}
