//! Sleeping in WFI on the virtual timer (for the attacker and the guard of `attacker_suite`, and
//! the heartbeat with `sleep=1`):
//! the timer's PPI is enabled in the partition's own GIC, so its interrupt reaches the vCPU and
//! wakes its WFI (interrupts stay masked: it is then acknowledged and ended by hand). An idle
//! vCPU leaves the host thread to the others under -icount, as a spinning one would not.

use core::sync::atomic::{AtomicUsize, Ordering};

use guest_shim::gic::{self, GicV3};
use guest_shim::timer;

/// GICv2 CPU interface offsets (Arm IHI 0048): CTLR, PMR, IAR, EOIR.
const GICC_CTLR: usize = 0x00;
const GICC_PMR: usize = 0x04;
const GICC_IAR: usize = 0x0c;
const GICC_EOIR: usize = 0x10;
/// GICD offsets for the GICv2 set-up.
const GICD_ISENABLER: usize = 0x100;
const GICD_IPRIORITYR: usize = 0x400;

/// 0 until [`init`]; then the GICv2 CPU interface's base, or 1 for a GICv3.
static CPU_INTERFACE: AtomicUsize = AtomicUsize::new(0);
const V3: usize = 1;

fn write32(addr: usize, value: u32) {
    // SAFETY: this partition's own GIC registers (from its boot arguments).
    unsafe { guest_shim::mmio::write32(addr, value) }
}

fn read32(addr: usize) -> u32 {
    // SAFETY: as for `write32`.
    unsafe { guest_shim::mmio::read32(addr) }
}

/// Sets up the virtual timer's interrupt in the partition's GIC (`gicr` 0: a GICv2, whose CPU
/// interface is at `gicd + 0x1_0000` as on QEMU virt).
pub fn init(gicd: usize, gicr: usize) {
    let intid = timer::VIRTUAL_TIMER_INTID;
    if gicr != 0 {
        // SAFETY: our own distributor and redistributor frames.
        let gic = unsafe { GicV3::new(gicd, gicr) };
        gic.wake_redistributor();
        gic.enable_distributor();
        gic.configure(intid, 0x80, 0);
        gic.set_enabled(intid, true);
        gic::enable_cpu_interface();
        CPU_INTERFACE.store(V3, Ordering::SeqCst);
    } else {
        let gicc = gicd + 0x1_0000;
        write32(gicd, 1);
        let word = gicd + GICD_IPRIORITYR + (intid as usize & !3);
        let shift = 8 * (intid % 4);
        write32(word, (read32(word) & !(0xff << shift)) | (0x80 << shift));
        write32(gicd + GICD_ISENABLER, 1 << intid);
        write32(gicc + GICC_PMR, 0xff);
        write32(gicc + GICC_CTLR, 1);
        CPU_INTERFACE.store(gicc, Ordering::SeqCst);
    }
}

/// The partition's GIC from the `gic=GICD,GICR` argument (`GICR` 0 for a GICv2), else QEMU
/// virt's GICv3 frames.
pub fn gic_from_args(info: &guest_shim::boot_info::BootInfo<'_>) -> (usize, usize) {
    info.arg("gic")
        .and_then(|text| {
            let (a, b) = text.split_once(',')?;
            Some((
                guest_shim::boot_info::parse_u64(a)? as usize,
                guest_shim::boot_info::parse_u64(b)? as usize,
            ))
        })
        .unwrap_or((0x0800_0000, 0x080a_0000))
}

/// Acknowledges and ends whatever interrupt is pending (the timer's).
pub fn drain() {
    match CPU_INTERFACE.load(Ordering::SeqCst) {
        0 => {}
        V3 => {
            let intid = gic::acknowledge();
            if intid < 1020 {
                gic::end_of_interrupt(intid);
            }
        }
        gicc => {
            let iar = read32(gicc + GICC_IAR);
            if iar & 0x3ff < 1020 {
                write32(gicc + GICC_EOIR, iar);
            }
        }
    }
}

/// Sleeps `micros` of guest time in WFI (busy-waits if [`init`] was not called).
pub fn sleep_us(micros: u64) {
    let deadline = timer::counter() + timer::frequency() * micros / 1_000_000;
    if CPU_INTERFACE.load(Ordering::SeqCst) == 0 {
        timer::delay_us(micros);
        return;
    }
    timer::arm_virtual_timer(deadline);
    while timer::counter() < deadline {
        gic::wait_for_interrupt();
    }
    timer::stop_virtual_timer();
    drain();
}
