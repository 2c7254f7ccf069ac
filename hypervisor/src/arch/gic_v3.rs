//! The physical GICv3 as the hypervisor drives it: the distributor and redistributors by MMIO,
//! the CPU interface and the virtual CPU interface (ICH_*) by system registers.
//!
//! Interrupts are taken at EL2 (HCR_EL2.IMO), acknowledged with ICC_IAR1_EL1 and priority-dropped
//! with ICC_EOIR1_EL1 (EOImode = 1). Interrupts owned by a partition are then injected with the
//! HW bit, so the guest's deactivation deactivates the physical interrupt without another trap.

use core::sync::atomic::{AtomicU64, Ordering};

use super::mmio::{read32, write32};
use super::sysreg::{
    ICC_BPR1_EL1, ICC_CTLR_EL1, ICC_DIR_EL1, ICC_EOIR1_EL1, ICC_IAR1_EL1, ICC_IGRPEN1_EL1,
    ICC_PMR_EL1, ICC_SGI1R_EL1, ICH_ELRSR_EL2,
};
use aarch64_cpu::asm::barrier;
use aarch64_cpu::registers::{
    ReadWriteable, Readable, Writeable, ICC_SRE_EL2, ICH_AP0R0_EL2, ICH_AP0R1_EL2, ICH_AP0R2_EL2,
    ICH_AP0R3_EL2, ICH_AP1R0_EL2, ICH_AP1R1_EL2, ICH_AP1R2_EL2, ICH_AP1R3_EL2, ICH_HCR_EL2,
    ICH_LR0_EL2, ICH_LR10_EL2, ICH_LR11_EL2, ICH_LR12_EL2, ICH_LR13_EL2, ICH_LR14_EL2,
    ICH_LR15_EL2, ICH_LR1_EL2, ICH_LR2_EL2, ICH_LR3_EL2, ICH_LR4_EL2, ICH_LR5_EL2, ICH_LR6_EL2,
    ICH_LR7_EL2, ICH_LR8_EL2, ICH_LR9_EL2, ICH_VMCR_EL2, ICH_VTR_EL2,
};

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
/// ICC_CTLR_EL1.EOImode: EOIR only drops priority; DIR (or the guest, via HW) deactivates.
const ICC_CTLR_EOIMODE: u64 = 1 << 1;

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
    // EL2 and EL1 use the system register interface.
    ICC_SRE_EL2.write(
        ICC_SRE_EL2::SRE::SET
            + ICC_SRE_EL2::DFB::SET
            + ICC_SRE_EL2::DIB::SET
            + ICC_SRE_EL2::ENABLE::SET,
    );
    barrier::isb(barrier::SY);
    ICC_PMR_EL1.set(0xff); // let every priority through
    ICC_BPR1_EL1.set(0);
    ICC_CTLR_EL1.set(ICC_CTLR_EOIMODE);
    ICC_IGRPEN1_EL1.set(1);
    for index in 0..list_register_count() {
        write_lr(index, 0);
    }
    ICH_VMCR_EL2.set(0); // the guest programs its own
    ICH_HCR_EL2.write(ICH_HCR_EL2::En::SET);
    barrier::isb(barrier::SY);
}

/// Acknowledges the highest-priority pending interrupt (ICC_IAR1_EL1); 1023 if none.
pub fn acknowledge() -> u32 {
    ICC_IAR1_EL1.get() as u32
}

/// Drops the running priority of `intid` (ICC_EOIR1_EL1) without deactivating it.
pub fn priority_drop(intid: u32) {
    ICC_EOIR1_EL1.set(u64::from(intid));
}

/// Deactivates `intid` (ICC_DIR_EL1).
pub fn deactivate(intid: u32) {
    ICC_DIR_EL1.set(u64::from(intid));
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
    // Earlier memory writes (the request the SGI announces) are visible before the SGI.
    barrier::dsb(barrier::ISHST);
    ICC_SGI1R_EL1.set(value);
    barrier::isb(barrier::SY);
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
    ICH_VTR_EL2.read(ICH_VTR_EL2::ListRegs) as usize + 1
}

/// Bitmap of empty list registers (ICH_ELRSR_EL2).
pub fn empty_list_registers() -> u64 {
    ICH_ELRSR_EL2.get()
}

/// Enables or disables the underflow maintenance interrupt (ICH_HCR_EL2.UIE): raised when at
/// most one list register holds an interrupt, so queued ones can be moved in.
pub fn set_underflow_interrupt(enabled: bool) {
    ICH_HCR_EL2.modify(if enabled {
        ICH_HCR_EL2::UIE::SET
    } else {
        ICH_HCR_EL2::UIE::CLEAR
    });
}

/// Reads list register `index` (`None`), or writes it (`Some`) and returns what was written;
/// 0 for an index past the 16 the architecture has.
fn lr(index: usize, value: Option<u64>) -> u64 {
    macro_rules! access {
        ($($n:literal => $reg:ident),*) => {
            match index {
                $($n => match value {
                    Some(v) => {
                        $reg.set(v);
                        v
                    }
                    None => $reg.get(),
                },)*
                _ => 0,
            }
        };
    }
    access!(0 => ICH_LR0_EL2, 1 => ICH_LR1_EL2, 2 => ICH_LR2_EL2, 3 => ICH_LR3_EL2,
        4 => ICH_LR4_EL2, 5 => ICH_LR5_EL2, 6 => ICH_LR6_EL2, 7 => ICH_LR7_EL2,
        8 => ICH_LR8_EL2, 9 => ICH_LR9_EL2, 10 => ICH_LR10_EL2, 11 => ICH_LR11_EL2,
        12 => ICH_LR12_EL2, 13 => ICH_LR13_EL2, 14 => ICH_LR14_EL2, 15 => ICH_LR15_EL2)
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
    let preemption_bits = ICH_VTR_EL2.read(ICH_VTR_EL2::PREbits) + 1;
    let registers = 1u64 << preemption_bits.saturating_sub(5).min(2);
    ICH_AP0R0_EL2.set(0);
    ICH_AP1R0_EL2.set(0);
    if registers > 1 {
        ICH_AP0R1_EL2.set(0);
        ICH_AP1R1_EL2.set(0);
    }
    if registers > 2 {
        ICH_AP0R2_EL2.set(0);
        ICH_AP1R2_EL2.set(0);
        ICH_AP0R3_EL2.set(0);
        ICH_AP1R3_EL2.set(0);
    }
    ICH_VMCR_EL2.set(0);
}
