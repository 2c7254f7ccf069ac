//! The physical GICv2 (GIC-400) as the hypervisor drives it: distributor and CPU interface by
//! MMIO, the virtual interface control (GICH) for list registers. The guest's CPU interface is
//! the hardware GICV frame, mapped at the partition's GICC address (Arm IHI 0048B, chapter 5).

use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use super::mmio::{read32, write32};

/// GICD offsets.
mod gicd {
    pub const CTLR: u64 = 0x000;
    pub const TYPER: u64 = 0x004;
    pub const ISENABLER: u64 = 0x100;
    pub const ICENABLER: u64 = 0x180;
    pub const ISPENDR: u64 = 0x200;
    pub const ICPENDR: u64 = 0x280;
    pub const IPRIORITYR: u64 = 0x400;
    pub const ITARGETSR: u64 = 0x800;
    pub const ICFGR: u64 = 0xc00;
    pub const SGIR: u64 = 0xf00;
}

/// GICC offsets.
mod gicc {
    pub const CTLR: u64 = 0x0000;
    pub const PMR: u64 = 0x0004;
    pub const IAR: u64 = 0x000c;
    pub const EOIR: u64 = 0x0010;
    pub const DIR: u64 = 0x1000;
}

/// GICH offsets.
mod gich {
    pub const HCR: u64 = 0x000;
    pub const VTR: u64 = 0x004;
    pub const VMCR: u64 = 0x008;
    pub const ELRSR0: u64 = 0x030;
    pub const ELRSR1: u64 = 0x034;
    pub const APR: u64 = 0x0f0;
    pub const LR: u64 = 0x100;
}

/// GICC_CTLR: EnableGrp1 (non-secure view) [0], EOImodeNS [9].
const GICC_CTLR_ENABLE_EOIMODE: u32 = (1 << 0) | (1 << 9);
/// GICH_HCR: En [0], UIE [1].
const GICH_HCR_EN: u32 = 1 << 0;
const GICH_HCR_UIE: u32 = 1 << 1;
const DEFAULT_PRIORITY: u32 = 0x80;

static GICD: AtomicU64 = AtomicU64::new(0);
/// The CPU interface's base (read by `fast_irq_v2` in vectors.S).
#[export_name = "BULKHEAD_GICV2_GICC"]
static GICC: AtomicU64 = AtomicU64::new(0);
/// The hypervisor interface's base (read by `fast_irq_v2` in vectors.S).
#[export_name = "BULKHEAD_GICV2_GICH"]
static GICH: AtomicU64 = AtomicU64::new(0);
/// Each CPU's GIC CPU interface number (its bit in ITARGETSR and SGIR), by logical index.
static CPU_INTERFACE: [AtomicU8; crate::MAX_CPUS] = [const { AtomicU8::new(0) }; crate::MAX_CPUS];

fn gicd() -> u64 {
    GICD.load(Ordering::Relaxed)
}

fn gicc() -> u64 {
    GICC.load(Ordering::Relaxed)
}

fn gich() -> u64 {
    GICH.load(Ordering::Relaxed)
}

/// Initialises the distributor (SPIs disabled, default priority) and records the frames.
///
/// # Safety
/// The frames must be the GICv2 frames from the device tree, mapped as device memory at EL2,
/// and driven by nothing else.
pub unsafe fn init_distributor(distributor: u64, cpu: u64, hyp: u64) {
    GICD.store(distributor, Ordering::Relaxed);
    GICC.store(cpu, Ordering::Relaxed);
    GICH.store(hyp, Ordering::Relaxed);
    // SAFETY: the caller hands us the distributor; no partition runs yet.
    unsafe {
        let lines = ((read32(distributor + gicd::TYPER) & 0x1f) + 1) * 32;
        write32(distributor + gicd::CTLR, 0);
        for word in 1..lines / 32 {
            let offset = u64::from(word) * 4;
            write32(distributor + gicd::ICENABLER + offset, u32::MAX);
            write32(distributor + gicd::ICPENDR + offset, u32::MAX);
        }
        for intid in (32..lines).step_by(4) {
            write32(
                distributor + gicd::IPRIORITYR + u64::from(intid),
                DEFAULT_PRIORITY * 0x0101_0101,
            );
        }
        write32(distributor + gicd::CTLR, 1);
    }
}

/// Sets up this CPU's interface and virtual interface.
pub fn init_cpu(cpu: usize) {
    // SAFETY: banked registers of this CPU's own interface; ITARGETSR0 reads return this CPU's
    // interface number as a one-hot mask (IHI 0048B 4.3.12).
    unsafe {
        let mask = read32(gicd() + gicd::ITARGETSR) & 0xff;
        if let Some(slot) = CPU_INTERFACE.get(cpu) {
            slot.store(mask.trailing_zeros().min(7) as u8, Ordering::Relaxed);
        }
        write32(gicd() + gicd::ICENABLER, u32::MAX);
        for word in 0..8u64 {
            write32(
                gicd() + gicd::IPRIORITYR + word * 4,
                DEFAULT_PRIORITY * 0x0101_0101,
            );
        }
        write32(
            gicd() + gicd::ISENABLER,
            (1 << crate::vgic::KICK_SGI) | (1 << crate::vgic::MAINTENANCE_INTID),
        );
        write32(gicc() + gicc::PMR, 0xff);
        write32(gicc() + gicc::CTLR, GICC_CTLR_ENABLE_EOIMODE);
        for index in 0..list_register_count() {
            write32(gich() + gich::LR + index as u64 * 4, 0);
        }
        write32(gich() + gich::VMCR, 0);
        write32(gich() + gich::HCR, GICH_HCR_EN);
    }
}

/// Acknowledges an interrupt: (INTID, the raw GICC_IAR value to write back).
pub fn acknowledge() -> (u32, u32) {
    // SAFETY: reading GICC_IAR acknowledges the interrupt it returns; the caller handles it.
    let iar = unsafe { read32(gicc() + gicc::IAR) };
    (iar & 0x3ff, iar)
}

/// Priority drop (GICC_EOIR with EOImode = 1).
pub fn priority_drop(iar: u32) {
    // SAFETY: EOIR takes the value IAR returned.
    unsafe { write32(gicc() + gicc::EOIR, iar) };
}

/// Deactivation (GICC_DIR).
pub fn deactivate(iar: u32) {
    // SAFETY: DIR takes the value IAR returned.
    unsafe { write32(gicc() + gicc::DIR, iar) };
}

/// Sends SGI `sgi` to the CPU whose logical index is `cpu`.
pub fn send_sgi(cpu: usize, sgi: u32) {
    let interface = CPU_INTERFACE
        .get(cpu)
        .map_or(0, |i| i.load(Ordering::Relaxed));
    // SAFETY: orders the request before the SGI; GICD_SGIR only raises an SGI.
    unsafe {
        core::arch::asm!("dsb ishst", options(nostack));
        write32(
            gicd() + gicd::SGIR,
            (1 << (16 + u32::from(interface))) | (sgi & 0xf),
        );
    }
}

/// Enables or disables an interrupt (SPIs anywhere; PPIs/SGIs only on the calling CPU).
pub fn set_enabled(intid: u32, enabled: bool) {
    let register = if enabled {
        gicd::ISENABLER
    } else {
        gicd::ICENABLER
    };
    // SAFETY: set/clear-enable registers change only the bit written.
    unsafe {
        write32(
            gicd() + register + u64::from(intid / 32) * 4,
            1 << (intid % 32),
        )
    };
}

/// Sets or clears an SPI's pending state.
pub fn set_pending(intid: u32, pending: bool) {
    let register = if pending {
        gicd::ISPENDR
    } else {
        gicd::ICPENDR
    };
    // SAFETY: as for `set_enabled`.
    unsafe {
        write32(
            gicd() + register + u64::from(intid / 32) * 4,
            1 << (intid % 32),
        )
    };
}

/// Routes SPI `intid` to the CPU whose logical index is `cpu`.
pub fn route_spi(intid: u32, cpu: usize) {
    let interface = CPU_INTERFACE
        .get(cpu)
        .map_or(0, |i| i.load(Ordering::Relaxed));
    // SAFETY: ITARGETSR is byte-accessible; only `intid`'s byte changes.
    unsafe {
        ((gicd() + gicd::ITARGETSR + u64::from(intid)) as *mut u8).write_volatile(1 << interface)
    };
}

/// Sets SPI `intid` edge-triggered or level-sensitive.
pub fn set_edge(intid: u32, edge: bool) {
    static ICFGR_LOCK: spin::Mutex<()> = spin::Mutex::new(());
    let _guard = ICFGR_LOCK.lock();
    let at = gicd() + gicd::ICFGR + u64::from(intid / 16) * 4;
    let bit = 2 << (2 * (intid % 16));
    // SAFETY: read-modify-write under the lock; only `intid`'s bit changes.
    unsafe {
        let value = read32(at);
        write32(at, if edge { value | bit } else { value & !bit });
    }
}

/// Number of list registers (GICH_VTR.ListRegs + 1).
pub fn list_register_count() -> usize {
    // SAFETY: GICH_VTR is read-only.
    ((unsafe { read32(gich() + gich::VTR) } & 0x3f) + 1) as usize
}

/// Bitmap of empty list registers (GICH_ELRSR0/1).
pub fn empty_list_registers() -> u64 {
    // SAFETY: read-only status registers.
    unsafe {
        u64::from(read32(gich() + gich::ELRSR0)) | (u64::from(read32(gich() + gich::ELRSR1)) << 32)
    }
}

/// Reads list register `index`.
pub fn read_lr(index: usize) -> u32 {
    // SAFETY: GICH_LR<n> of this CPU (GICH is banked per CPU).
    unsafe { read32(gich() + gich::LR + index as u64 * 4) }
}

/// Writes list register `index`.
pub fn write_lr(index: usize, value: u32) {
    // SAFETY: as for `read_lr`.
    unsafe { write32(gich() + gich::LR + index as u64 * 4, value) }
}

/// Enables or disables the underflow maintenance interrupt (GICH_HCR.UIE).
pub fn set_underflow_interrupt(enabled: bool) {
    // SAFETY: read-modify-write of this CPU's banked GICH_HCR.
    unsafe {
        let hcr = read32(gich() + gich::HCR);
        write32(
            gich() + gich::HCR,
            if enabled {
                hcr | GICH_HCR_UIE
            } else {
                hcr & !GICH_HCR_UIE
            },
        );
    }
}

/// Clears the virtual CPU interface's active priorities (GICH_APR) and saved state (GICH_VMCR).
pub fn reset_virtual_interface() {
    // SAFETY: this CPU's banked GICH registers; the vCPU is not running.
    unsafe {
        write32(gich() + gich::APR, 0);
        write32(gich() + gich::VMCR, 0);
    }
}
