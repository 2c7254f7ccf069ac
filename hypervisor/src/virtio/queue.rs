//! One split virtqueue (virtio 1.2 §2.7): the registers the driver programs through the
//! transport, and the walker that takes descriptor chains from the available ring and gives
//! them back on the used ring.
//!
//! Every value read from the partition is an allegation: ring and table addresses and every
//! buffer are checked inside the partition's RAM, the available index may run at most a queue
//! size ahead, a chain visits at most `size` descriptors (so a loop ends as an error), indirect
//! tables are one level deep with a length that is a non-zero multiple of 16, device-writable
//! descriptors never precede readable ones, and lengths never overflow. Each descriptor is
//! copied into hypervisor memory once, then validated; nothing is read twice.
//!
//! Hand-written: the `virtio-drivers` and `virtio-queue` crates are the driver side or need
//! `std`/`vm-memory`; the device side at EL2 must be no_std with our own bounds.

use super::guest_memory::GuestMemory;

/// The largest queue a device offers (`QueueNumMax`).
pub const MAX_QUEUE_SIZE: u16 = 256;
/// The most buffers (segments) one chain may have, direct and indirect together.
pub const MAX_SEGMENTS: usize = 32;

/// Descriptor flag: the chain continues at `next`.
pub const DESC_F_NEXT: u16 = 1;
/// Descriptor flag: the buffer is device-writable.
pub const DESC_F_WRITE: u16 = 2;
/// Descriptor flag: the buffer is a table of descriptors.
pub const DESC_F_INDIRECT: u16 = 4;

/// Why a queue is malformed: the device goes to DEVICE_NEEDS_RESET.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueError {
    /// The queue size is zero, above the maximum, or not a power of two.
    BadSize(u16),
    /// The descriptor table, available or used ring is misaligned or not in the partition's RAM.
    RingOutsideRam,
    /// The available index ran more than a queue size ahead of the device.
    IndexJump {
        /// The driver's available index.
        avail: u16,
        /// The next entry the device expected.
        expected: u16,
    },
    /// A head or `next` index is not below the queue (or indirect table) size.
    IndexOutOfRange(u16),
    /// The chain visits more descriptors than the table has (a loop), or more than
    /// [`MAX_SEGMENTS`] buffers.
    ChainTooLong,
    /// A buffer is not wholly in the partition's RAM.
    BufferOutsideRam {
        /// The buffer's IPA.
        addr: u64,
        /// Its length.
        len: u32,
    },
    /// The chain's total length passes 4 GiB.
    LengthOverflow,
    /// An indirect descriptor inside an indirect table, or with NEXT, or one when the feature
    /// was not negotiated, or a table length that is zero or not a multiple of 16.
    BadIndirect,
    /// A device-readable buffer after a device-writable one.
    ReadableAfterWritable,
    /// The device was handed a used entry for a chain it does not hold.
    BadUsed,
}

/// One buffer of a chain, validated inside the partition's RAM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Its IPA.
    pub addr: u64,
    /// Its length in bytes.
    pub len: u32,
    /// Whether the device writes it (else the device reads it).
    pub writable: bool,
}

/// A descriptor chain taken from the available ring: its head (to give back) and its buffers,
/// device-readable ones first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Chain {
    /// The head descriptor's index, returned in the used ring.
    pub head: u16,
    /// The buffers, in order.
    pub segments: heapless::Vec<Segment, MAX_SEGMENTS>,
}

impl Chain {
    /// Total bytes of the device-readable buffers.
    pub fn readable_len(&self) -> u64 {
        self.segments
            .iter()
            .filter(|s| !s.writable)
            .map(|s| u64::from(s.len))
            .sum()
    }

    /// Total bytes of the device-writable buffers.
    pub fn writable_len(&self) -> u64 {
        self.segments
            .iter()
            .filter(|s| s.writable)
            .map(|s| u64::from(s.len))
            .sum()
    }

    /// Copies readable bytes from offset `from` of the chain's readable part into `out`;
    /// returns how many were copied.
    pub fn read(&self, memory: &dyn GuestMemory, from: u64, out: &mut [u8]) -> usize {
        self.copy(false, from, out.len(), |ipa, range| {
            out.get_mut(range)
                .is_some_and(|dst| memory.read(ipa, dst).is_ok())
        })
    }

    /// Copies `data` to offset `from` of the chain's writable part; returns how many bytes
    /// were written.
    pub fn write(&self, memory: &mut dyn GuestMemory, from: u64, data: &[u8]) -> usize {
        self.copy(true, from, data.len(), |ipa, range| {
            data.get(range)
                .is_some_and(|src| memory.write(ipa, src).is_ok())
        })
    }

    /// Walks the `writable` part from offset `from` for up to `len` bytes, calling `step` with
    /// each piece's IPA and its range in the caller's buffer.
    fn copy(
        &self,
        writable: bool,
        mut from: u64,
        len: usize,
        mut step: impl FnMut(u64, core::ops::Range<usize>) -> bool,
    ) -> usize {
        let mut done = 0usize;
        for segment in self.segments.iter().filter(|s| s.writable == writable) {
            let seg_len = u64::from(segment.len);
            if from >= seg_len {
                from -= seg_len;
                continue;
            }
            let left = len.saturating_sub(done);
            if left == 0 {
                break;
            }
            let here = usize::try_from(seg_len - from)
                .unwrap_or(usize::MAX)
                .min(left);
            let end = done.saturating_add(here);
            if !step(segment.addr.saturating_add(from), done..end) {
                break;
            }
            done = end;
            from = 0;
        }
        done
    }
}

/// One descriptor as copied from the partition (`struct virtq_desc`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Descriptor {
    addr: u64,
    len: u32,
    flags: u16,
    next: u16,
}

impl Descriptor {
    fn read(memory: &dyn GuestMemory, ipa: u64) -> Result<Self, QueueError> {
        let mut raw = [0u8; 16];
        memory
            .read(ipa, &mut raw)
            .map_err(|_| QueueError::RingOutsideRam)?;
        let [a0, a1, a2, a3, a4, a5, a6, a7, l0, l1, l2, l3, f0, f1, n0, n1] = raw;
        Ok(Descriptor {
            addr: u64::from_le_bytes([a0, a1, a2, a3, a4, a5, a6, a7]),
            len: u32::from_le_bytes([l0, l1, l2, l3]),
            flags: u16::from_le_bytes([f0, f1]),
            next: u16::from_le_bytes([n0, n1]),
        })
    }
}

/// A split virtqueue: what the driver programmed, and where the device is in its rings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Queue {
    /// `QueueNum`: the size the driver chose.
    pub size: u16,
    /// `QueueReady`.
    pub ready: bool,
    /// `QueueDesc`: the descriptor table's IPA.
    pub desc: u64,
    /// `QueueDriver`: the available ring's IPA.
    pub avail: u64,
    /// `QueueDevice`: the used ring's IPA.
    pub used: u64,
    /// The next available-ring entry the device takes.
    pub next_avail: u16,
    /// The used index the device publishes next.
    pub next_used: u16,
}

impl Queue {
    /// A queue at reset.
    pub const fn new() -> Self {
        Queue {
            size: 0,
            ready: false,
            desc: 0,
            avail: 0,
            used: 0,
            next_avail: 0,
            next_used: 0,
        }
    }

    /// Checks the programmed size and ring placement.
    pub fn check(&self, memory: &dyn GuestMemory) -> Result<(), QueueError> {
        let size = self.size;
        if size == 0 || size > MAX_QUEUE_SIZE || !size.is_power_of_two() {
            return Err(QueueError::BadSize(size));
        }
        let n = u64::from(size);
        let placed =
            |ipa: u64, align: u64, len: u64| ipa.is_multiple_of(align) && memory.contains(ipa, len);
        if placed(self.desc, 16, 16 * n)
            && placed(self.avail, 2, 6 + 2 * n)
            && placed(self.used, 4, 6 + 8 * n)
        {
            Ok(())
        } else {
            Err(QueueError::RingOutsideRam)
        }
    }

    /// How many chains the driver has made available and the device not yet taken.
    pub fn pending(&self, memory: &dyn GuestMemory) -> Result<u16, QueueError> {
        self.check(memory)?;
        let avail = memory
            .read_u16(self.avail.wrapping_add(2))
            .map_err(|_| QueueError::RingOutsideRam)?;
        let ahead = avail.wrapping_sub(self.next_avail);
        if ahead > self.size {
            return Err(QueueError::IndexJump {
                avail,
                expected: self.next_avail,
            });
        }
        Ok(ahead)
    }

    /// Takes the next available chain, validated; `None` if the driver has made none.
    /// `indirect` says whether VIRTIO_F_INDIRECT_DESC was negotiated.
    pub fn pop(
        &mut self,
        memory: &dyn GuestMemory,
        indirect: bool,
    ) -> Result<Option<Chain>, QueueError> {
        if self.pending(memory)? == 0 {
            return Ok(None);
        }
        memory.read_barrier();
        let slot = u64::from(self.next_avail % self.size);
        let head = memory
            .read_u16(self.avail.wrapping_add(4 + 2 * slot))
            .map_err(|_| QueueError::RingOutsideRam)?;
        let chain = self.walk(memory, head, indirect)?;
        self.next_avail = self.next_avail.wrapping_add(1);
        Ok(Some(chain))
    }

    /// Follows the chain at `head` through the descriptor table (and at most one indirect table).
    fn walk(
        &self,
        memory: &dyn GuestMemory,
        head: u16,
        indirect: bool,
    ) -> Result<Chain, QueueError> {
        let mut chain = Chain {
            head,
            segments: heapless::Vec::new(),
        };
        let mut total = 0u64;
        let mut seen_writable = false;
        let mut table = self.desc;
        let mut table_size = self.size;
        let mut in_indirect = false;
        let mut index = head;
        let mut visited = 0u32;
        loop {
            if index >= table_size {
                return Err(QueueError::IndexOutOfRange(index));
            }
            visited += 1;
            if visited > u32::from(table_size) {
                return Err(QueueError::ChainTooLong);
            }
            let desc = Descriptor::read(memory, table.wrapping_add(16 * u64::from(index)))?;
            if desc.flags & DESC_F_INDIRECT != 0 {
                let bad = !indirect
                    || in_indirect
                    || desc.flags & DESC_F_NEXT != 0
                    || desc.len == 0
                    || !desc.len.is_multiple_of(16)
                    || !desc.addr.is_multiple_of(16)
                    || !memory.contains(desc.addr, u64::from(desc.len));
                if bad {
                    return Err(QueueError::BadIndirect);
                }
                // A table longer than 65536 entries cannot be indexed; the chain bound then
                // caps the walk.
                table_size = u16::try_from(desc.len / 16).unwrap_or(u16::MAX);
                table = desc.addr;
                in_indirect = true;
                index = 0;
                visited = 0;
                continue;
            }
            let writable = desc.flags & DESC_F_WRITE != 0;
            if seen_writable && !writable {
                return Err(QueueError::ReadableAfterWritable);
            }
            seen_writable |= writable;
            total += u64::from(desc.len);
            if total > u64::from(u32::MAX) {
                return Err(QueueError::LengthOverflow);
            }
            if !memory.contains(desc.addr, u64::from(desc.len)) {
                return Err(QueueError::BufferOutsideRam {
                    addr: desc.addr,
                    len: desc.len,
                });
            }
            if desc.len > 0 {
                chain
                    .segments
                    .push(Segment {
                        addr: desc.addr,
                        len: desc.len,
                        writable,
                    })
                    .map_err(|_| QueueError::ChainTooLong)?;
            }
            if desc.flags & DESC_F_NEXT == 0 {
                return Ok(chain);
            }
            index = desc.next;
        }
    }

    /// Gives the chain at `head` back with `written` bytes written into it.
    pub fn push_used(
        &mut self,
        memory: &mut dyn GuestMemory,
        head: u16,
        written: u32,
    ) -> Result<(), QueueError> {
        self.check(memory)?;
        if head >= self.size {
            return Err(QueueError::BadUsed);
        }
        let slot = u64::from(self.next_used % self.size);
        let mut entry = [0u8; 8];
        let (id, len) = entry.split_at_mut(4);
        id.copy_from_slice(&u32::from(head).to_le_bytes());
        len.copy_from_slice(&written.to_le_bytes());
        memory
            .write(self.used.wrapping_add(4 + 8 * slot), &entry)
            .map_err(|_| QueueError::RingOutsideRam)?;
        self.next_used = self.next_used.wrapping_add(1);
        memory.write_barrier();
        memory
            .write_u16(self.used.wrapping_add(2), self.next_used)
            .map_err(|_| QueueError::RingOutsideRam)
    }
}
