//! One face for both physical GIC generations, chosen once at boot from the device tree.

use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use super::{gic_v2, gic_v3};
use crate::vgic::list_registers::ListEntry;

/// Which backend drives the hardware: 0 = none, 2 = GICv2, 3 = GICv3.
static VERSION: AtomicU8 = AtomicU8::new(0);
/// Each CPU's MPIDR, by logical index (for GICv3 SGIs and routing).
static MPIDR: [AtomicU64; crate::MAX_CPUS] = [const { AtomicU64::new(0) }; crate::MAX_CPUS];

/// An acknowledged interrupt.
#[derive(Clone, Copy, Debug)]
pub struct Acknowledged {
    /// Its INTID (1020..1023: none).
    pub intid: u32,
    raw: u32,
}

impl Acknowledged {
    /// An interrupt the fast path already acknowledged: `raw` is what the acknowledge register
    /// returned (on GICv2 with an SGI's source CPU in bits [12:10], needed again to end it).
    pub fn already_acknowledged(raw: u32) -> Self {
        Acknowledged {
            intid: raw & 0x3ff,
            raw,
        }
    }

    /// The raw acknowledge value (INTID in bits [9:0]).
    pub fn raw(&self) -> u32 {
        (self.raw & !0x3ff) | self.intid
    }
}

/// Whether the hardware is a GICv3.
pub fn is_gic_v3() -> bool {
    is_v3()
}

/// Initialises the GICv3 distributor.
///
/// # Safety
/// As for [`gic_v3::init_distributor`].
pub unsafe fn init_v3(distributor: u64, redistributors: u64, size: u64) {
    VERSION.store(3, Ordering::Relaxed);
    // SAFETY: forwarded from the caller.
    unsafe { gic_v3::init_distributor(distributor, redistributors, size) };
}

/// Initialises the GICv2 distributor.
///
/// # Safety
/// As for [`gic_v2::init_distributor`].
pub unsafe fn init_v2(distributor: u64, cpu: u64, hyp: u64) {
    VERSION.store(2, Ordering::Relaxed);
    // SAFETY: forwarded from the caller.
    unsafe { gic_v2::init_distributor(distributor, cpu, hyp) };
}

fn is_v3() -> bool {
    VERSION.load(Ordering::Relaxed) == 3
}

fn present() -> bool {
    VERSION.load(Ordering::Relaxed) != 0
}

/// Sets up this CPU's interfaces.
pub fn init_cpu(cpu: usize, mpidr: u64) {
    if let Some(slot) = MPIDR.get(cpu) {
        slot.store(mpidr, Ordering::Relaxed);
    }
    match VERSION.load(Ordering::Relaxed) {
        3 => gic_v3::init_cpu(cpu, mpidr),
        2 => gic_v2::init_cpu(cpu),
        _ => {}
    }
}

fn mpidr(cpu: usize) -> u64 {
    MPIDR.get(cpu).map_or(0, |m| m.load(Ordering::Relaxed))
}

/// Acknowledges the highest-priority pending interrupt.
pub fn acknowledge() -> Acknowledged {
    if !present() {
        return Acknowledged {
            intid: crate::vgic::SPURIOUS,
            raw: 0,
        };
    }
    if is_v3() {
        let intid = gic_v3::acknowledge();
        Acknowledged { intid, raw: intid }
    } else {
        let (intid, raw) = gic_v2::acknowledge();
        Acknowledged { intid, raw }
    }
}

/// Drops the running priority (EOImode = 1: no deactivation).
pub fn priority_drop(irq: Acknowledged) {
    if is_v3() {
        gic_v3::priority_drop(irq.raw)
    } else {
        gic_v2::priority_drop(irq.raw)
    }
}

/// Deactivates.
pub fn deactivate(irq: Acknowledged) {
    if is_v3() {
        gic_v3::deactivate(irq.raw)
    } else {
        gic_v2::deactivate(irq.raw)
    }
}

/// Sends SGI `sgi` to logical CPU `cpu`.
pub fn send_sgi(cpu: usize, sgi: u32) {
    if is_v3() {
        gic_v3::send_sgi(mpidr(cpu), sgi)
    } else if present() {
        gic_v2::send_sgi(cpu, sgi)
    }
}

/// The ICC_SGI1R_EL1 value that sends SGI `sgi` to CPU `cpu` (GICv3), or 0 on a GICv2 or
/// without a GIC (the doorbell fast path is then off).
pub fn sgi1r_value(cpu: usize, sgi: u32) -> u64 {
    if is_v3() {
        gic_v3::sgi1r_value(mpidr(cpu), sgi)
    } else {
        0
    }
}

/// Enables or disables SPI `intid`.
pub fn set_spi_enabled(intid: u32, enabled: bool) {
    if is_v3() {
        gic_v3::set_spi_enabled(intid, enabled)
    } else {
        gic_v2::set_enabled(intid, enabled)
    }
}

/// Enables or disables private interrupt `intid` of logical CPU `cpu` (GICv2: only the calling
/// CPU can reach its banked registers; other CPUs are ignored).
pub fn set_private_enabled(cpu: usize, intid: u32, enabled: bool) {
    if is_v3() {
        gic_v3::set_private_enabled(cpu, intid, enabled)
    } else if cpu == super::current_cpu() {
        gic_v2::set_enabled(intid, enabled)
    }
}

/// Sets or clears SPI `intid`'s pending state.
pub fn set_spi_pending(intid: u32, pending: bool) {
    if is_v3() {
        gic_v3::set_spi_pending(intid, pending)
    } else {
        gic_v2::set_pending(intid, pending)
    }
}

/// Routes SPI `intid` to logical CPU `cpu`.
pub fn route_spi(intid: u32, cpu: usize) {
    if is_v3() {
        gic_v3::route_spi(intid, mpidr(cpu))
    } else {
        gic_v2::route_spi(intid, cpu)
    }
}

/// Sets SPI `intid`'s trigger mode.
pub fn set_spi_edge(intid: u32, edge: bool) {
    if is_v3() {
        gic_v3::set_spi_edge(intid, edge)
    } else {
        gic_v2::set_edge(intid, edge)
    }
}

/// Number of list registers.
pub fn list_register_count() -> usize {
    if is_v3() {
        gic_v3::list_register_count()
    } else {
        gic_v2::list_register_count()
    }
}

/// Bitmap of empty list registers.
pub fn empty_list_registers() -> u64 {
    if is_v3() {
        gic_v3::empty_list_registers()
    } else {
        gic_v2::empty_list_registers()
    }
}

/// Reads list register `index`.
pub fn read_lr(index: usize) -> ListEntry {
    if is_v3() {
        ListEntry::decode_v3(gic_v3::read_lr(index))
    } else {
        ListEntry::decode_v2(gic_v2::read_lr(index))
    }
}

/// Writes list register `index`.
pub fn write_lr(index: usize, entry: &ListEntry) {
    if is_v3() {
        gic_v3::write_lr(index, entry.encode_v3())
    } else {
        gic_v2::write_lr(index, entry.encode_v2())
    }
}

/// Enables or disables the underflow maintenance interrupt.
pub fn set_underflow_interrupt(enabled: bool) {
    if is_v3() {
        gic_v3::set_underflow_interrupt(enabled)
    } else if present() {
        gic_v2::set_underflow_interrupt(enabled)
    }
}

/// Clears the virtual CPU interface's active priorities and saved state (before a vCPU starts).
pub fn reset_virtual_interface() {
    if is_v3() {
        gic_v3::reset_virtual_interface()
    } else if present() {
        gic_v2::reset_virtual_interface()
    }
}

/// Deactivates physical interrupt `intid` that a list register forwarded with the HW bit but
/// the guest never deactivated (a vCPU being reset).
pub fn deactivate_intid(intid: u32) {
    if is_v3() {
        gic_v3::deactivate(intid)
    } else if present() {
        gic_v2::deactivate(intid)
    }
}
