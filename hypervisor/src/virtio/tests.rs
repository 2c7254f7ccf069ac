//! Host tests of the transport and the walker over [`super::guest_memory::FakeMemory`].

use super::guest_memory::FakeMemory;
use super::queue::{DESC_F_INDIRECT, DESC_F_NEXT, DESC_F_WRITE, MAX_QUEUE_SIZE};
use super::transport::{reg, INT_CONFIG_CHANGE, INT_USED_BUFFER, MAGIC};
use super::*;
use crate::devices::{perform, AccessWidth, DeviceAccess, DeviceEffects};

const BASE: u64 = 0x4000_0000;
const DESC: u64 = BASE;
const AVAIL: u64 = BASE + 0x1000;
const USED: u64 = BASE + 0x2000;
const BUFFERS: u64 = BASE + 0x8000;
const SIZE: u16 = 16;

/// A driver's side of one queue, written straight into fake memory.
struct Driver {
    memory: FakeMemory,
    avail_idx: u16,
}

impl Driver {
    fn new() -> Self {
        Driver {
            memory: FakeMemory::new(BASE, 0x10000),
            avail_idx: 0,
        }
    }

    fn desc_at(&mut self, table: u64, i: u16, addr: u64, len: u32, flags: u16, next: u16) {
        let mut raw = [0u8; 16];
        raw[..8].copy_from_slice(&addr.to_le_bytes());
        raw[8..12].copy_from_slice(&len.to_le_bytes());
        raw[12..14].copy_from_slice(&flags.to_le_bytes());
        raw[14..].copy_from_slice(&next.to_le_bytes());
        self.memory.write(table + 16 * u64::from(i), &raw).unwrap();
    }

    fn desc(&mut self, i: u16, addr: u64, len: u32, flags: u16, next: u16) {
        self.desc_at(DESC, i, addr, len, flags, next);
    }

    fn publish(&mut self, head: u16) {
        let slot = u64::from(self.avail_idx % SIZE);
        self.memory.write_u16(AVAIL + 4 + 2 * slot, head).unwrap();
        self.avail_idx = self.avail_idx.wrapping_add(1);
        self.memory.write_u16(AVAIL + 2, self.avail_idx).unwrap();
    }

    fn used_idx(&self) -> u16 {
        self.memory.read_u16(USED + 2).unwrap()
    }

    fn used(&self, slot: u16) -> (u32, u32) {
        let mut raw = [0u8; 8];
        self.memory
            .read(USED + 4 + 8 * u64::from(slot), &mut raw)
            .unwrap();
        (
            u32::from_le_bytes(raw[..4].try_into().unwrap()),
            u32::from_le_bytes(raw[4..].try_into().unwrap()),
        )
    }
}

fn queue() -> Queue {
    Queue {
        size: SIZE,
        ready: true,
        desc: DESC,
        avail: AVAIL,
        used: USED,
        ..Queue::new()
    }
}

#[test]
fn a_chain_of_readable_then_writable_buffers_is_taken_and_given_back() {
    let mut d = Driver::new();
    d.desc(3, BUFFERS, 100, DESC_F_NEXT, 7);
    d.desc(7, BUFFERS + 0x100, 50, DESC_F_WRITE, 0);
    d.publish(3);
    let mut q = queue();
    let chain = q.pop(&d.memory, false).unwrap().unwrap();
    assert_eq!(chain.head, 3);
    assert_eq!(chain.readable_len(), 100);
    assert_eq!(chain.writable_len(), 50);
    assert_eq!(q.pop(&d.memory, false).unwrap(), None);
    q.push_used(&mut d.memory, chain.head, 50).unwrap();
    assert_eq!(d.used_idx(), 1);
    assert_eq!(d.used(0), (3, 50));
}

#[test]
fn chains_copy_across_their_buffers() {
    let mut d = Driver::new();
    d.memory.write(BUFFERS, b"hello ").unwrap();
    d.memory.write(BUFFERS + 0x100, b"world").unwrap();
    d.desc(0, BUFFERS, 6, DESC_F_NEXT, 1);
    d.desc(1, BUFFERS + 0x100, 5, DESC_F_NEXT, 2);
    d.desc(2, BUFFERS + 0x200, 4, DESC_F_WRITE | DESC_F_NEXT, 3);
    d.desc(3, BUFFERS + 0x300, 4, DESC_F_WRITE, 0);
    d.publish(0);
    let chain = queue().pop(&d.memory, false).unwrap().unwrap();
    let mut out = [0u8; 16];
    assert_eq!(chain.read(&d.memory, 0, &mut out), 11);
    assert_eq!(&out[..11], b"hello world");
    assert_eq!(chain.read(&d.memory, 4, &mut out[..4]), 4);
    assert_eq!(&out[..4], b"o wo");
    assert_eq!(chain.write(&mut d.memory, 2, b"abcdefgh"), 6);
    let mut back = [0u8; 4];
    d.memory.read(BUFFERS + 0x200, &mut back).unwrap();
    assert_eq!(&back[2..], b"ab");
    d.memory.read(BUFFERS + 0x300, &mut back).unwrap();
    assert_eq!(&back, b"cdef");
}

#[test]
fn an_indirect_table_is_followed_one_level_deep() {
    let mut d = Driver::new();
    let table = BUFFERS + 0x1000;
    d.desc_at(table, 0, BUFFERS, 8, DESC_F_NEXT, 1);
    d.desc_at(table, 1, BUFFERS + 8, 8, DESC_F_WRITE, 0);
    d.desc(5, table, 32, DESC_F_INDIRECT, 0);
    d.publish(5);
    let chain = queue().pop(&d.memory, true).unwrap().unwrap();
    assert_eq!((chain.head, chain.segments.len()), (5, 2));
    // Not negotiated: malformed.
    let mut d2 = Driver::new();
    d2.desc(5, table, 32, DESC_F_INDIRECT, 0);
    d2.publish(5);
    assert_eq!(queue().pop(&d2.memory, false), Err(QueueError::BadIndirect));
}

fn pop_error(build: impl FnOnce(&mut Driver)) -> QueueError {
    let mut d = Driver::new();
    build(&mut d);
    queue().pop(&d.memory, true).unwrap_err()
}

#[test]
fn malformed_chains_are_refused() {
    // A loop.
    assert_eq!(
        pop_error(|d| {
            d.desc(0, BUFFERS, 1, DESC_F_NEXT, 1);
            d.desc(1, BUFFERS, 1, DESC_F_NEXT, 0);
            d.publish(0);
        }),
        QueueError::ChainTooLong
    );
    // A head beyond the table.
    assert_eq!(
        pop_error(|d| d.publish(SIZE)),
        QueueError::IndexOutOfRange(SIZE)
    );
    // A buffer outside RAM (the hypervisor's, say) and one of 4 GiB.
    assert!(matches!(
        pop_error(|d| {
            d.desc(0, 0x4000_0000_0000, 16, 0, 0);
            d.publish(0);
        }),
        QueueError::BufferOutsideRam { .. }
    ));
    assert!(matches!(
        pop_error(|d| {
            d.desc(0, BUFFERS, u32::MAX, 0, 0);
            d.publish(0);
        }),
        QueueError::BufferOutsideRam { .. }
    ));
    // A buffer that wraps the address space.
    assert!(matches!(
        pop_error(|d| {
            d.desc(0, u64::MAX - 4, 16, 0, 0);
            d.publish(0);
        }),
        QueueError::BufferOutsideRam { .. }
    ));
    // Readable after writable.
    assert_eq!(
        pop_error(|d| {
            d.desc(0, BUFFERS, 1, DESC_F_WRITE | DESC_F_NEXT, 1);
            d.desc(1, BUFFERS, 1, 0, 0);
            d.publish(0);
        }),
        QueueError::ReadableAfterWritable
    );
    // Nested indirect tables, and indirect with NEXT.
    let table = BUFFERS + 0x1000;
    assert_eq!(
        pop_error(|d| {
            d.desc_at(table, 0, table, 16, DESC_F_INDIRECT, 0);
            d.desc(0, table, 16, DESC_F_INDIRECT, 0);
            d.publish(0);
        }),
        QueueError::BadIndirect
    );
    assert_eq!(
        pop_error(|d| {
            d.desc(0, table, 16, DESC_F_INDIRECT | DESC_F_NEXT, 1);
            d.publish(0);
        }),
        QueueError::BadIndirect
    );
    // An indirect table looping on itself.
    assert_eq!(
        pop_error(|d| {
            d.desc_at(table, 0, BUFFERS, 1, DESC_F_NEXT, 1);
            d.desc_at(table, 1, BUFFERS, 1, DESC_F_NEXT, 0);
            d.desc(0, table, 32, DESC_F_INDIRECT, 0);
            d.publish(0);
        }),
        QueueError::ChainTooLong
    );
    // The available index jumps ahead.
    let mut d = Driver::new();
    d.memory.write_u16(AVAIL + 2, SIZE + 1).unwrap();
    assert_eq!(
        queue().pop(&d.memory, true),
        Err(QueueError::IndexJump {
            avail: SIZE + 1,
            expected: 0
        })
    );
}

#[test]
fn rings_must_be_aligned_and_in_ram() {
    let d = Driver::new();
    let mut q = queue();
    q.used = BASE + 0x10000 - 8;
    assert_eq!(q.pop(&d.memory, true), Err(QueueError::RingOutsideRam));
    let mut q = queue();
    q.desc = DESC + 8;
    assert_eq!(q.pop(&d.memory, true), Err(QueueError::RingOutsideRam));
    let mut q = queue();
    q.size = 3;
    assert_eq!(q.pop(&d.memory, true), Err(QueueError::BadSize(3)));
    q.size = MAX_QUEUE_SIZE * 2;
    assert_eq!(
        q.pop(&d.memory, true),
        Err(QueueError::BadSize(MAX_QUEUE_SIZE * 2))
    );
}

/// A backend that gives back every chain on queue 0 with nothing written, and counts them.
#[derive(Default)]
struct Sink {
    taken: usize,
    resets: usize,
}

impl Backend for Sink {
    fn device_id(&self) -> u32 {
        device_id::CONSOLE
    }
    fn device_features(&self) -> u64 {
        1
    }
    fn queue_count(&self) -> u16 {
        2
    }
    fn config(&self) -> &[u8] {
        &[0x50, 0, 0x19, 0, 1, 0, 0, 0]
    }
    fn reset(&mut self) {
        self.resets += 1;
    }
    fn on_notify(&mut self, queue: u16, access: &mut QueueAccess<'_>) -> Result<(), QueueError> {
        while let Some(chain) = access.pop(queue)? {
            self.taken += 1;
            access.push_used(queue, &chain, 0)?;
        }
        Ok(())
    }
}

fn rd(t: &mut Transport<Sink>, offset: u64, width: AccessWidth) -> u64 {
    perform(
        t,
        DeviceAccess {
            offset,
            width,
            vcpu: 0,
        },
        None,
        &mut DeviceEffects::new(),
    )
    .unwrap()
}

fn wr(t: &mut Transport<Sink>, offset: u64, value: u64) {
    perform(
        t,
        DeviceAccess {
            offset,
            width: AccessWidth::Word,
            vcpu: 0,
        },
        Some(value),
        &mut DeviceEffects::new(),
    )
    .unwrap();
}

fn r(t: &mut Transport<Sink>, offset: u64) -> u64 {
    rd(t, offset, AccessWidth::Word)
}

/// Brings a device up as Linux's virtio_mmio does, with queue 0 at the test rings.
fn bring_up(t: &mut Transport<Sink>, features: u64) -> u32 {
    wr(t, reg::STATUS, 0);
    wr(t, reg::STATUS, u64::from(status::ACKNOWLEDGE));
    wr(
        t,
        reg::STATUS,
        u64::from(status::ACKNOWLEDGE | status::DRIVER),
    );
    wr(t, reg::DRIVER_FEATURES_SEL, 0);
    wr(t, reg::DRIVER_FEATURES, features & 0xffff_ffff);
    wr(t, reg::DRIVER_FEATURES_SEL, 1);
    wr(t, reg::DRIVER_FEATURES, features >> 32);
    wr(
        t,
        reg::STATUS,
        u64::from(status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK),
    );
    if r(t, reg::STATUS) as u32 & status::FEATURES_OK == 0 {
        return r(t, reg::STATUS) as u32;
    }
    wr(t, reg::QUEUE_SEL, 0);
    assert_eq!(r(t, reg::QUEUE_NUM_MAX), u64::from(MAX_QUEUE_SIZE));
    wr(t, reg::QUEUE_NUM, u64::from(SIZE));
    wr(t, reg::QUEUE_DESC_LOW, DESC & 0xffff_ffff);
    wr(t, reg::QUEUE_DESC_HIGH, DESC >> 32);
    wr(t, reg::QUEUE_DRIVER_LOW, AVAIL & 0xffff_ffff);
    wr(t, reg::QUEUE_DEVICE_LOW, USED & 0xffff_ffff);
    wr(t, reg::QUEUE_READY, 1);
    wr(
        t,
        reg::STATUS,
        u64::from(status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK | status::DRIVER_OK),
    );
    r(t, reg::STATUS) as u32
}

#[test]
fn the_transport_identifies_itself_and_offers_version_1_without_access_platform() {
    let mut t = Transport::new(Sink::default());
    assert_eq!(r(&mut t, reg::MAGIC), u64::from(MAGIC));
    assert_eq!(r(&mut t, reg::VERSION), 2);
    assert_eq!(r(&mut t, reg::DEVICE_ID), 3);
    wr(&mut t, reg::DEVICE_FEATURES_SEL, 1);
    let high = r(&mut t, reg::DEVICE_FEATURES);
    assert_eq!(high & 1, 1, "VERSION_1");
    assert_eq!(high & 2, 0, "no ACCESS_PLATFORM");
    // Configuration space at any width.
    assert_eq!(rd(&mut t, reg::CONFIG, AccessWidth::Half), 0x50);
    assert_eq!(rd(&mut t, reg::CONFIG + 2, AccessWidth::Byte), 0x19);
    assert_eq!(rd(&mut t, reg::CONFIG + 4, AccessWidth::Word), 1);
    assert_eq!(rd(&mut t, reg::CONFIG + 0x40, AccessWidth::Word), 0);
    // Registers only as words.
    let half = DeviceAccess {
        offset: reg::STATUS,
        width: AccessWidth::Half,
        vcpu: 0,
    };
    assert!(crate::devices::MmioDevice::read(&mut t, half).is_err());
}

#[test]
fn features_ok_needs_version_1_and_only_offered_bits() {
    let mut t = Transport::new(Sink::default());
    assert_eq!(bring_up(&mut t, 1) & status::FEATURES_OK, 0);
    assert_eq!(
        bring_up(&mut t, F_VERSION_1 | 1 << 40) & status::FEATURES_OK,
        0
    );
    let s = bring_up(&mut t, F_VERSION_1 | 1);
    assert_ne!(s & status::DRIVER_OK, 0);
    assert_eq!(t.features(), F_VERSION_1 | 1);
}

#[test]
fn a_notify_runs_the_backend_and_interrupts_the_driver() {
    let mut d = Driver::new();
    let mut t = Transport::new(Sink::default());
    bring_up(&mut t, F_VERSION_1);
    d.desc(0, BUFFERS, 4, 0, 0);
    d.publish(0);
    d.publish(0);
    wr(&mut t, reg::QUEUE_NOTIFY, 0);
    assert!(t.has_notifications());
    assert!(t.service(&mut d.memory));
    assert_eq!(t.backend.taken, 2);
    assert_eq!(d.used_idx(), 2);
    assert_eq!(r(&mut t, reg::INTERRUPT_STATUS), u64::from(INT_USED_BUFFER));
    wr(&mut t, reg::INTERRUPT_ACK, u64::from(INT_USED_BUFFER));
    assert_eq!(r(&mut t, reg::INTERRUPT_STATUS), 0);
    // Queue registers are frozen while ready; a notify of a queue that does not exist is
    // ignored.
    wr(&mut t, reg::QUEUE_DESC_LOW, 0x1234);
    wr(&mut t, reg::QUEUE_NOTIFY, 7);
    assert!(!t.has_notifications());
}

#[test]
fn a_malformed_queue_needs_reset_until_the_driver_resets() {
    let mut d = Driver::new();
    let mut t = Transport::new(Sink::default());
    bring_up(&mut t, F_VERSION_1);
    d.desc(0, BUFFERS, 1, DESC_F_NEXT, 0);
    d.publish(0);
    wr(&mut t, reg::QUEUE_NOTIFY, 0);
    assert!(t.service(&mut d.memory));
    let s = r(&mut t, reg::STATUS) as u32;
    assert_ne!(s & status::DEVICE_NEEDS_RESET, 0);
    assert_ne!(
        r(&mut t, reg::INTERRUPT_STATUS) as u32 & INT_CONFIG_CHANGE,
        0
    );
    assert_eq!(t.last_error, Some(QueueError::ChainTooLong));
    // The driver cannot clear it by writing status; notifications are ignored.
    wr(
        &mut t,
        reg::STATUS,
        u64::from(s & !status::DEVICE_NEEDS_RESET),
    );
    assert_ne!(
        r(&mut t, reg::STATUS) as u32 & status::DEVICE_NEEDS_RESET,
        0
    );
    wr(&mut t, reg::QUEUE_NOTIFY, 0);
    assert!(!t.service(&mut d.memory));
    // A reset brings it back.
    let resets = t.backend.resets;
    assert_ne!(bring_up(&mut t, F_VERSION_1) & status::DRIVER_OK, 0);
    assert_eq!(t.backend.resets, resets + 1);
    assert_eq!(
        r(&mut t, reg::STATUS) as u32 & status::DEVICE_NEEDS_RESET,
        0
    );
}
