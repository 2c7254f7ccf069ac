//! A host fake of a virtio driver over [`FakeMemory`]: it brings a [`Transport`] up as Linux's
//! virtio_mmio does, lays its queues out in memory, offers buffers and reads back used ones.
//! For tests and fuzz targets.

#![allow(clippy::indexing_slicing, clippy::unwrap_used)]
use super::guest_memory::{FakeMemory, GuestMemory};
use super::queue::{DESC_F_NEXT, DESC_F_WRITE};
use super::transport::{reg, Transport};
use super::{status, Backend};
use crate::devices::{perform, AccessWidth, DeviceAccess, DeviceEffects};
use std::vec::Vec;

/// The fake RAM's first IPA.
pub const BASE: u64 = 0x4000_0000;
/// Queue size the fake driver uses.
pub const SIZE: u16 = 16;
/// Bytes per queue area (table, avail, used).
const QUEUE_AREA: u64 = 0x1000;
/// Where buffers start.
const BUFFERS: u64 = BASE + 0x10000;
/// Bytes per buffer slot.
pub const SLOT: u64 = 0x1000;

/// A driver with its memory.
pub struct FakeDriver {
    /// Its RAM.
    pub memory: FakeMemory,
    avail_idx: [u16; 8],
    used_seen: [u16; 8],
    free: [Vec<u16>; 8],
}

impl Default for FakeDriver {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeDriver {
    /// A driver with 1 MiB of RAM at [`BASE`].
    pub fn new() -> Self {
        FakeDriver {
            memory: FakeMemory::new(BASE, 0x10_0000),
            avail_idx: [0; 8],
            used_seen: [0; 8],
            free: core::array::from_fn(|_| (0..SIZE).rev().collect()),
        }
    }

    fn desc_table(q: u16) -> u64 {
        BASE + QUEUE_AREA * 3 * u64::from(q)
    }
    fn avail(q: u16) -> u64 {
        Self::desc_table(q) + QUEUE_AREA
    }
    fn used(q: u16) -> u64 {
        Self::desc_table(q) + 2 * QUEUE_AREA
    }
    /// The buffer slot of descriptor `d` of queue `q`.
    pub fn slot(q: u16, d: u16) -> u64 {
        BUFFERS + SLOT * (u64::from(q) * u64::from(SIZE) + u64::from(d))
    }

    fn access<B: Backend>(t: &mut Transport<B>, offset: u64, store: Option<u64>) -> u64 {
        perform(
            t,
            DeviceAccess {
                offset,
                width: AccessWidth::Word,
                vcpu: 0,
            },
            store,
            &mut DeviceEffects::new(),
        )
        .unwrap_or(0)
    }

    /// Reads register `offset`.
    pub fn read<B: Backend>(t: &mut Transport<B>, offset: u64) -> u32 {
        Self::access(t, offset, None) as u32
    }

    /// Writes register `offset`.
    pub fn write<B: Backend>(t: &mut Transport<B>, offset: u64, value: u32) {
        Self::access(t, offset, Some(u64::from(value)));
    }

    /// Resets the device and brings it up with `features` and `queues` queues; returns the
    /// status read back.
    pub fn bring_up<B: Backend>(
        &mut self,
        t: &mut Transport<B>,
        features: u64,
        queues: u16,
    ) -> u32 {
        Self::write(t, reg::STATUS, 0);
        *self = FakeDriver {
            memory: core::mem::replace(&mut self.memory, FakeMemory::new(0, 0)),
            ..FakeDriver::new()
        };
        Self::write(t, reg::STATUS, status::ACKNOWLEDGE | status::DRIVER);
        Self::write(t, reg::DRIVER_FEATURES_SEL, 0);
        Self::write(t, reg::DRIVER_FEATURES, features as u32);
        Self::write(t, reg::DRIVER_FEATURES_SEL, 1);
        Self::write(t, reg::DRIVER_FEATURES, (features >> 32) as u32);
        let s = status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK;
        Self::write(t, reg::STATUS, s);
        for q in 0..queues {
            // Fresh rings, as a driver allocates them.
            let _ = self
                .memory
                .write(Self::desc_table(q), &[0; 3 * QUEUE_AREA as usize]);
            Self::write(t, reg::QUEUE_SEL, u32::from(q));
            Self::write(t, reg::QUEUE_NUM, u32::from(SIZE));
            Self::write(t, reg::QUEUE_DESC_LOW, Self::desc_table(q) as u32);
            Self::write(t, reg::QUEUE_DRIVER_LOW, Self::avail(q) as u32);
            Self::write(t, reg::QUEUE_DEVICE_LOW, Self::used(q) as u32);
            Self::write(t, reg::QUEUE_READY, 1);
        }
        Self::write(t, reg::STATUS, s | status::DRIVER_OK);
        Self::read(t, reg::STATUS)
    }

    /// Offers one buffer on queue `q`: `data` readable, or `writable` bytes of room when
    /// `data` is empty. Returns the descriptor used, or `None` when the queue is full.
    pub fn offer(&mut self, q: u16, data: &[u8], writable: u32) -> Option<u16> {
        let d = self.free.get_mut(usize::from(q))?.pop()?;
        let addr = Self::slot(q, d);
        let (len, flags) = if data.is_empty() {
            (writable, DESC_F_WRITE)
        } else {
            self.memory.write(addr, data).ok()?;
            (data.len() as u32, 0)
        };
        self.set_desc(q, d, addr, len, flags, 0);
        self.publish(q, d);
        Some(d)
    }

    /// Writes descriptor `d` of queue `q`.
    pub fn set_desc(&mut self, q: u16, d: u16, addr: u64, len: u32, flags: u16, next: u16) {
        let mut raw = [0u8; 16];
        raw[..8].copy_from_slice(&addr.to_le_bytes());
        raw[8..12].copy_from_slice(&len.to_le_bytes());
        raw[12..14].copy_from_slice(&flags.to_le_bytes());
        raw[14..].copy_from_slice(&next.to_le_bytes());
        let _ = self
            .memory
            .write(Self::desc_table(q) + 16 * u64::from(d), &raw);
        let _ = DESC_F_NEXT;
    }

    /// Makes chain `head` of queue `q` available.
    pub fn publish(&mut self, q: u16, head: u16) {
        let i = usize::from(q);
        let idx = self.avail_idx[i];
        let _ = self
            .memory
            .write_u16(Self::avail(q) + 4 + 2 * u64::from(idx % SIZE), head);
        self.avail_idx[i] = idx.wrapping_add(1);
        let _ = self
            .memory
            .write_u16(Self::avail(q) + 2, idx.wrapping_add(1));
    }

    /// Overwrites queue `q`'s available index (an attacker's index jump).
    pub fn set_avail_idx(&mut self, q: u16, idx: u16) {
        let _ = self.memory.write_u16(Self::avail(q) + 2, idx);
    }

    /// Takes the used entries of queue `q` published since the last call: each descriptor
    /// with the bytes the device wrote (its buffer's first `len` bytes).
    pub fn take_used(&mut self, q: u16) -> Vec<(u16, Vec<u8>)> {
        let i = usize::from(q);
        let idx = self.memory.read_u16(Self::used(q) + 2).unwrap_or(0);
        let mut out = Vec::new();
        while self.used_seen[i] != idx {
            let slot = u64::from(self.used_seen[i] % SIZE);
            let mut raw = [0u8; 8];
            let _ = self.memory.read(Self::used(q) + 4 + 8 * slot, &mut raw);
            let id = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) as u16;
            let len = u32::from_le_bytes([raw[4], raw[5], raw[6], raw[7]]) as usize;
            let mut data = std::vec![0u8; len.min(SLOT as usize)];
            let _ = self.memory.read(Self::slot(q, id), &mut data);
            out.push((id, data));
            self.free[i].push(id);
            self.used_seen[i] = self.used_seen[i].wrapping_add(1);
        }
        out
    }
}
