//! The physical GICv3 as the hypervisor drives it: the distributor and redistributors by MMIO,
//! the CPU interface and the virtual CPU interface (ICH_*) by system registers.
//!
//! Interrupts are taken at EL2 (HCR_EL2.IMO), acknowledged with ICC_IAR1_EL1 and priority-dropped
//! with ICC_EOIR1_EL1 (EOImode = 1). Interrupts owned by a partition are then injected with the
//! HW bit, so the guest's deactivation deactivates the physical interrupt without another trap.

use core::sync::atomic::{AtomicU64, Ordering};

use super::mmio::{read32, write32};
use super::registers::{read_sysreg, write_sysreg};

/// GICD register offsets (Arm IHI 0069, 12.9).
mod gicd {
    pub const CTLR: u64 = 0x0000;
    pub const IGROUPR: u64 = 0x0080;
    pub const ISENABLER: u64 = 0x0100;
    pub const ICENABLER: u64 = 0x0180;
    pub const ISPENDR: u64 = 0x0200;
    pub const ICPENDR: u64 = 0x0280;
    pub const IPRIORITYR: u64 = 0x0400;
    pub const ICFGR: u64 = 0x0c00;
    pub const IROUTER: u64 = 0x6000;
    pub const TYPER: u64 = 0x0004;
}

/// GICR offsets (RD_base, then SGI_base at +64 KiB).
mod gicr {
    pub const TYPER: u64 = 0x0008;
    pub const WAKER: u64 = 0x0014;
    pub const SGI_BASE: u64 = 0x1_0000;
    pub const IGROUPR0: u64 = SGI_BASE + 0x0080;
    pub const ISENABLER0: u64 = SGI_BASE + 0x0100;
    pub const ICENABLER0: u64 = SGI_BASE + 0x0180;
    pub const IPRIORITYR: u64 = SGI_BASE + 0x0400;
}

/// GICD_CTLR: EnableGrp1 (DS = 1) or EnableGrp1A (DS = 0, non-secure view) [1], ARE [4].
const GICD_CTLR_GRP1_ARE: u32 = (1 << 1) | (1 << 4);
/// GICD_CTLR.RWP: a register write is still propagating.
const GICD_CTLR_RWP: u32 = 1 << 31;
/// GICR_WAKER: ProcessorSleep [1], ChildrenAsleep [2].
const WAKER_PROCESSOR_SLEEP: u32 = 1 << 1;
const WAKER_CHILDREN_ASLEEP: u32 = 1 << 2;
/// GICR_TYPER.Last.
const GICR_TYPER_LAST: u64 = 1 << 4;
/// GICR_TYPER.VLPIS: the redistributor has the GICv4 frames (4 x 64 KiB).
const GICR_TYPER_VLPIS: u64 = 1 << 1;
/// The priority physical interrupts run at (all the same: EL2 runs with IRQs masked).
const DEFAULT_PRIORITY: u8 = 0x80;
/// ICC_SRE_EL2: SRE, DFB, DIB, Enable (EL1 may use the system register interface).
const ICC_SRE_EL2_ALL: u64 = 0xf;
/// ICC_CTLR_EL1.EOImode: EOIR only drops priority; DIR (or the guest, via HW) deactivates.
const ICC_CTLR_EOIMODE: u64 = 1 << 1;
/// ICH_HCR_EL2: En [0], UIE [1] (underflow maintenance interrupt).
const ICH_HCR_EN: u64 = 1 << 0;
const ICH_HCR_UIE: u64 = 1 << 1;

/// The GIC's MMIO frames, set once at boot.
static GICD_BASE: AtomicU64 = AtomicU64::new(0);
static GICR_BASE: AtomicU64 = AtomicU64::new(0);
static GICR_SIZE: AtomicU64 = AtomicU64::new(0);
/// Each CPU's redistributor RD_base, by logical CPU index.
static CPU_GICR: [AtomicU64; crate::MAX_CPUS] = [const { AtomicU64::new(0) }; crate::MAX_CPUS];

fn gicd() -> u64 {
    GICD_BASE.load(Ordering::Relaxed)
}

fn wait_for_rwp() {
    // SAFETY: GICD_CTLR reads have no side effects.
    while unsafe { read32(gicd() + gicd::CTLR) } & GICD_CTLR_RWP != 0 {}
}

/// Initialises the distributor: affinity routing and group 1 on, every SPI group 1, disabled,
/// at the default priority. Called once, by the boot CPU.
///
/// # Safety
/// `distributor` and `redistributors` must be the GICv3 frames from the device tree, mapped
/// as device memory at EL2, and no other software may drive them.
pub unsafe fn init_distributor(distributor: u64, redistributors: u64, redistributors_size: u64) {
    GICD_BASE.store(distributor, Ordering::Relaxed);
    GICR_BASE.store(redistributors, Ordering::Relaxed);
    GICR_SIZE.store(redistributors_size, Ordering::Relaxed);
    // SAFETY: the caller hands us the distributor; these writes configure SPIs no partition
    // runs yet.
    unsafe {
        let lines = ((read32(distributor + gicd::TYPER) & 0x1f) + 1) * 32;
        write32(distributor + gicd::CTLR, 0);
        wait_for_rwp();
        for word in 1..lines / 32 {
            let offset = u64::from(word) * 4;
            write32(distributor + gicd::ICENABLER + offset, u32::MAX);
            write32(distributor + gicd::ICPENDR + offset, u32::MAX);
            write32(distributor + gicd::IGROUPR + offset, u32::MAX);
        }
        for intid in (32..lines).step_by(4) {
            let p = u32::from(DEFAULT_PRIORITY);
            write32(
                distributor + gicd::IPRIORITYR + u64::from(intid),
                p * 0x0101_0101,
            );
        }
        wait_for_rwp();
        write32(distributor + gicd::CTLR, GICD_CTLR_GRP1_ARE);
        wait_for_rwp();
    }
}

/// Finds this CPU's redistributor, wakes it, and sets up the CPU interface and the virtual CPU
/// interface. Called by every CPU once.
pub fn init_cpu(cpu: usize, mpidr: u64) {
    let affinity = ((mpidr >> 8) & 0xff00_0000) | (mpidr & 0x00ff_ffff);
    let (base, size) = (
        GICR_BASE.load(Ordering::Relaxed),
        GICR_SIZE.load(Ordering::Relaxed),
    );
    let mut frame = base;
    let mut found = None;
    while frame < base + size {
        // SAFETY: within the redistributor region from the device tree; GICR_TYPER reads have
        // no side effects.
        let typer = unsafe {
            u64::from(read32(frame + gicr::TYPER))
                | (u64::from(read32(frame + gicr::TYPER + 4)) << 32)
        };
        if typer >> 32 == affinity {
            found = Some(frame);
            break;
        }
        if typer & GICR_TYPER_LAST != 0 {
            break;
        }
        frame += if typer & GICR_TYPER_VLPIS != 0 {
            0x4_0000
        } else {
            0x2_0000
        };
    }
    let Some(rd) = found else { return };
    if let Some(slot) = CPU_GICR.get(cpu) {
        slot.store(rd, Ordering::Relaxed);
    }
    // SAFETY: `rd` is this CPU's own redistributor; waking it and configuring its SGIs/PPIs
    // affects only this CPU.
    unsafe {
        let waker = read32(rd + gicr::WAKER);
        write32(rd + gicr::WAKER, waker & !WAKER_PROCESSOR_SLEEP);
        while read32(rd + gicr::WAKER) & WAKER_CHILDREN_ASLEEP != 0 {}
        write32(rd + gicr::IGROUPR0, u32::MAX);
        write32(rd + gicr::ICENABLER0, u32::MAX);
        for word in 0..8u64 {
            write32(
                rd + gicr::IPRIORITYR + word * 4,
                u32::from(DEFAULT_PRIORITY) * 0x0101_0101,
            );
        }
        write32(
            rd + gicr::ISENABLER0,
            (1 << crate::vgic::KICK_SGI) | (1 << crate::vgic::MAINTENANCE_INTID),
        );
    }
    write_sysreg!("S3_4_C12_C9_5", ICC_SRE_EL2_ALL); // ICC_SRE_EL2
                                                     // SAFETY: synchronises the SRE change before the CPU interface is used.
    unsafe { core::arch::asm!("isb", options(nomem, nostack)) };
    write_sysreg!("S3_0_C4_C6_0", 0xff); // ICC_PMR_EL1: let every priority through
    write_sysreg!("S3_0_C12_C12_3", 0); // ICC_BPR1_EL1
    write_sysreg!("S3_0_C12_C12_4", ICC_CTLR_EOIMODE); // ICC_CTLR_EL1
    write_sysreg!("S3_0_C12_C12_7", 1); // ICC_IGRPEN1_EL1
    for index in 0..list_register_count() {
        write_lr(index, 0);
    }
    write_sysreg!("S3_4_C12_C11_7", 0); // ICH_VMCR_EL2: the guest programs its own
    write_sysreg!("S3_4_C12_C11_0", ICH_HCR_EN); // ICH_HCR_EL2
                                                 // SAFETY: synchronises the system register writes.
    unsafe { core::arch::asm!("isb", options(nomem, nostack)) };
}

/// Acknowledges the highest-priority pending interrupt (ICC_IAR1_EL1); 1023 if none.
pub fn acknowledge() -> u32 {
    read_sysreg!("S3_0_C12_C12_0") as u32
}

/// Drops the running priority of `intid` (ICC_EOIR1_EL1) without deactivating it.
pub fn priority_drop(intid: u32) {
    write_sysreg!("S3_0_C12_C12_1", u64::from(intid));
}

/// Deactivates `intid` (ICC_DIR_EL1).
pub fn deactivate(intid: u32) {
    write_sysreg!("S3_0_C12_C11_1", u64::from(intid));
}

/// Sends SGI `sgi` to the CPU with affinity `mpidr` (ICC_SGI1R_EL1).
pub fn send_sgi(mpidr: u64, sgi: u32) {
    let aff0 = mpidr & 0xf;
    let aff1 = (mpidr >> 8) & 0xff;
    let aff2 = (mpidr >> 16) & 0xff;
    let aff3 = (mpidr >> 32) & 0xff;
    let rs = (mpidr & 0xf0) >> 4;
    let value = (aff3 << 48)
        | (aff2 << 32)
        | (rs << 44)
        | (u64::from(sgi & 0xf) << 24)
        | (aff1 << 16)
        | (1 << aff0);
    // SAFETY: orders earlier memory writes (the request the SGI announces) before the SGI.
    unsafe { core::arch::asm!("dsb ishst", options(nostack)) };
    write_sysreg!("S3_0_C12_C11_5", value);
    // SAFETY: makes the SGI generation take effect.
    unsafe { core::arch::asm!("isb", options(nomem, nostack)) };
}

/// Enables or disables physical SPI `intid`.
pub fn set_spi_enabled(intid: u32, enabled: bool) {
    let register = if enabled {
        gicd::ISENABLER
    } else {
        gicd::ICENABLER
    };
    // SAFETY: set/clear-enable registers affect only the bit written; the caller checked that
    // the partition owns `intid`.
    unsafe {
        write32(
            gicd() + register + u64::from(intid / 32) * 4,
            1 << (intid % 32),
        )
    };
}

/// Enables or disables private interrupt `intid` (SGI/PPI) on the CPU whose logical index is
/// `cpu`.
pub fn set_private_enabled(cpu: usize, intid: u32, enabled: bool) {
    let Some(rd) = CPU_GICR
        .get(cpu)
        .map(|r| r.load(Ordering::Relaxed))
        .filter(|&r| r != 0)
    else {
        return;
    };
    let register = if enabled {
        gicr::ISENABLER0
    } else {
        gicr::ICENABLER0
    };
    // SAFETY: as for `set_spi_enabled`, on that CPU's redistributor.
    unsafe { write32(rd + register, 1 << (intid % 32)) };
}

/// Sets or clears physical SPI `intid`'s pending state.
pub fn set_spi_pending(intid: u32, pending: bool) {
    let register = if pending {
        gicd::ISPENDR
    } else {
        gicd::ICPENDR
    };
    // SAFETY: as for `set_spi_enabled`.
    unsafe {
        write32(
            gicd() + register + u64::from(intid / 32) * 4,
            1 << (intid % 32),
        )
    };
}

/// Routes physical SPI `intid` to the CPU with affinity `mpidr`.
pub fn route_spi(intid: u32, mpidr: u64) {
    let affinity = mpidr & 0xff_00ff_ffff;
    let at = gicd() + gicd::IROUTER + u64::from(intid) * 8;
    // SAFETY: GICD_IROUTER<n> only routes SPI n, which the caller's partition owns.
    unsafe {
        write32(at, affinity as u32);
        write32(at + 4, (affinity >> 32) as u32);
    }
}

/// Sets physical SPI `intid` edge-triggered or level-sensitive. Takes a lock: GICD_ICFGR is
/// shared by 16 interrupts.
pub fn set_spi_edge(intid: u32, edge: bool) {
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

/// Number of list registers (ICH_VTR_EL2.ListRegs + 1).
pub fn list_register_count() -> usize {
    ((read_sysreg!("S3_4_C12_C11_1") & 0x1f) + 1) as usize
}

/// Bitmap of empty list registers (ICH_ELRSR_EL2).
pub fn empty_list_registers() -> u64 {
    read_sysreg!("S3_4_C12_C11_5")
}

/// Enables or disables the underflow maintenance interrupt (ICH_HCR_EL2.UIE): raised when at
/// most one list register holds an interrupt, so queued ones can be moved in.
pub fn set_underflow_interrupt(enabled: bool) {
    let hcr = read_sysreg!("S3_4_C12_C11_0");
    write_sysreg!(
        "S3_4_C12_C11_0",
        if enabled {
            hcr | ICH_HCR_UIE
        } else {
            hcr & !ICH_HCR_UIE
        }
    );
}

macro_rules! lr_access {
    ($index:expr, $value:ident, $($n:literal => $reg:literal),*) => {
        match $index {
            $($n => {
                if let Some(v) = $value {
                    write_sysreg!($reg, v);
                    v
                } else {
                    read_sysreg!($reg)
                }
            })*
            _ => 0,
        }
    };
}

fn lr(index: usize, value: Option<u64>) -> u64 {
    lr_access!(index, value,
        0 => "S3_4_C12_C12_0", 1 => "S3_4_C12_C12_1", 2 => "S3_4_C12_C12_2", 3 => "S3_4_C12_C12_3",
        4 => "S3_4_C12_C12_4", 5 => "S3_4_C12_C12_5", 6 => "S3_4_C12_C12_6", 7 => "S3_4_C12_C12_7",
        8 => "S3_4_C12_C13_0", 9 => "S3_4_C12_C13_1", 10 => "S3_4_C12_C13_2", 11 => "S3_4_C12_C13_3",
        12 => "S3_4_C12_C13_4", 13 => "S3_4_C12_C13_5", 14 => "S3_4_C12_C13_6", 15 => "S3_4_C12_C13_7")
}

/// Reads list register `index` (ICH_LR<n>_EL2).
pub fn read_lr(index: usize) -> u64 {
    lr(index, None)
}

/// Writes list register `index`.
pub fn write_lr(index: usize, value: u64) {
    lr(index, Some(value));
}

/// Clears the virtual CPU interface's active priorities (ICH_AP0R<n>_EL2, ICH_AP1R<n>_EL2) and
/// its saved state (ICH_VMCR_EL2): a restarted guest must not inherit an interrupt its previous
/// run never finished.
pub fn reset_virtual_interface() {
    let vtr = read_sysreg!("S3_4_C12_C11_1");
    let preemption_bits = ((vtr >> 26) & 7) + 1;
    let registers = 1u64 << preemption_bits.saturating_sub(5).min(2);
    write_sysreg!("S3_4_C12_C8_0", 0);
    write_sysreg!("S3_4_C12_C9_0", 0);
    if registers > 1 {
        write_sysreg!("S3_4_C12_C8_1", 0);
        write_sysreg!("S3_4_C12_C9_1", 0);
    }
    if registers > 2 {
        write_sysreg!("S3_4_C12_C8_2", 0);
        write_sysreg!("S3_4_C12_C9_2", 0);
        write_sysreg!("S3_4_C12_C8_3", 0);
        write_sysreg!("S3_4_C12_C9_3", 0);
    }
    write_sysreg!("S3_4_C12_C11_7", 0); // ICH_VMCR_EL2
}
