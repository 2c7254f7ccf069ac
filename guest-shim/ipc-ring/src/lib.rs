//! Bulkhead's single-producer/single-consumer ring over a shared-memory channel, as specified
//! in `docs/ipc.md` ("The ring"): a 128-byte header (magic, version, capacity, the producer's
//! tail and the consumer's head, each on its own 64-byte line, and a "waiting" flag each),
//! then a power-of-two data area of 8-byte aligned, length-prefixed records that never wrap
//! (padding fills the end). Indices are free-running byte counts; the producer publishes its
//! tail with a store-release after the record, the consumer its head with a store-release after
//! reading (on AArch64, `stlr`/`ldar`: no other barrier is needed between the two partitions,
//! which both map the region normal, write-back cacheable, inner shareable). A full ring is
//! reported to the producer, never overwritten. The consumer reads the header once, checks
//! every index and length against its own copy of the capacity, and on anything impossible
//! stops using the ring and reports [`Corrupt`] (it never reads outside the data area).
//!
//! Written here rather than taken from a crate: the ring must match a layout both partitions
//! (and a Linux user-space reader) agree on byte for byte, with a consumer hardened against a
//! hostile producer; the general-purpose SPSC crates (heapless::spsc, ringbuf, bbqueue) keep
//! their indices in their own structs and trust them.
#![no_std]

pub mod consumer;
pub mod layout;
pub mod producer;
pub mod shared;

pub use consumer::{Consumer, Record};
pub use producer::{Producer, PushError};
pub use shared::Shared;

/// Whether the other side asked to be woken (its "waiting" flag was set): ring its doorbell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wake {
    /// Ring the peer's doorbell.
    Ring,
    /// The peer is not waiting.
    Quiet,
}

/// What a consumer (or producer) found impossible in the shared header or a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Corrupt {
    /// Not version [`layout::VERSION`] or not [`layout::HEADER_SIZE`] bytes of header.
    Version,
    /// The capacity is not a power of two in range, or does not fit the region.
    Capacity,
    /// The tail moved backwards (behind the consumer's head).
    TailBehind,
    /// The tail is more than a capacity ahead of the head, or misaligned.
    TailAhead,
    /// The head is past the producer's tail.
    HeadPastTail,
    /// The head is more than a capacity behind the tail, or misaligned.
    HeadBehind,
    /// A record header is impossible: unknown kind, a length past the data available or the
    /// end of the data area, padding that does not reach the end.
    Record,
}

impl Corrupt {
    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Corrupt::Version => "version",
            Corrupt::Capacity => "capacity",
            Corrupt::TailBehind => "tail-behind",
            Corrupt::TailAhead => "tail-ahead",
            Corrupt::HeadPastTail => "head-past-tail",
            Corrupt::HeadBehind => "head-behind",
            Corrupt::Record => "record",
        }
    }
}

#[cfg(test)]
mod tests;
