//! The ring's layout in the shared region (docs/ipc.md, "The ring"): every offset and constant
//! of the protocol, in one place.

/// `magic` (offset 0): "BKRG" little-endian.
pub const MAGIC: u32 = u32::from_le_bytes(*b"BKRG");
/// `version` (offset 4): the protocol version this crate speaks.
pub const VERSION: u16 = 1;
/// The header's size: two 64-byte lines (the producer's, then the consumer's); the data area
/// starts right after it.
pub const HEADER_SIZE: usize = 128;

/// Offsets in the producer's line (written by the producer only).
pub mod producer {
    /// u32 [`super::MAGIC`], written last at initialisation (release).
    pub const MAGIC: usize = 0;
    /// u16 [`super::VERSION`].
    pub const VERSION: usize = 4;
    /// u16 header size ([`super::HEADER_SIZE`]).
    pub const HEADER_SIZE: usize = 6;
    /// u32 data area size in bytes: a power of two, at least [`super::MIN_CAPACITY`].
    pub const CAPACITY: usize = 8;
    /// u32 the producer's initialisation count (a re-initialisation changes it).
    pub const EPOCH: usize = 12;
    /// u64 tail: bytes ever published (store-release).
    pub const TAIL: usize = 16;
    /// u32 nonzero while the producer waits for space: the number of that wait (it wants one
    /// doorbell per wait).
    pub const WAITING: usize = 24;
}

/// Offsets in the consumer's line (written by the consumer only, after initialisation).
pub mod consumer {
    /// u64 head: bytes ever consumed (store-release).
    pub const HEAD: usize = 64;
    /// u32 nonzero while the consumer waits for data: the number of that wait (it wants one
    /// doorbell per wait).
    pub const WAITING: usize = 72;
}

/// The smallest data area.
pub const MIN_CAPACITY: usize = 64;
/// The largest data area (indices and lengths stay far from any overflow).
pub const MAX_CAPACITY: usize = 1 << 30;

/// A record's header: u32 payload length, u32 kind; records are 8-byte aligned and never wrap.
pub const RECORD_HEADER: usize = 8;
/// Record kind: data.
pub const KIND_DATA: u32 = 1;
/// Record kind: padding to the end of the data area (its length says how much follows).
pub const KIND_PAD: u32 = 2;

/// A record's size in the ring: header plus payload rounded up to 8 bytes.
pub const fn record_size(payload: usize) -> usize {
    RECORD_HEADER + ((payload + 7) & !7)
}

/// The largest payload a ring of `capacity` bytes carries (a record takes at most half the
/// data area, so a record plus the padding before it always fits an empty ring).
pub const fn max_payload(capacity: usize) -> usize {
    capacity / 2 - RECORD_HEADER
}
