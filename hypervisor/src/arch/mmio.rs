//! The hypervisor's own devices' register blocks (`tock-registers` structures): where each one's
//! base address comes from, and the checks that make handing out a reference to it sound.
//!
//! A block is reached in one of two ways:
//! - [`claim`]: once, for a base address from the device tree, after this CPU's EL2 translation
//!   was asked (AT S1E2W) whether the whole block is mapped, identity and as device memory;
//! - [`Frame`]: a base that an `unsafe` initialiser with that contract stored (the GIC, whose
//!   frames the exception vectors also read).

use core::marker::PhantomData;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use aarch64_cpu::registers::{Readable, PAR_EL1};

/// PAR_EL1.ATTR, bits [63:56]: the MAIR encoding of the translated address' memory type.
const PAR_ATTR_SHIFT: u64 = 56;
/// PAR_EL1.ATTR[7:4] = 0b0000: Device memory (any of nGnRnE, nGnRE, nGRE, GRE).
const PAR_ATTR_DEVICE_MASK: u64 = 0xf0;
/// The translation granule checked: every 4 KiB page of a block.
const PAGE: u64 = 4096;

/// Whether `va` is mapped at EL2 to the same physical address, as device memory and writable.
/// With the MMU off every address is (AT reports the flat, Device-nGnRnE view).
fn is_identity_device(va: u64) -> bool {
    // SAFETY: AT S1E2W only walks this CPU's EL2 tables and writes PAR_EL1, which is a guest's
    // register: claims run at boot, before any guest runs on this CPU.
    unsafe {
        core::arch::asm!("at s1e2w, {va}", "isb", va = in(reg) va, options(nostack, preserves_flags))
    };
    let par = PAR_EL1.get();
    let fault = par & 1 != 0;
    let pa = par & 0x0000_ffff_ffff_f000;
    let attr = (par >> PAR_ATTR_SHIFT) & 0xff;
    !fault && pa == va & !(PAGE - 1) && attr & PAR_ATTR_DEVICE_MASK == 0
}

/// Whether `[base, base + size)` is mapped identity, device and writable at EL2, page by page.
fn is_device_window(base: u64, size: u64) -> bool {
    let Some(end) = base.checked_add(size) else {
        return false;
    };
    let mut page = base & !(PAGE - 1);
    while page < end {
        if !is_identity_device(page) {
            return false;
        }
        page += PAGE;
    }
    true
}

/// Hands out the register block `T` at `base` once: `None` if `claimed` is already set, `base`
/// is not aligned for `T`, or the block is not identity-mapped as device memory at EL2.
///
/// `T` must be a `register_structs!` block (only `tock-registers` cells, which access the device
/// with volatile reads and writes through shared references).
pub(super) fn claim<T>(base: u64, claimed: &'static AtomicBool) -> Option<&'static T> {
    let size = core::mem::size_of::<T>() as u64;
    if base == 0
        || !base.is_multiple_of(core::mem::align_of::<T>() as u64)
        || !is_device_window(base, size)
    {
        return None;
    }
    if claimed.swap(true, Ordering::AcqRel) {
        return None;
    }
    // SAFETY: the block is mapped as device memory for its whole size (checked above; the EL2
    // map never unmaps a device), aligned, and this is the only reference the hypervisor makes
    // to it (`claimed`). Its cells only do volatile accesses, so a shared reference is enough.
    Some(unsafe { &*(base as *const T) })
}

/// The base of a register block `T`, set once by an `unsafe` initialiser; 0 until then. The
/// layout is one `u64` (the exception vectors read some of these by symbol).
#[repr(transparent)]
pub struct Frame<T> {
    base: AtomicU64,
    _block: PhantomData<fn() -> T>,
}

impl<T> Frame<T> {
    /// A frame not set yet.
    pub const fn new() -> Self {
        Frame {
            base: AtomicU64::new(0),
            _block: PhantomData,
        }
    }

    /// Records the block's base.
    ///
    /// # Safety
    /// `base` must be a block of `T`'s registers, mapped as device memory at EL2 for the rest of
    /// the hypervisor's life, that the hypervisor drives only through this frame.
    pub unsafe fn set(&self, base: u64) {
        self.base.store(base, Ordering::Release);
    }

    /// The block's base address (0 if not set).
    pub fn base(&self) -> u64 {
        self.base.load(Ordering::Acquire)
    }

    /// The block, once set.
    pub fn get(&self) -> Option<&'static T> {
        let base = self.base();
        // SAFETY: only `set` stores a non-zero base, and its contract makes it a mapped block
        // of `T`'s registers that nothing else drives; `T`'s cells only do volatile accesses.
        (base != 0).then(|| unsafe { &*(base as *const T) })
    }
}
