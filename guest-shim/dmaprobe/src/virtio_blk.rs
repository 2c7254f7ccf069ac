//! A virtio-blk-pci function driven by one request at a time (virtio 1.2: 4.1 the PCI transport,
//! 2.7 split virtqueues, 5.2 the block device), with the data buffer at any address the caller
//! names. A driver of our own, not virtio-drivers': the point is to hand the device addresses no
//! kernel driver would, and to see exactly what the device did with them.

use std::sync::atomic::{fence, Ordering};
use std::time::{Duration, Instant};

use crate::caps::VirtioCaps;
use crate::pci::{Bar, Function};
use crate::pinned::PinnedPage;

// The common configuration structure (4.1.4.3), offsets in its region.
const DEVICE_FEATURE_SELECT: u64 = 0;
const DEVICE_FEATURE: u64 = 4;
const DRIVER_FEATURE_SELECT: u64 = 8;
const DRIVER_FEATURE: u64 = 12;
const DEVICE_STATUS: u64 = 20;
const QUEUE_SELECT: u64 = 22;
const QUEUE_SIZE: u64 = 24;
const QUEUE_ENABLE: u64 = 28;
const QUEUE_NOTIFY_OFF: u64 = 30;
const QUEUE_DESC: u64 = 32;
const QUEUE_DRIVER: u64 = 40;
const QUEUE_DEVICE: u64 = 48;

// Device status bits (2.1).
const ACKNOWLEDGE: u8 = 1;
const DRIVER: u8 = 2;
const DRIVER_OK: u8 = 4;
const FEATURES_OK: u8 = 8;
/// DEVICE_NEEDS_RESET: the device met an error it cannot recover from without a reset.
pub const NEEDS_RESET: u8 = 0x40;

/// VIRTIO_F_VERSION_1 and VIRTIO_F_ACCESS_PLATFORM, in the high feature word (bits 32, 33).
const VERSION_1: u32 = 1 << 0;
const ACCESS_PLATFORM: u32 = 1 << 1;

// Descriptor flags (2.7.5).
const NEXT: u16 = 1;
const WRITE: u16 = 2;
/// VIRTQ_AVAIL_F_NO_INTERRUPT: this driver polls.
const NO_INTERRUPT: u16 = 1;

/// VIRTIO_BLK_T_IN (the device writes the sector into the buffer) and _OUT (it reads the buffer
/// and writes the sector).
pub const T_IN: u32 = 0;
/// See [`T_IN`].
pub const T_OUT: u32 = 1;
/// The sector size of a virtio-blk request.
pub const SECTOR: u32 = 512;

/// The queue size this driver uses (a power of two; three descriptors per request).
const QUEUE_LEN: u16 = 4;
// Where the queue's parts sit in the ring page.
const DESC: usize = 0x000;
const AVAIL: usize = 0x100;
const USED: usize = 0x200;
const HEADER: usize = 0x400;
const STATUS: usize = 0x410;

/// What became of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The device used the chain: its status byte (0 = VIRTIO_BLK_S_OK).
    Completed(u8),
    /// The device set DEVICE_NEEDS_RESET instead.
    NeedsReset,
    /// Neither happened within the wait.
    TimedOut,
}

/// The function, its two regions mapped, and the queue's page.
pub struct VirtioBlk {
    common: Bar,
    common_offset: u64,
    notify: Bar,
    notify_base: u64,
    notify_multiplier: u64,
    /// Queue 0's notification address in its BAR (known once the queue is set up).
    notify_offset: u64,
    ring: PinnedPage,
}

impl VirtioBlk {
    /// Maps `function`'s common configuration and notification area (found by `caps`).
    pub fn new(function: &Function, caps: &VirtioCaps) -> Result<Self, String> {
        function.enable()?;
        Ok(VirtioBlk {
            common: function.map_bar(caps.common.bar)?,
            common_offset: u64::from(caps.common.offset),
            notify: function.map_bar(caps.notify.bar)?,
            notify_base: u64::from(caps.notify.offset),
            notify_multiplier: u64::from(caps.notify_multiplier),
            notify_offset: 0,
            ring: PinnedPage::new()?,
        })
    }

    /// A common-configuration register (0 if the region's BAR is too short for it).
    fn reg<T: Copy + Default>(&self, register: u64) -> T {
        self.common
            .read(self.common_offset + register)
            .unwrap_or_default()
    }

    /// Writes a common-configuration register.
    fn set<T: Copy>(&self, register: u64, value: T) {
        self.common.write(self.common_offset + register, value);
    }

    fn write64(&self, register: u64, value: u64) {
        // 64-bit fields are written as two 32-bit halves, low first (4.1.3.1).
        self.set::<u32>(register, value as u32);
        self.set::<u32>(register + 4, (value >> 32) as u32);
    }

    /// The device's status register (0xff if it cannot be read: never a valid status).
    pub fn status(&self) -> u8 {
        self.common
            .read(self.common_offset + DEVICE_STATUS)
            .unwrap_or(0xff)
    }

    /// Resets the device and waits for the reset to finish (4.1.4.3.2).
    pub fn reset(&self) -> Result<(), String> {
        self.set::<u8>(DEVICE_STATUS, 0);
        let start = Instant::now();
        while self.status() != 0 {
            if start.elapsed() > Duration::from_secs(1) {
                return Err("the device does not reset".into());
            }
        }
        Ok(())
    }

    /// Initialises the device (3.1.1) with queue 0 in the ring page.
    fn setup(&mut self) -> Result<(), String> {
        self.reset()?;
        self.set::<u8>(DEVICE_STATUS, ACKNOWLEDGE);
        self.set::<u8>(DEVICE_STATUS, ACKNOWLEDGE | DRIVER);
        self.set::<u32>(DEVICE_FEATURE_SELECT, 1);
        let high = self.reg::<u32>(DEVICE_FEATURE);
        if high & VERSION_1 == 0 {
            return Err("the device is not a modern (virtio 1) device".into());
        }
        // Without ACCESS_PLATFORM a device offering it refuses FEATURES_OK; with it, its DMA
        // goes through the platform's IOMMU, here the hypervisor's SMMU.
        self.set::<u32>(DRIVER_FEATURE_SELECT, 0);
        self.set::<u32>(DRIVER_FEATURE, 0);
        self.set::<u32>(DRIVER_FEATURE_SELECT, 1);
        self.set::<u32>(DRIVER_FEATURE, high & (VERSION_1 | ACCESS_PLATFORM));
        self.set::<u8>(DEVICE_STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK);
        if self.status() & FEATURES_OK == 0 {
            return Err("the device refused the features".into());
        }
        self.set::<u16>(QUEUE_SELECT, 0);
        let max = self.reg::<u16>(QUEUE_SIZE);
        if max < QUEUE_LEN {
            return Err(format!("queue 0 holds {max} descriptors"));
        }
        self.set::<u16>(QUEUE_SIZE, QUEUE_LEN);
        // SAFETY: the ring page is this driver's, a page long; the queue parts lie inside it.
        unsafe { self.ring.ptr().write_bytes(0, HEADER + 16) };
        // SAFETY: AVAIL is inside the page and 2-byte aligned.
        unsafe { volatile_write(self.ring.ptr().add(AVAIL).cast::<u16>(), NO_INTERRUPT) };
        let base = self.ring.physical();
        self.write64(QUEUE_DESC, base + DESC as u64);
        self.write64(QUEUE_DRIVER, base + AVAIL as u64);
        self.write64(QUEUE_DEVICE, base + USED as u64);
        let notify_off = u64::from(self.reg::<u16>(QUEUE_NOTIFY_OFF));
        self.notify_offset = self.notify_base + notify_off * self.notify_multiplier;
        self.set::<u16>(QUEUE_ENABLE, 1);
        self.set::<u8>(
            DEVICE_STATUS,
            ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK,
        );
        Ok(())
    }

    /// Sets the device up, submits one request of `kind` for `sector` with its 512-byte data
    /// buffer at physical address `data`, and waits up to `wait` for what the device does.
    pub fn request(
        &mut self,
        kind: u32,
        sector: u64,
        data: u64,
        wait: Duration,
    ) -> Result<Outcome, String> {
        self.setup()?;
        let ring = self.ring.ptr();
        let base = self.ring.physical();
        let data_flags = if kind == T_IN { WRITE | NEXT } else { NEXT };
        let chain = [
            (base + HEADER as u64, 16, NEXT, 1u16),
            (data, SECTOR, data_flags, 2),
            (base + STATUS as u64, 1, WRITE, 0),
        ];
        // SAFETY: every write below is inside the ring page (offsets fixed above, aligned to
        // their width); the device reads them only after the avail index is published.
        unsafe {
            volatile_write(ring.add(HEADER).cast::<u32>(), kind);
            volatile_write(ring.add(HEADER + 8).cast::<u64>(), sector);
            volatile_write(ring.add(STATUS), 0xff);
            for (i, (addr, len, flags, next)) in chain.into_iter().enumerate() {
                let d = ring.add(DESC + 16 * i);
                volatile_write(d.cast::<u64>(), addr);
                volatile_write(d.add(8).cast::<u32>(), len);
                volatile_write(d.add(12).cast::<u16>(), flags);
                volatile_write(d.add(14).cast::<u16>(), next);
            }
            volatile_write(ring.add(AVAIL + 4).cast::<u16>(), 0); // ring[0] = head 0
            fence(Ordering::SeqCst);
            volatile_write(ring.add(AVAIL + 2).cast::<u16>(), 1); // idx = 1
            fence(Ordering::SeqCst);
        }
        self.notify.write::<u16>(self.notify_offset, 0);
        let start = Instant::now();
        loop {
            // SAFETY: USED + 2 is inside the ring page, 2-byte aligned.
            let used = unsafe { ring.add(USED + 2).cast::<u16>().read_volatile() };
            if used == 1 {
                fence(Ordering::SeqCst);
                // SAFETY: STATUS is inside the ring page.
                let status = unsafe { ring.add(STATUS).read_volatile() };
                return Ok(Outcome::Completed(status));
            }
            if self.status() & NEEDS_RESET != 0 {
                return Ok(Outcome::NeedsReset);
            }
            if start.elapsed() > wait {
                return Ok(Outcome::TimedOut);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// # Safety
/// `at` must be valid for a write of `T` and aligned.
unsafe fn volatile_write<T>(at: *mut T, value: T) {
    // SAFETY: guaranteed by the caller.
    unsafe { at.write_volatile(value) }
}
