//! The shared region as the ring reaches it: atomic header fields and volatile data words at
//! checked offsets. The other party may change any byte at any time, so nothing here hands out
//! a Rust reference into the data area: data moves by volatile word copies.

use core::sync::atomic::{AtomicU32, AtomicU64};

/// A shared region of `size` bytes at `base` (8-byte aligned).
#[derive(Clone, Copy, Debug)]
pub struct Shared {
    base: *mut u8,
    size: usize,
}

// SAFETY: the region is shared memory by construction; every access is atomic or volatile.
unsafe impl Send for Shared {}

impl Shared {
    /// The region at `base`, `size` bytes.
    ///
    /// # Safety
    /// `base` is 8-byte aligned and `size` bytes from it are memory this program may read and
    /// write for as long as the value (and any ring over it) is used, shared only with a peer
    /// that accesses it through this protocol or not at all.
    pub const unsafe fn new(base: *mut u8, size: usize) -> Self {
        Shared { base, size }
    }

    /// The region's size in bytes.
    pub const fn size(&self) -> usize {
        self.size
    }

    fn in_bounds(&self, offset: usize, len: usize, align: usize) -> bool {
        offset.is_multiple_of(align) && offset.checked_add(len).is_some_and(|end| end <= self.size)
    }

    /// The u64 header field at `offset`.
    pub fn u64_at(&self, offset: usize) -> &AtomicU64 {
        assert!(
            self.in_bounds(offset, 8, 8),
            "header field outside the region"
        );
        // SAFETY: in bounds and aligned (checked; `base` is 8-aligned by `new`'s contract);
        // the memory outlives `self` (same contract) and is only accessed atomically.
        unsafe { &*self.base.add(offset).cast::<AtomicU64>() }
    }

    /// The u32 header field at `offset`.
    pub fn u32_at(&self, offset: usize) -> &AtomicU32 {
        assert!(
            self.in_bounds(offset, 4, 4),
            "header field outside the region"
        );
        // SAFETY: as in `u64_at`.
        unsafe { &*self.base.add(offset).cast::<AtomicU32>() }
    }

    /// Reads the word at byte `offset` (8-aligned, in bounds: callers check; a bad offset
    /// reads 0).
    pub fn read_word(&self, offset: usize) -> u64 {
        if !self.in_bounds(offset, 8, 8) {
            return 0;
        }
        // SAFETY: in bounds and aligned (checked); volatile, since the peer may write it.
        unsafe { core::ptr::read_volatile(self.base.add(offset).cast::<u64>()) }
    }

    /// Writes the word at byte `offset` (8-aligned, in bounds: callers check; a bad offset is
    /// ignored).
    pub fn write_word(&self, offset: usize, value: u64) {
        if !self.in_bounds(offset, 8, 8) {
            return;
        }
        // SAFETY: in bounds and aligned (checked); volatile, since the peer may read it.
        unsafe { core::ptr::write_volatile(self.base.add(offset).cast::<u64>(), value) }
    }

    /// Writes `count` words from byte `offset` on, word `i` being `fill(i)`: one bounds check
    /// for the run (out of bounds: nothing written, `false`).
    pub fn fill_words(
        &self,
        offset: usize,
        count: usize,
        mut fill: impl FnMut(usize) -> u64,
    ) -> bool {
        let Some(len) = count.checked_mul(8) else {
            return false;
        };
        if !self.in_bounds(offset, len, 8) {
            return false;
        }
        // SAFETY: `count` words from `offset` are in bounds and aligned (checked).
        let base = unsafe { self.base.add(offset).cast::<u64>() };
        for i in 0..count {
            // SAFETY: `i < count`, inside the checked run; volatile, since the peer may read it.
            unsafe { core::ptr::write_volatile(base.add(i), fill(i)) };
        }
        true
    }

    /// Reads `count` words from byte `offset` on, each once (volatile), in order:
    /// `visit(i, word)`. One bounds check for the run (out of bounds: nothing read, `false`).
    pub fn visit_words(
        &self,
        offset: usize,
        count: usize,
        mut visit: impl FnMut(usize, u64),
    ) -> bool {
        let Some(len) = count.checked_mul(8) else {
            return false;
        };
        if !self.in_bounds(offset, len, 8) {
            return false;
        }
        // SAFETY: `count` words from `offset` are in bounds and aligned (checked).
        let base = unsafe { self.base.add(offset).cast::<u64>() };
        for i in 0..count {
            // SAFETY: `i < count`, inside the checked run; volatile, since the peer may write it.
            visit(i, unsafe { core::ptr::read_volatile(base.add(i)) });
        }
        true
    }
}
