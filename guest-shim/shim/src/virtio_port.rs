//! A virtio-console port 0 (virtio 1.2 §5.3), the serial link a partition's configuration may
//! give it, driven with the `virtio-drivers` crate (rcore-os): its virtio-mmio transport and
//! split virtqueues. Without VIRTIO_CONSOLE_F_MULTIPORT port 0 is queues 0 (receive) and 1
//! (transmit), so only the device bring-up and the two queues' use are written here.
//!
//! The guest is identity-mapped (its IPA is its address), so the DMA pool is a static array and
//! sharing a buffer is taking its address.

use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};

use virtio_drivers::queue::VirtQueue;
use virtio_drivers::transport::mmio::{MmioTransport, VirtIOHeader};
use virtio_drivers::transport::{DeviceStatus, Transport};
use virtio_drivers::{BufferDirection, Hal, PhysAddr, PAGE_SIZE};

/// Pages the DMA pool holds (the two queues' rings).
const POOL_PAGES: usize = 8;
/// Entries per queue.
const QUEUE_SIZE: usize = 4;
/// Bytes per receive buffer.
pub const RX_BUFFER: usize = 2048;
/// VIRTIO_F_VERSION_1.
const F_VERSION_1: u64 = 1 << 32;

#[repr(C, align(4096))]
struct Pool([u8; POOL_PAGES * PAGE_SIZE]);

static mut POOL: Pool = Pool([0; POOL_PAGES * PAGE_SIZE]);
static POOL_USED: AtomicUsize = AtomicUsize::new(0);

/// The shim's [`Hal`]: a bump allocator over a static pool; identity-mapped buffers.
pub struct ShimHal;

// SAFETY: dma_alloc hands out disjoint, zeroed, page-aligned pages of a static pool that
// nothing else references; addresses are identity-mapped, so physical equals virtual.
unsafe impl Hal for ShimHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        let start = POOL_USED.fetch_add(pages, Ordering::SeqCst);
        if start + pages > POOL_PAGES {
            return (0, NonNull::dangling());
        }
        let base = (&raw mut POOL).cast::<u8>();
        // SAFETY: start + pages is within the pool (checked above).
        let ptr = unsafe { base.add(start * PAGE_SIZE) };
        // SAFETY: the pages are this call's alone; zero them as the trait requires.
        unsafe { ptr.write_bytes(0, pages * PAGE_SIZE) };
        match NonNull::new(ptr) {
            Some(p) => (ptr as PhysAddr, p),
            None => (0, NonNull::dangling()),
        }
    }

    unsafe fn dma_dealloc(_paddr: PhysAddr, _vaddr: NonNull<u8>, _pages: usize) -> i32 {
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, _size: usize) -> NonNull<u8> {
        NonNull::new(paddr as *mut u8).unwrap_or(NonNull::dangling())
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        buffer.as_ptr().cast::<u8>() as PhysAddr
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {}
}

/// Why the port could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortError {
    /// No virtio-mmio device (bad magic or version) at the address.
    NoDevice,
    /// The device refused the features (FEATURES_OK did not stick).
    Features,
    /// A queue could not be set up.
    Queue,
    /// The device reports DEVICE_NEEDS_RESET.
    NeedsReset,
}

/// Port 0 of a virtio-console device.
pub struct SerialPort {
    transport: MmioTransport<'static>,
    rx: VirtQueue<ShimHal, QUEUE_SIZE>,
    tx: VirtQueue<ShimHal, QUEUE_SIZE>,
    rx_buffer: [u8; RX_BUFFER],
    rx_token: Option<u16>,
    /// Received bytes in `rx_buffer` not yet read: `cursor..pending`.
    cursor: usize,
    pending: usize,
}

impl SerialPort {
    /// Brings up the virtio-console device whose registers are at `base`.
    ///
    /// # Safety
    /// `base` must be the address of a virtio-mmio device window of at least 0x200 bytes that
    /// nothing else uses, and this is called once.
    pub unsafe fn new(base: usize) -> Result<Self, PortError> {
        let header = NonNull::new(base as *mut VirtIOHeader).ok_or(PortError::NoDevice)?;
        // SAFETY: the caller guarantees the window.
        let mut transport =
            unsafe { MmioTransport::new(header, 0x200) }.map_err(|_| PortError::NoDevice)?;
        transport.set_status(DeviceStatus::empty());
        transport.set_status(DeviceStatus::ACKNOWLEDGE | DeviceStatus::DRIVER);
        let offered = transport.read_device_features();
        transport.write_driver_features(offered & F_VERSION_1);
        transport.set_status(
            DeviceStatus::ACKNOWLEDGE | DeviceStatus::DRIVER | DeviceStatus::FEATURES_OK,
        );
        if !transport.get_status().contains(DeviceStatus::FEATURES_OK) {
            return Err(PortError::Features);
        }
        let rx = VirtQueue::new(&mut transport, 0, false, false).map_err(|_| PortError::Queue)?;
        let tx = VirtQueue::new(&mut transport, 1, false, false).map_err(|_| PortError::Queue)?;
        transport.set_status(
            DeviceStatus::ACKNOWLEDGE
                | DeviceStatus::DRIVER
                | DeviceStatus::FEATURES_OK
                | DeviceStatus::DRIVER_OK,
        );
        Ok(SerialPort {
            transport,
            rx,
            tx,
            rx_buffer: [0; RX_BUFFER],
            rx_token: None,
            cursor: 0,
            pending: 0,
        })
    }

    /// The device status register.
    pub fn status(&self) -> u32 {
        self.transport.get_status().bits()
    }

    fn check(&self) -> Result<(), PortError> {
        if self
            .transport
            .get_status()
            .contains(DeviceStatus::DEVICE_NEEDS_RESET)
        {
            return Err(PortError::NeedsReset);
        }
        Ok(())
    }

    /// Sends `data` (at most a page); waits until the device has taken it (the peer received
    /// it: the link holds a transmit buffer until then).
    pub fn write(&mut self, data: &[u8]) -> Result<(), PortError> {
        self.check()?;
        self.tx
            .add_notify_wait_pop(&[data], &mut [], &mut self.transport)
            .map(|_| ())
            .map_err(|_| self.check().err().unwrap_or(PortError::Queue))
    }

    /// Copies received bytes into `out`; 0 when none have arrived yet (never blocks).
    pub fn read(&mut self, out: &mut [u8]) -> Result<usize, PortError> {
        self.check()?;
        if self.cursor == self.pending {
            self.receive()?;
        }
        let n = (self.pending - self.cursor).min(out.len());
        if let (Some(dst), Some(src)) = (
            out.get_mut(..n),
            self.rx_buffer.get(self.cursor..self.cursor + n),
        ) {
            dst.copy_from_slice(src);
        }
        self.cursor += n;
        Ok(n)
    }

    /// Offers the receive buffer to the device, or takes it back filled.
    fn receive(&mut self) -> Result<(), PortError> {
        let Some(token) = self.rx_token else {
            // SAFETY: the buffer lives in `self` and stays untouched until popped below.
            let token = unsafe { self.rx.add(&[], &mut [&mut self.rx_buffer]) }
                .map_err(|_| PortError::Queue)?;
            self.rx_token = Some(token);
            if self.rx.should_notify() {
                self.transport.notify(0);
            }
            return Ok(());
        };
        if !self.rx.can_pop() {
            return Ok(());
        }
        // SAFETY: the same buffer as added for this token.
        let len = unsafe { self.rx.pop_used(token, &[], &mut [&mut self.rx_buffer]) }
            .map_err(|_| PortError::Queue)? as usize;
        self.rx_token = None;
        self.transport.ack_interrupt();
        self.cursor = 0;
        self.pending = len.min(RX_BUFFER);
        Ok(())
    }
}
