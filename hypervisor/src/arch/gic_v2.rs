//! The physical GICv2 (GIC-400) as the hypervisor drives it: distributor and CPU interface by
//! MMIO, the virtual interface control (GICH) for list registers. The guest's CPU interface is
//! the hardware GICV frame, mapped at the partition's GICC address (Arm IHI 0048B, chapter 5).

use core::fmt::Write;
use core::sync::atomic::{AtomicU8, Ordering};

use aarch64_cpu::asm::barrier;
use tock_registers::interfaces::{ReadWriteable, Readable, Writeable};
use tock_registers::register_bitfields;
use tock_registers::register_structs;
use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};

use super::mmio::Frame;
use crate::interrupts::spi_targets::SpiTargets;

register_bitfields! {u32,
    /// GICD_TYPER.
    GICD_TYPER [
        /// ITLinesNumber: the distributor has 32 * (N + 1) interrupt lines.
        ITLINES OFFSET(0) NUMBITS(5) [],
    ],
    /// GICC_CTLR (non-secure view).
    GICC_CTLR [
        /// EnableGrp1.
        ENABLE OFFSET(0) NUMBITS(1) [],
        /// EOImodeNS: EOIR only drops the priority; DIR deactivates.
        EOIMODE OFFSET(9) NUMBITS(1) [],
    ],
    /// GICH_HCR.
    GICH_HCR [
        /// En: the virtual CPU interface runs.
        EN OFFSET(0) NUMBITS(1) [],
        /// UIE: underflow maintenance interrupt.
        UIE OFFSET(1) NUMBITS(1) [],
    ],
    /// GICH_VTR.
    GICH_VTR [
        /// ListRegs: the number of list registers minus one.
        LIST_REGS OFFSET(0) NUMBITS(6) [],
    ],
}

register_structs! {
    /// The GICv2 distributor (Arm IHI 0048B, 4.1.2).
    pub Distributor {
        (0x000 => ctlr: ReadWrite<u32>),
        (0x004 => typer: ReadOnly<u32, GICD_TYPER::Register>),
        (0x008 => _reserved0),
        (0x100 => isenabler: [ReadWrite<u32>; 32]),
        (0x180 => icenabler: [ReadWrite<u32>; 32]),
        (0x200 => ispendr: [ReadWrite<u32>; 32]),
        (0x280 => icpendr: [ReadWrite<u32>; 32]),
        (0x300 => _reserved1),
        (0x400 => ipriorityr: [ReadWrite<u32>; 255]),
        (0x7fc => _reserved2),
        (0x800 => itargetsr: [ReadWrite<u8>; 1020]),
        (0xbfc => _reserved3),
        (0xc00 => icfgr: [ReadWrite<u32>; 64]),
        (0xd00 => _reserved4),
        (0xf00 => sgir: WriteOnly<u32>),
        (0xf04 => _reserved5),
        (0x1000 => @END),
    },

    /// The GICv2 CPU interface (Arm IHI 0048B, 4.1.3).
    pub CpuInterface {
        (0x0000 => ctlr: ReadWrite<u32, GICC_CTLR::Register>),
        (0x0004 => pmr: ReadWrite<u32>),
        (0x0008 => _reserved0),
        (0x000c => iar: ReadOnly<u32>),
        (0x0010 => eoir: WriteOnly<u32>),
        (0x0014 => _reserved1),
        (0x1000 => dir: WriteOnly<u32>),
        (0x1004 => _reserved2),
        (0x2000 => @END),
    },

    /// The GICv2 virtual interface control (Arm IHI 0048B, 5.3).
    pub HypInterface {
        (0x000 => hcr: ReadWrite<u32, GICH_HCR::Register>),
        (0x004 => vtr: ReadOnly<u32, GICH_VTR::Register>),
        (0x008 => vmcr: ReadWrite<u32>),
        (0x00c => _reserved0),
        (0x030 => elrsr: [ReadOnly<u32>; 2]),
        (0x038 => _reserved1),
        (0x0f0 => apr: ReadWrite<u32>),
        (0x0f4 => _reserved2),
        (0x100 => lr: [ReadWrite<u32>; 64]),
        (0x200 => @END),
    }
}

const _: () = assert!(core::mem::size_of::<Distributor>() == 0x1000);
const _: () = assert!(core::mem::size_of::<CpuInterface>() == 0x2000);
const _: () = assert!(core::mem::size_of::<HypInterface>() == 0x200);

const DEFAULT_PRIORITY: u32 = 0x80;

static GICD: Frame<Distributor> = Frame::new();
/// The CPU interface's base (read by `fast_irq_v2` in vectors.S).
#[export_name = "BULKHEAD_GICV2_GICC"]
static GICC: Frame<CpuInterface> = Frame::new();
/// The hypervisor interface's base (read by `fast_irq_v2` in vectors.S).
#[export_name = "BULKHEAD_GICV2_GICH"]
static GICH: Frame<HypInterface> = Frame::new();
/// Each CPU's GIC CPU interface number (its bit in ITARGETSR and SGIR), by logical index.
static CPU_INTERFACE: [AtomicU8; crate::MAX_CPUS] = [const { AtomicU8::new(0) }; crate::MAX_CPUS];

fn cpu_interface(cpu: usize) -> u8 {
    CPU_INTERFACE
        .get(cpu)
        .map_or(0, |i| i.load(Ordering::Relaxed))
}

/// Initialises the distributor (SPIs disabled, default priority) and records the frames.
///
/// # Safety
/// The frames must be the GICv2 frames from the device tree, mapped as device memory at EL2,
/// and driven by nothing else.
pub unsafe fn init_distributor(distributor: u64, cpu: u64, hyp: u64) {
    // SAFETY: the caller's contract is `Frame::set`'s.
    unsafe {
        GICD.set(distributor);
        GICC.set(cpu);
        GICH.set(hyp);
    }
    let Some(gicd) = GICD.get() else { return };
    let words = (gicd.typer.read(GICD_TYPER::ITLINES) as usize + 1).min(32);
    gicd.ctlr.set(0);
    for word in 1..words {
        for bank in [&gicd.icenabler, &gicd.icpendr] {
            if let Some(register) = bank.get(word) {
                register.set(u32::MAX);
            }
        }
    }
    for register in gicd.ipriorityr.iter().take(words * 8).skip(8) {
        register.set(DEFAULT_PRIORITY * 0x0101_0101);
    }
    gicd.ctlr.set(1);
}

/// Sets up this CPU's interface and virtual interface (the banked registers of this CPU's own
/// interface).
pub fn init_cpu(cpu: usize) {
    let (Some(gicd), Some(gicc), Some(gich)) = (GICD.get(), GICC.get(), GICH.get()) else {
        return;
    };
    // ITARGETSR0 reads return this CPU's interface number as a one-hot mask (IHI 0048B 4.3.12).
    let mask = gicd.itargetsr.first().map_or(0, Readable::get);
    let interface = mask.trailing_zeros().min(7) as u8;
    if let Some(slot) = CPU_INTERFACE.get(cpu) {
        slot.store(interface, Ordering::Relaxed);
    }
    // The SPIs boot routed here before this CPU's interface was known, reported as the
    // distributor reads them back (`HIL:SPI-TARGETS`, docs/rpi4.md).
    let mut report: heapless::String<160> = heapless::String::new();
    let routed: heapless::Vec<(u32, u8), 64> = ROUTES
        .lock()
        .interface_known(cpu, interface)
        .take(64)
        .collect();
    for &(intid, byte) in routed.iter() {
        if let Some(target) = gicd.itargetsr.get(intid as usize) {
            target.set(byte);
            let _ = write!(report, " {intid}={:#04x}", target.get());
        }
    }
    if !report.is_empty() {
        crate::println!("HIL:SPI-TARGETS cpu={cpu} interface={interface}{report}");
    }
    // Test hook (scenario `spis_reach_cpus_2_3`): each of those SPIs that is a partition's (not
    // the console UART's) is made pending once at the distributor (GICD_ISPENDR), while still
    // disabled. When the partition enables it, the distributor delivers it by the ITARGETSR
    // just written, and the CPU that takes it counts it (`HIL:SPI-TAKEN`, test_hooks.rs)
    // before injecting it as a hardware interrupt.
    #[cfg(feature = "test-hooks")]
    for &(intid, _) in routed
        .iter()
        .filter(|&&(intid, _)| !crate::console::is_uart_interrupt(intid))
    {
        set_bit(|d| &d.ispendr, intid);
        crate::println!("HIL:TEST-PEND cpu={cpu} intid={intid}");
    }
    gicd.icenabler[0].set(u32::MAX);
    for register in gicd.ipriorityr.iter().take(8) {
        register.set(DEFAULT_PRIORITY * 0x0101_0101);
    }
    gicd.isenabler[0].set(
        (1 << crate::vgic::KICK_SGI)
            | (1 << crate::vgic::MAINTENANCE_INTID)
            | (1 << crate::vgic::HYP_TIMER_INTID),
    );
    gicc.pmr.set(0xff);
    gicc.ctlr
        .write(GICC_CTLR::ENABLE::SET + GICC_CTLR::EOIMODE::SET);
    for register in gich.lr.iter().take(list_register_count()) {
        register.set(0);
    }
    gich.vmcr.set(0);
    gich.hcr.write(GICH_HCR::EN::SET);
}

/// Acknowledges an interrupt: (INTID, the raw GICC_IAR value to write back); 1023 (spurious)
/// before the GIC is set up.
pub fn acknowledge() -> (u32, u32) {
    let iar = GICC.get().map_or(1023, |gicc| gicc.iar.get());
    (iar & 0x3ff, iar)
}

/// Priority drop (GICC_EOIR with EOImode = 1).
pub fn priority_drop(iar: u32) {
    if let Some(gicc) = GICC.get() {
        gicc.eoir.set(iar);
    }
}

/// Deactivation (GICC_DIR).
pub fn deactivate(iar: u32) {
    if let Some(gicc) = GICC.get() {
        gicc.dir.set(iar);
    }
}

/// Sends SGI `sgi` to the CPU whose logical index is `cpu`.
pub fn send_sgi(cpu: usize, sgi: u32) {
    let Some(gicd) = GICD.get() else { return };
    // The request the SGI announces is visible before the SGI.
    barrier::dsb(barrier::ISHST);
    gicd.sgir
        .set((1 << (16 + u32::from(cpu_interface(cpu)))) | (sgi & 0xf));
}

/// Writes `intid`'s bit in one of the distributor's one-bit-per-interrupt banks.
fn set_bit(bank: fn(&Distributor) -> &[ReadWrite<u32>; 32], intid: u32) {
    if let Some(register) = GICD
        .get()
        .and_then(|gicd| bank(gicd).get(intid as usize / 32))
    {
        register.set(1 << (intid % 32));
    }
}

/// Enables or disables an interrupt (SPIs anywhere; PPIs/SGIs only on the calling CPU).
pub fn set_enabled(intid: u32, enabled: bool) {
    if enabled {
        set_bit(|d| &d.isenabler, intid);
    } else {
        set_bit(|d| &d.icenabler, intid);
    }
}

/// Sets or clears an SPI's pending state.
pub fn set_pending(intid: u32, pending: bool) {
    if pending {
        set_bit(|d| &d.ispendr, intid);
    } else {
        set_bit(|d| &d.icpendr, intid);
    }
}

/// Every SPI's target CPU, written to ITARGETSR once the CPU's interface is known
/// (`crate::interrupts::spi_targets`).
static ROUTES: spin::Mutex<SpiTargets> = spin::Mutex::new(SpiTargets::new());

/// Routes SPI `intid` to the CPU whose logical index is `cpu` (ITARGETSR is byte-accessible:
/// only `intid`'s byte changes), now if that CPU's interface is known, else when it comes up.
pub fn route_spi(intid: u32, cpu: usize) {
    let Some((intid, byte)) = ROUTES.lock().route(intid, cpu) else {
        return;
    };
    if let Some(target) = GICD
        .get()
        .and_then(|gicd| gicd.itargetsr.get(intid as usize))
    {
        target.set(byte);
    }
}

/// Sets SPI `intid` edge-triggered or level-sensitive. Takes a lock: GICD_ICFGR is shared by
/// 16 interrupts.
pub fn set_edge(intid: u32, edge: bool) {
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

/// Number of list registers (GICH_VTR.ListRegs + 1).
pub fn list_register_count() -> usize {
    GICH.get()
        .map_or(0, |gich| gich.vtr.read(GICH_VTR::LIST_REGS) as usize + 1)
}

/// Bitmap of empty list registers (GICH_ELRSR0/1).
pub fn empty_list_registers() -> u64 {
    GICH.get().map_or(0, |gich| {
        u64::from(gich.elrsr[0].get()) | (u64::from(gich.elrsr[1].get()) << 32)
    })
}

/// Reads list register `index` (this CPU's: GICH is banked per CPU); 0 past the last.
pub fn read_lr(index: usize) -> u32 {
    GICH.get()
        .and_then(|gich| gich.lr.get(index))
        .map_or(0, Readable::get)
}

/// Writes list register `index`.
pub fn write_lr(index: usize, value: u32) {
    if let Some(lr) = GICH.get().and_then(|gich| gich.lr.get(index)) {
        lr.set(value);
    }
}

/// Enables or disables the underflow maintenance interrupt (GICH_HCR.UIE).
pub fn set_underflow_interrupt(enabled: bool) {
    if let Some(gich) = GICH.get() {
        gich.hcr.modify(if enabled {
            GICH_HCR::UIE::SET
        } else {
            GICH_HCR::UIE::CLEAR
        });
    }
}

/// Clears the virtual CPU interface's active priorities (GICH_APR) and saved state (GICH_VMCR).
pub fn reset_virtual_interface() {
    if let Some(gich) = GICH.get() {
        gich.apr.set(0);
        gich.vmcr.set(0);
    }
}
