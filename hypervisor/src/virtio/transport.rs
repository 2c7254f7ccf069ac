//! The virtio-mmio transport, version 2 (virtio 1.2 §4.2.2), as a pure register model: one
//! device window per virtio device. Modern interface only: VIRTIO_F_VERSION_1 must be
//! accepted (else FEATURES_OK does not stick), VIRTIO_F_ACCESS_PLATFORM is never offered (the
//! hypervisor sees the whole partition RAM, so the driver needs no DMA API).
//!
//! A store to QueueNotify only records the queue; the caller then runs [`Transport::service`]
//! with the partition's [`GuestMemory`], which calls the backend and says whether to raise the
//! device's interrupt (a purely virtual SPI in the partition's vGIC). A malformed queue sets
//! DEVICE_NEEDS_RESET and raises a configuration-change interrupt; until the driver resets the
//! device (Status = 0), its notifications are ignored.

use super::backend::{Backend, QueueAccess, MAX_QUEUES};
use super::guest_memory::GuestMemory;
use super::queue::{Queue, QueueError, MAX_QUEUE_SIZE};
use super::{status, F_INDIRECT_DESC, F_VERSION_1};
use crate::devices::{AccessWidth, DeviceAccess, DeviceEffects, MmioDevice, MmioFault};

/// Register offsets of the virtio-mmio version 2 layout.
pub mod reg {
    /// "virt".
    pub const MAGIC: u64 = 0x000;
    /// 2: the modern layout.
    pub const VERSION: u64 = 0x004;
    /// The virtio device ID.
    pub const DEVICE_ID: u64 = 0x008;
    /// The vendor ID.
    pub const VENDOR_ID: u64 = 0x00c;
    /// 32 offered feature bits, chosen by DEVICE_FEATURES_SEL.
    pub const DEVICE_FEATURES: u64 = 0x010;
    /// Which 32 bits DEVICE_FEATURES shows.
    pub const DEVICE_FEATURES_SEL: u64 = 0x014;
    /// 32 accepted feature bits, chosen by DRIVER_FEATURES_SEL.
    pub const DRIVER_FEATURES: u64 = 0x020;
    /// Which 32 bits DRIVER_FEATURES sets.
    pub const DRIVER_FEATURES_SEL: u64 = 0x024;
    /// Which queue the queue registers address.
    pub const QUEUE_SEL: u64 = 0x030;
    /// The largest size of the selected queue (0: no such queue).
    pub const QUEUE_NUM_MAX: u64 = 0x034;
    /// The selected queue's size.
    pub const QUEUE_NUM: u64 = 0x038;
    /// The selected queue is ready.
    pub const QUEUE_READY: u64 = 0x044;
    /// A queue index: the driver has new buffers there.
    pub const QUEUE_NOTIFY: u64 = 0x050;
    /// Bit 0: used buffer; bit 1: configuration change.
    pub const INTERRUPT_STATUS: u64 = 0x060;
    /// Clears the InterruptStatus bits written.
    pub const INTERRUPT_ACK: u64 = 0x064;
    /// The device status; writing 0 resets the device.
    pub const STATUS: u64 = 0x070;
    /// The selected queue's descriptor table, low and high halves.
    pub const QUEUE_DESC_LOW: u64 = 0x080;
    /// High half.
    pub const QUEUE_DESC_HIGH: u64 = 0x084;
    /// The selected queue's available ring.
    pub const QUEUE_DRIVER_LOW: u64 = 0x090;
    /// High half.
    pub const QUEUE_DRIVER_HIGH: u64 = 0x094;
    /// The selected queue's used ring.
    pub const QUEUE_DEVICE_LOW: u64 = 0x0a0;
    /// High half.
    pub const QUEUE_DEVICE_HIGH: u64 = 0x0a4;
    /// Shared memory region select (no regions: the length reads as all ones).
    pub const SHM_SEL: u64 = 0x0ac;
    /// Shared memory region length, low half.
    pub const SHM_LEN_LOW: u64 = 0x0b0;
    /// High half.
    pub const SHM_LEN_HIGH: u64 = 0x0b4;
    /// Shared memory region base, low half.
    pub const SHM_BASE_LOW: u64 = 0x0b8;
    /// High half.
    pub const SHM_BASE_HIGH: u64 = 0x0bc;
    /// Changes each time the configuration space changes.
    pub const CONFIG_GENERATION: u64 = 0x0fc;
    /// The device-specific configuration space.
    pub const CONFIG: u64 = 0x100;
}

/// "virt", little-endian.
pub const MAGIC: u32 = 0x7472_6976;
/// The vendor ID devices report ("BLKH").
pub const VENDOR_ID: u32 = 0x484b_4c42;
/// InterruptStatus: a used buffer was published.
pub const INT_USED_BUFFER: u32 = 1;
/// InterruptStatus: the configuration (or the device status) changed.
pub const INT_CONFIG_CHANGE: u32 = 2;

/// A virtio-mmio device: the transport's registers around a backend.
#[derive(Debug)]
pub struct Transport<B> {
    /// The device model.
    pub backend: B,
    status: u32,
    device_features_sel: u32,
    driver_features_sel: u32,
    driver_features: u64,
    queue_sel: u32,
    queues: [Queue; MAX_QUEUES],
    interrupt_status: u32,
    config_generation: u32,
    notified: u32,
    /// Why the device last went to DEVICE_NEEDS_RESET (for the partition's report).
    pub last_error: Option<QueueError>,
}

impl<B: Backend> Transport<B> {
    /// A device at reset.
    pub fn new(backend: B) -> Self {
        Transport {
            backend,
            status: 0,
            device_features_sel: 0,
            driver_features_sel: 0,
            driver_features: 0,
            queue_sel: 0,
            queues: [Queue::new(); MAX_QUEUES],
            interrupt_status: 0,
            config_generation: 0,
            notified: 0,
            last_error: None,
        }
    }

    /// The features offered: the backend's and the transport's own.
    pub fn device_features(&self) -> u64 {
        self.backend.device_features() | F_VERSION_1 | F_INDIRECT_DESC
    }

    /// The features negotiated (valid once FEATURES_OK is set).
    pub fn features(&self) -> u64 {
        self.driver_features
    }

    /// The device status register.
    pub fn status(&self) -> u32 {
        self.status
    }

    /// The InterruptStatus register.
    pub fn interrupt_status(&self) -> u32 {
        self.interrupt_status
    }

    /// Whether the driver is running the device (DRIVER_OK and not NEEDS_RESET).
    pub fn is_live(&self) -> bool {
        self.status & status::DRIVER_OK != 0 && self.status & status::DEVICE_NEEDS_RESET == 0
    }

    fn queue_count(&self) -> usize {
        usize::from(self.backend.queue_count()).min(MAX_QUEUES)
    }

    fn selected(&mut self) -> Option<&mut Queue> {
        let count = self.queue_count();
        let index = usize::try_from(self.queue_sel)
            .ok()
            .filter(|&i| i < count)?;
        self.queues.get_mut(index)
    }

    /// Resets the device as a write of 0 to Status does.
    pub fn reset(&mut self) {
        self.status = 0;
        self.device_features_sel = 0;
        self.driver_features_sel = 0;
        self.driver_features = 0;
        self.queue_sel = 0;
        self.queues = [Queue::new(); MAX_QUEUES];
        self.interrupt_status = 0;
        self.notified = 0;
        self.backend.reset();
    }

    /// Marks the device broken: DEVICE_NEEDS_RESET and a configuration-change interrupt.
    /// Returns true (the interrupt to raise).
    pub fn fail(&mut self, error: QueueError) -> bool {
        self.last_error = Some(error);
        self.status |= status::DEVICE_NEEDS_RESET;
        self.interrupt_status |= INT_CONFIG_CHANGE;
        true
    }

    /// Records a configuration-space change (the backend's config changed): a new generation
    /// and an interrupt. Returns true (the interrupt to raise).
    pub fn config_changed(&mut self) -> bool {
        self.config_generation = self.config_generation.wrapping_add(1);
        self.interrupt_status |= INT_CONFIG_CHANGE;
        true
    }

    /// Runs `work` on the backend with its queues and `memory`; a used buffer raises the used
    /// interrupt, an error NEEDS_RESET. Returns whether to raise the device's interrupt.
    /// Nothing happens unless the device is live.
    pub fn with_queues(
        &mut self,
        memory: &mut dyn GuestMemory,
        work: impl FnOnce(&mut B, &mut QueueAccess<'_>) -> Result<(), QueueError>,
    ) -> bool {
        if !self.is_live() {
            return false;
        }
        let count = self.queue_count();
        let features = self.driver_features;
        let (backend, queues) = (&mut self.backend, &mut self.queues);
        let mut access = QueueAccess {
            queues: queues.get_mut(..count).unwrap_or_default(),
            memory,
            features,
            used: false,
        };
        let result = work(backend, &mut access);
        let used = access.used;
        if used {
            self.interrupt_status |= INT_USED_BUFFER;
        }
        match result {
            Ok(()) => used,
            Err(error) => self.fail(error),
        }
    }

    /// Handles the queues notified since the last call. Returns whether to raise the
    /// device's interrupt.
    pub fn service(&mut self, memory: &mut dyn GuestMemory) -> bool {
        let notified = core::mem::take(&mut self.notified);
        let mut raise = false;
        for queue in 0..MAX_QUEUES as u16 {
            if notified & (1 << queue) != 0 {
                raise |=
                    self.with_queues(memory, |backend, access| backend.on_notify(queue, access));
            }
        }
        raise
    }

    /// Whether notifications wait for [`Transport::service`].
    pub fn has_notifications(&self) -> bool {
        self.notified != 0
    }

    fn write_status(&mut self, value: u32) {
        if value == 0 {
            self.reset();
            return;
        }
        // The driver may not clear bits or set NEEDS_RESET; a FEATURES_OK the features do not
        // allow does not stick.
        let mut value = (value | self.status) & !status::DEVICE_NEEDS_RESET;
        value |= self.status & status::DEVICE_NEEDS_RESET;
        if value & status::FEATURES_OK != 0 && self.status & status::FEATURES_OK == 0 {
            let offered = self.device_features();
            let ok =
                self.driver_features & F_VERSION_1 != 0 && self.driver_features & !offered == 0;
            if !ok {
                value &= !status::FEATURES_OK;
            }
        }
        if value & status::DRIVER_OK != 0 && value & status::FEATURES_OK == 0 {
            value &= !status::DRIVER_OK;
        }
        let activated = value & status::DRIVER_OK != 0 && self.status & status::DRIVER_OK == 0;
        self.status = value;
        if activated {
            self.backend.activate(self.driver_features);
        }
    }

    fn read_register(&mut self, offset: u64) -> u32 {
        let sel = self.device_features_sel;
        match offset {
            reg::MAGIC => MAGIC,
            reg::VERSION => 2,
            reg::DEVICE_ID => self.backend.device_id(),
            reg::VENDOR_ID => VENDOR_ID,
            reg::DEVICE_FEATURES => match sel {
                0 => self.device_features() as u32,
                1 => (self.device_features() >> 32) as u32,
                _ => 0,
            },
            reg::QUEUE_NUM_MAX => self.selected().map_or(0, |_| u32::from(MAX_QUEUE_SIZE)),
            reg::QUEUE_READY => self.selected().map_or(0, |q| u32::from(q.ready)),
            reg::INTERRUPT_STATUS => self.interrupt_status,
            reg::STATUS => self.status,
            reg::SHM_LEN_LOW | reg::SHM_LEN_HIGH => u32::MAX,
            reg::CONFIG_GENERATION => self.config_generation,
            _ => 0,
        }
    }

    fn write_register(&mut self, offset: u64, value: u32) {
        let features_open = self.status & status::FEATURES_OK == 0;
        match offset {
            reg::DEVICE_FEATURES_SEL => self.device_features_sel = value,
            reg::DRIVER_FEATURES_SEL => self.driver_features_sel = value,
            reg::DRIVER_FEATURES if features_open => {
                let value = u64::from(value);
                match self.driver_features_sel {
                    0 => self.driver_features = (self.driver_features & !0xffff_ffff) | value,
                    1 => {
                        self.driver_features = (self.driver_features & 0xffff_ffff) | (value << 32)
                    }
                    _ => {}
                }
            }
            reg::QUEUE_SEL => self.queue_sel = value,
            reg::QUEUE_NOTIFY => {
                if usize::try_from(value).is_ok_and(|q| q < self.queue_count()) && self.is_live() {
                    self.notified |= 1 << value;
                }
            }
            reg::INTERRUPT_ACK => self.interrupt_status &= !value,
            reg::STATUS => self.write_status(value),
            _ => self.write_queue_register(offset, value),
        }
    }

    fn write_queue_register(&mut self, offset: u64, value: u32) {
        let Some(queue) = self.selected() else {
            return;
        };
        let set_low = |field: &mut u64| *field = (*field & !0xffff_ffff) | u64::from(value);
        let set_high = |field: &mut u64| *field = (*field & 0xffff_ffff) | (u64::from(value) << 32);
        match offset {
            reg::QUEUE_READY => {
                queue.ready = value & 1 != 0;
                if !queue.ready {
                    queue.next_avail = 0;
                    queue.next_used = 0;
                }
            }
            // The rest may change only while the queue is not ready.
            _ if queue.ready => {}
            reg::QUEUE_NUM => queue.size = value.min(u32::from(u16::MAX)) as u16,
            reg::QUEUE_DESC_LOW => set_low(&mut queue.desc),
            reg::QUEUE_DESC_HIGH => set_high(&mut queue.desc),
            reg::QUEUE_DRIVER_LOW => set_low(&mut queue.avail),
            reg::QUEUE_DRIVER_HIGH => set_high(&mut queue.avail),
            reg::QUEUE_DEVICE_LOW => set_low(&mut queue.used),
            reg::QUEUE_DEVICE_HIGH => set_high(&mut queue.used),
            _ => {}
        }
    }

    fn config_window(&self, access: &DeviceAccess) -> Option<core::ops::Range<usize>> {
        let start = usize::try_from(access.offset.checked_sub(reg::CONFIG)?).ok()?;
        let end = start.checked_add(usize::from(access.width.bytes()))?;
        (end <= self.backend.config().len()).then_some(start..end)
    }
}

impl<B: Backend> MmioDevice for Transport<B> {
    fn read(&mut self, access: DeviceAccess) -> Result<u64, MmioFault> {
        if access.offset >= reg::CONFIG {
            // Configuration space: any width; outside the backend's bytes reads as zero.
            let Some(range) = self.config_window(&access) else {
                return Ok(0);
            };
            let mut bytes = [0u8; 8];
            if let (Some(dst), Some(src)) = (
                bytes.get_mut(..range.len()),
                self.backend.config().get(range),
            ) {
                dst.copy_from_slice(src);
            }
            return Ok(u64::from_le_bytes(bytes));
        }
        if access.width != AccessWidth::Word {
            return Err(MmioFault::Width);
        }
        Ok(u64::from(self.read_register(access.offset)))
    }

    fn write(
        &mut self,
        access: DeviceAccess,
        value: u64,
        _effects: &mut DeviceEffects,
    ) -> Result<(), MmioFault> {
        if access.offset >= reg::CONFIG {
            if let Some(range) = self.config_window(&access) {
                let bytes = value.to_le_bytes();
                if let Some(data) = bytes.get(..range.len()) {
                    self.backend.write_config(range.start, data);
                }
            }
            return Ok(());
        }
        if access.width != AccessWidth::Word {
            return Err(MmioFault::Width);
        }
        self.write_register(access.offset, value as u32);
        Ok(())
    }
}
