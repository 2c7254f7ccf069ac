//! The SMMUv3's register file and the memory its structures live in: the thin, `unsafe`-owning
//! side of the driver in `smmu::driver` (Arm IHI 0070).

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

use aarch64_cpu::asm::barrier;
use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::registers::ReadWrite;

use crate::smmu::driver::{SmmuMemory, SmmuPort};
use crate::smmu::registers::REGISTER_BYTES;

/// The SMMU's two 64 KiB register pages as 32-bit words (IHI 0070 6.2: every register is
/// reached with 32-bit accesses; a 64-bit one as two, low word first).
#[repr(C)]
pub struct Window {
    words: [ReadWrite<u32>; (REGISTER_BYTES / 4) as usize],
}

const _: () = assert!(core::mem::size_of::<Window>() as u64 == REGISTER_BYTES);

/// The SMMU at one base address, owned by its only driver.
pub struct SmmuMmio {
    window: &'static Window,
    /// SMMU_IDR0.COHACC: the SMMU snoops the CPUs' caches (no cleaning needed).
    coherent: bool,
}

impl SmmuMmio {
    /// The SMMU at `base`, the first time one is asked for, if its register file is mapped as
    /// device memory at EL2 (see [`super::mmio`]).
    pub fn claim(base: u64) -> Option<Self> {
        static CLAIMED: AtomicBool = AtomicBool::new(false);
        super::mmio::claim::<Window>(base, &CLAIMED).map(|window| SmmuMmio {
            window,
            coherent: false,
        })
    }

    /// Tells the port whether the SMMU is coherent with the CPUs' caches (SMMU_IDR0.COHACC);
    /// until then it cleans and invalidates around every shared structure.
    pub fn set_coherent(&mut self, coherent: bool) {
        self.coherent = coherent;
    }

    fn word(&self, offset: usize) -> Option<&ReadWrite<u32>> {
        self.window.words.get(offset / 4)
    }
}

// SAFETY: the handle is the only one to the SMMU's registers (`claim` hands it out once); the
// SMMU does not care which CPU accesses it, and its one user serialises accesses (a mutex).
unsafe impl Send for SmmuMmio {}

impl SmmuPort for SmmuMmio {
    fn read32(&mut self, offset: usize) -> u32 {
        self.word(offset).map_or(0, |w| w.get())
    }

    fn write32(&mut self, offset: usize, value: u32) {
        if let Some(w) = self.word(offset) {
            w.set(value);
        }
    }

    fn write64(&mut self, offset: usize, value: u64) {
        self.write32(offset, value as u32);
        self.write32(offset.saturating_add(4), (value >> 32) as u32);
    }

    fn publish(&mut self, bytes: &[u8]) {
        if !self.coherent {
            super::clean_dcache_range(bytes.as_ptr() as u64, bytes.len() as u64);
        }
        // The structure's stores complete before the register write that hands it over.
        barrier::dsb(barrier::SY);
    }

    fn refresh(&mut self, bytes: &[u8]) {
        barrier::dsb(barrier::SY);
        if !self.coherent {
            super::clean_invalidate_dcache_range(bytes.as_ptr() as u64, bytes.len() as u64);
        }
    }
}

/// The stream table (256 STEs, 16 KiB), the command queue (256 commands, 4 KiB) and the event
/// queue (128 records, 4 KiB), each aligned to its size, in the image's zeroed `.bss` (the
/// boot loader zeroes it: no cost at boot, 24 KiB of image).
#[repr(C, align(16384))]
struct Structures {
    table: [u8; 256 * crate::smmu::ste::STE_BYTES],
    cmdq: [u8; 4096],
    eventq: [u8; 4096],
}

struct Static(UnsafeCell<Structures>);

// SAFETY: the structures are handed out once ([`memory`]), to one owner.
unsafe impl Sync for Static {}

static STRUCTURES: Static = Static(UnsafeCell::new(Structures {
    table: [0; 256 * crate::smmu::ste::STE_BYTES],
    cmdq: [0; 4096],
    eventq: [0; 4096],
}));

/// The SMMU's memory, the first time it is asked for (`None` after). The hypervisor
/// identity-maps its image, so each block's address is its physical address.
pub fn memory() -> Option<SmmuMemory<'static>> {
    static TAKEN: AtomicBool = AtomicBool::new(false);
    if TAKEN.swap(true, Ordering::AcqRel) {
        return None;
    }
    // SAFETY: `TAKEN` lets this run once, so this is the only reference ever made to the
    // structures; they live for ever in `.bss`.
    let structures = unsafe { &mut *STRUCTURES.0.get() };
    Some(SmmuMemory {
        table: &mut structures.table,
        cmdq: &mut structures.cmdq,
        eventq: &mut structures.eventq,
    })
}
