//! The physical GICv3 as the hypervisor drives it: the distributor and redistributors by MMIO,
//! the CPU interface and the virtual CPU interface (ICH_*) by system registers.
//!
//! Interrupts are taken at EL2 (HCR_EL2.IMO), acknowledged with ICC_IAR1_EL1 and priority-dropped
//! with ICC_EOIR1_EL1 (EOImode = 1). Interrupts owned by a partition are then injected with the
//! HW bit, so the guest's deactivation deactivates the physical interrupt without another trap.

use core::sync::atomic::{AtomicU64, Ordering};

use tock_registers::register_bitfields;
use tock_registers::register_structs;
use tock_registers::registers::{ReadOnly, ReadWrite};

use super::mmio::Frame;
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

register_bitfields! {u32,
    /// GICD_CTLR (non-secure view).
    GICD_CTLR [
        /// EnableGrp1 (DS = 1) or EnableGrp1A (DS = 0).
        ENABLE_GRP1 OFFSET(1) NUMBITS(1) [],
        /// ARE: affinity routing.
        ARE OFFSET(4) NUMBITS(1) [],
        /// RWP: a register write is still propagating.
        RWP OFFSET(31) NUMBITS(1) [],
    ],
    /// GICD_TYPER.
    GICD_TYPER [
        /// ITLinesNumber: 32 * (N + 1) interrupt lines.
        ITLINES OFFSET(0) NUMBITS(5) [],
    ],
    /// GICR_WAKER.
    GICR_WAKER [
        /// ProcessorSleep.
        PROCESSOR_SLEEP OFFSET(1) NUMBITS(1) [],
        /// ChildrenAsleep.
        CHILDREN_ASLEEP OFFSET(2) NUMBITS(1) [],
    ],
}

register_bitfields! {u64,
    /// GICR_TYPER.
    GICR_TYPER [
        /// VLPIS: the redistributor has the GICv4 frames (4 x 64 KiB).
        VLPIS OFFSET(1) NUMBITS(1) [],
        /// Last: the last redistributor of the region.
        LAST OFFSET(4) NUMBITS(1) [],
        /// Affinity_Value: Aff3.Aff2.Aff1.Aff0 of the redistributor's CPU.
        AFFINITY OFFSET(32) NUMBITS(32) [],
    ],
}

register_structs! {
    /// The GICv3 distributor (Arm IHI 0069, 12.9).
    pub Distributor {
        (0x0000 => ctlr: ReadWrite<u32, GICD_CTLR::Register>),
        (0x0004 => typer: ReadOnly<u32, GICD_TYPER::Register>),
        (0x0008 => _reserved0),
        (0x0080 => igroupr: [ReadWrite<u32>; 32]),
        (0x0100 => isenabler: [ReadWrite<u32>; 32]),
        (0x0180 => icenabler: [ReadWrite<u32>; 32]),
        (0x0200 => ispendr: [ReadWrite<u32>; 32]),
        (0x0280 => icpendr: [ReadWrite<u32>; 32]),
        (0x0300 => _reserved1),
        (0x0400 => ipriorityr: [ReadWrite<u32>; 255]),
        (0x07fc => _reserved2),
        (0x0c00 => icfgr: [ReadWrite<u32>; 64]),
        (0x0d00 => _reserved3),
        (0x6000 => irouter: [ReadWrite<u64>; 1020]),
        (0x7fe0 => _reserved4),
        (0x10000 => @END),
    },

    /// A GICv3 redistributor: its RD_base frame, then its SGI_base frame at +64 KiB (Arm IHI
    /// 0069, 12.10 and 12.11).
    pub Redistributor {
        (0x00000 => _reserved0),
        (0x00008 => typer: ReadOnly<u64, GICR_TYPER::Register>),
        (0x00010 => _reserved1),
        (0x00014 => waker: ReadWrite<u32, GICR_WAKER::Register>),
        (0x00018 => _reserved2),
        (0x10080 => igroupr0: ReadWrite<u32>),
        (0x10084 => _reserved3),
        (0x10100 => isenabler0: ReadWrite<u32>),
        (0x10104 => _reserved4),
        (0x10180 => icenabler0: ReadWrite<u32>),
        (0x10184 => _reserved5),
        (0x10400 => ipriorityr: [ReadWrite<u32>; 8]),
        (0x10420 => _reserved6),
        (0x20000 => @END),
    }
}

const _: () = assert!(core::mem::size_of::<Distributor>() == 0x1_0000);
const _: () = assert!(core::mem::size_of::<Redistributor>() == 0x2_0000);

/// The priority physical interrupts run at (all the same: EL2 runs with IRQs masked).
const DEFAULT_PRIORITY: u8 = 0x80;
/// ICC_CTLR_EL1.EOImode: EOIR only drops priority; DIR (or the guest, via HW) deactivates.
const ICC_CTLR_EOIMODE: u64 = 1 << 1;

/// The distributor, set once at boot.
static GICD: Frame<Distributor> = Frame::new();
/// The redistributor region from the device tree, set once at boot.
static GICR_BASE: AtomicU64 = AtomicU64::new(0);
static GICR_SIZE: AtomicU64 = AtomicU64::new(0);
/// Each CPU's redistributor, by logical CPU index.
static CPU_GICR: [Frame<Redistributor>; crate::MAX_CPUS] =
    [const { Frame::new() }; crate::MAX_CPUS];

fn wait_for_rwp(gicd: &Distributor) {
    while gicd.ctlr.is_set(GICD_CTLR::RWP) {}
}

/// Initialises the distributor: affinity routing and group 1 on, every SPI group 1, disabled,
/// at the default priority. Called once, by the boot CPU.
///
/// # Safety
/// `distributor` and `redistributors` must be the GICv3 frames from the device tree, mapped
/// as device memory at EL2, and no other software may drive them.
pub unsafe fn init_distributor(distributor: u64, redistributors: u64, redistributors_size: u64) {
    // SAFETY: the caller's contract is `Frame::set`'s.
    unsafe { GICD.set(distributor) };
    GICR_BASE.store(redistributors, Ordering::Relaxed);
    GICR_SIZE.store(redistributors_size, Ordering::Relaxed);
    let Some(gicd) = GICD.get() else { return };
    let words = (gicd.typer.read(GICD_TYPER::ITLINES) as usize + 1).min(32);
    gicd.ctlr.set(0);
    wait_for_rwp(gicd);
    for word in 1..words {
        for bank in [&gicd.icenabler, &gicd.icpendr, &gicd.igroupr] {
            if let Some(register) = bank.get(word) {
                register.set(u32::MAX);
            }
        }
    }
    for register in gicd.ipriorityr.iter().take(words * 8).skip(8) {
        register.set(u32::from(DEFAULT_PRIORITY) * 0x0101_0101);
    }
    wait_for_rwp(gicd);
    gicd.ctlr
        .write(GICD_CTLR::ENABLE_GRP1::SET + GICD_CTLR::ARE::SET);
    wait_for_rwp(gicd);
}

/// The redistributor whose CPU has affinity `affinity` (GICR_TYPER's form), by walking the
/// region from the device tree.
fn find_redistributor(affinity: u64) -> Option<u64> {
    let base = GICR_BASE.load(Ordering::Relaxed);
    let end = base.saturating_add(GICR_SIZE.load(Ordering::Relaxed));
    let mut frame = base;
    while base != 0 && frame.saturating_add(0x2_0000) <= end {
        // SAFETY: a whole redistributor inside the region `init_distributor`'s contract maps as
        // device memory; only its read-only GICR_TYPER is read here.
        let rd = unsafe { &*(frame as *const Redistributor) };
        let typer = rd.typer.extract();
        if typer.read(GICR_TYPER::AFFINITY) == affinity {
            return Some(frame);
        }
        if typer.is_set(GICR_TYPER::LAST) {
            return None;
        }
        frame += if typer.is_set(GICR_TYPER::VLPIS) {
            0x4_0000
        } else {
            0x2_0000
        };
    }
    None
}

/// Finds this CPU's redistributor, wakes it, and sets up the CPU interface and the virtual CPU
/// interface. Called by every CPU once.
pub fn init_cpu(cpu: usize, mpidr: u64) {
    let affinity = ((mpidr >> 8) & 0xff00_0000) | (mpidr & 0x00ff_ffff);
    let Some(slot) = CPU_GICR.get(cpu) else {
        return;
    };
    let Some(frame) = find_redistributor(affinity) else {
        return;
    };
    // SAFETY: `frame` is this CPU's own redistributor, inside the region `init_distributor`'s
    // contract gives the hypervisor; only this CPU drives it.
    unsafe { slot.set(frame) };
    let Some(rd) = slot.get() else { return };
    rd.waker.modify(GICR_WAKER::PROCESSOR_SLEEP::CLEAR);
    while rd.waker.is_set(GICR_WAKER::CHILDREN_ASLEEP) {}
    rd.igroupr0.set(u32::MAX);
    rd.icenabler0.set(u32::MAX);
    for register in &rd.ipriorityr {
        register.set(u32::from(DEFAULT_PRIORITY) * 0x0101_0101);
    }
    rd.isenabler0.set(
        (1 << crate::vgic::KICK_SGI)
            | (1 << crate::vgic::DOORBELL_SGI)
            | (1 << crate::vgic::MAINTENANCE_INTID)
            | (1 << crate::vgic::HYP_TIMER_INTID),
    );
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
    let value = sgi1r_value(mpidr, sgi);
    // Earlier memory writes (the request the SGI announces) are visible before the SGI.
    barrier::dsb(barrier::ISHST);
    ICC_SGI1R_EL1.set(value);
    barrier::isb(barrier::SY);
}

/// The ICC_SGI1R_EL1 value that sends SGI `sgi` to the CPU with affinity `mpidr` (bits [63:56]
/// are RES0: the doorbell fast path keeps its flag index there).
pub fn sgi1r_value(mpidr: u64, sgi: u32) -> u64 {
    let aff0 = mpidr & 0xf;
    let aff1 = (mpidr >> 8) & 0xff;
    let aff2 = (mpidr >> 16) & 0xff;
    let aff3 = (mpidr >> 32) & 0xff;
    let rs = (mpidr & 0xf0) >> 4;
    (aff3 << 48)
        | (aff2 << 32)
        | (rs << 44)
        | (u64::from(sgi & 0xf) << 24)
        | (aff1 << 16)
        | (1 << aff0)
}

/// Writes `intid`'s bit in one of the distributor's one-bit-per-interrupt banks (they change
/// only the bits written).
fn set_bit(bank: fn(&Distributor) -> &[ReadWrite<u32>; 32], intid: u32) {
    if let Some(register) = GICD
        .get()
        .and_then(|gicd| bank(gicd).get(intid as usize / 32))
    {
        register.set(1 << (intid % 32));
    }
}

/// Enables or disables physical SPI `intid` (the caller checked that the partition owns it).
pub fn set_spi_enabled(intid: u32, enabled: bool) {
    if enabled {
        set_bit(|d| &d.isenabler, intid);
    } else {
        set_bit(|d| &d.icenabler, intid);
    }
}

/// Enables or disables private interrupt `intid` (SGI/PPI) on the CPU whose logical index is
/// `cpu`.
pub fn set_private_enabled(cpu: usize, intid: u32, enabled: bool) {
    let Some(rd) = CPU_GICR.get(cpu).and_then(Frame::get) else {
        return;
    };
    let register = if enabled {
        &rd.isenabler0
    } else {
        &rd.icenabler0
    };
    register.set(1 << (intid % 32));
}

/// Sets or clears physical SPI `intid`'s pending state.
pub fn set_spi_pending(intid: u32, pending: bool) {
    if pending {
        set_bit(|d| &d.ispendr, intid);
    } else {
        set_bit(|d| &d.icpendr, intid);
    }
}

/// Routes physical SPI `intid` to the CPU with affinity `mpidr` (GICD_IROUTER<n> only routes
/// SPI n, which the caller's partition owns).
pub fn route_spi(intid: u32, mpidr: u64) {
    if let Some(router) = GICD.get().and_then(|gicd| gicd.irouter.get(intid as usize)) {
        router.set(mpidr & 0xff_00ff_ffff);
    }
}

/// Sets physical SPI `intid` edge-triggered or level-sensitive. Takes a lock: GICD_ICFGR is
/// shared by 16 interrupts.
pub fn set_spi_edge(intid: u32, edge: bool) {
    static ICFGR_LOCK: spin::Mutex<()> = spin::Mutex::new(());
    let Some(icfgr) = GICD
        .get()
        .and_then(|gicd| gicd.icfgr.get(intid as usize / 16))
    else {
        return;
    };
    let bit = 2 << (2 * (intid % 16));
    let _guard = ICFGR_LOCK.lock();
    let value = icfgr.get();
    icfgr.set(if edge { value | bit } else { value & !bit });
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
