//! A minimal GICv3 driver for bare-metal partitions: enough to receive an SPI (a doorbell) or
//! an SGI on one CPU and to send SGIs, through the system register CPU interface and one plain
//! 32-bit access per distributor or redistributor register ([`crate::mmio`]), so a hypervisor
//! can emulate every access. The same code programs QEMU's GICv3 bare and Bulkhead's virtual
//! one. Offsets are from Arm IHI 0069 (GICv3 and GICv4), 12.8 and 12.10.

use crate::mmio;

/// GICD_CTLR: EnableGrp1 [1], ARE [4] (one security state, as in a partition or QEMU `virt`).
const GICD_CTLR_GRP1_ARE: u32 = (1 << 1) | (1 << 4);
/// GICD_IGROUPR<n>: one bit per INTID, 1 = group 1.
const GICD_IGROUPR: usize = 0x080;
/// GICD_ISENABLER<n>: write 1 to enable.
const GICD_ISENABLER: usize = 0x100;
/// GICD_ICENABLER<n>: write 1 to disable.
const GICD_ICENABLER: usize = 0x180;
/// GICD_ISPENDR<n>: reads 1 for a pending interrupt.
const GICD_ISPENDR: usize = 0x200;
/// GICD_IPRIORITYR<n>: one byte per INTID.
const GICD_IPRIORITYR: usize = 0x400;
/// GICD_IROUTER<n>: 64 bits per SPI, the target's affinity.
const GICD_IROUTER: usize = 0x6000;
/// GICR_WAKER (RD_base + 0x14): ProcessorSleep [1], ChildrenAsleep [2].
const GICR_WAKER: usize = 0x14;
const GICR_WAKER_CHILDREN_ASLEEP: u32 = 1 << 2;
/// The SGI_base frame follows RD_base.
const SGI_BASE: usize = 0x1_0000;
/// Redistributor frames per CPU (RD_base and SGI_base, no virtual LPI frames).
pub const REDISTRIBUTOR_STRIDE: usize = 0x2_0000;
/// INTIDs from 1020 up are special: 1023 means nothing is pending.
pub const SPURIOUS: u32 = 1023;
/// The first SPI.
const FIRST_SPI: u32 = 32;

/// The word register of a one-bit-per-INTID array at `base`, and the INTID's bit in it.
fn bit_register(base: usize, intid: u32) -> (usize, u32) {
    (base + 4 * (intid / 32) as usize, 1 << (intid % 32))
}

/// The GICv3 as one CPU sees it: the distributor and that CPU's redistributor.
#[derive(Clone, Copy, Debug)]
pub struct GicV3 {
    distributor: usize,
    redistributor: usize,
}

impl GicV3 {
    /// The GICv3 with its distributor at `distributor` and the calling CPU's redistributor
    /// (RD_base) at `redistributor`.
    ///
    /// # Safety
    /// Both must be this guest's GIC frames (from its device tree or boot arguments), mapped
    /// as device memory or reached with the MMU off; the caller owns the interrupts it touches.
    pub unsafe fn new(distributor: usize, redistributor: usize) -> Self {
        GicV3 {
            distributor,
            redistributor,
        }
    }

    fn read(&self, addr: usize) -> u32 {
        // SAFETY: `addr` is a register of the GIC frames `new`'s caller vouched for; reading
        // these registers has no side effect.
        unsafe { mmio::read32(addr) }
    }

    fn write(&self, addr: usize, value: u32) {
        // SAFETY: as for `read`; the caller owns the interrupts written.
        unsafe { mmio::write32(addr, value) }
    }

    /// Sets `intid`'s bit in the one-bit-per-INTID array at `base` of its frame (the
    /// distributor for SPIs, the SGI frame for SGIs and PPIs) by a read-modify-write.
    fn set_bit(&self, base: usize, intid: u32) {
        let (register, bit) = bit_register(self.frame(intid) + base, intid);
        self.write(register, self.read(register) | bit);
    }

    /// The frame holding `intid`'s configuration.
    fn frame(&self, intid: u32) -> usize {
        if intid < FIRST_SPI {
            self.redistributor + SGI_BASE
        } else {
            self.distributor
        }
    }

    /// Turns the distributor on for group-1 interrupts with affinity routing.
    pub fn enable_distributor(&self) {
        self.write(self.distributor, GICD_CTLR_GRP1_ARE);
    }

    /// Wakes this CPU's redistributor (clears ProcessorSleep) and waits until it is awake.
    pub fn wake_redistributor(&self) {
        self.write(self.redistributor + GICR_WAKER, 0);
        while self.read(self.redistributor + GICR_WAKER) & GICR_WAKER_CHILDREN_ASLEEP != 0 {
            core::hint::spin_loop();
        }
    }

    /// Makes `intid` a group-1 interrupt of priority `priority` (lower is more urgent); an SPI
    /// is also routed to the CPU with affinity `target` (Aff0 in bits [7:0]). It stays disabled.
    pub fn configure(&self, intid: u32, priority: u8, target: u64) {
        self.set_bit(GICD_IGROUPR, intid);
        let word = self.frame(intid) + GICD_IPRIORITYR + (intid as usize & !3);
        let shift = 8 * (intid % 4);
        let value = (self.read(word) & !(0xff << shift)) | (u32::from(priority) << shift);
        self.write(word, value);
        if intid >= FIRST_SPI {
            let route = self.distributor + GICD_IROUTER + 8 * intid as usize;
            self.write(route, target as u32);
            self.write(route + 4, (target >> 32) as u32);
        }
    }

    /// Enables or disables `intid`.
    pub fn set_enabled(&self, intid: u32, enabled: bool) {
        let base = if enabled {
            GICD_ISENABLER
        } else {
            GICD_ICENABLER
        };
        let (register, bit) = bit_register(self.frame(intid) + base, intid);
        self.write(register, bit);
    }

    /// Whether `intid` is pending (and not yet acknowledged).
    pub fn is_pending(&self, intid: u32) -> bool {
        let (register, bit) = bit_register(self.frame(intid) + GICD_ISPENDR, intid);
        self.read(register) & bit != 0
    }
}

/// ICC_SGI1R_EL1 for SGI `sgi` to the CPU with Aff0 `target` in the caller's cluster (Aff3..1
/// zero): INTID [27:24], TargetList [15:0].
pub fn sgi_value(sgi: u32, target: u8) -> u64 {
    (u64::from(sgi & 0xf) << 24) | (1 << (target & 0xf))
}

/// Enables the system register CPU interface, lets every priority through and enables group 1.
#[cfg(target_arch = "aarch64")]
pub fn enable_cpu_interface() {
    // SAFETY: configures this CPU's own (virtual) GIC CPU interface: ICC_SRE_EL1.SRE,
    // ICC_PMR_EL1 = 0xff, ICC_IGRPEN1_EL1 = 1. No memory is touched.
    unsafe {
        core::arch::asm!(
            "mrs {t}, S3_0_C12_C12_5", // ICC_SRE_EL1
            "orr {t}, {t}, #1",
            "msr S3_0_C12_C12_5, {t}",
            "isb",
            "mov {t}, #0xff",
            "msr S3_0_C4_C6_0, {t}", // ICC_PMR_EL1
            "mov {t}, #1",
            "msr S3_0_C12_C12_7, {t}", // ICC_IGRPEN1_EL1
            "isb",
            t = out(reg) _,
            options(nostack),
        );
    }
}

/// Acknowledges the most urgent pending group-1 interrupt (ICC_IAR1_EL1): its INTID, or
/// [`SPURIOUS`] if none.
#[cfg(target_arch = "aarch64")]
pub fn acknowledge() -> u32 {
    let intid: u64;
    // SAFETY: reading ICC_IAR1_EL1 acknowledges an interrupt of this CPU; the caller ends it.
    unsafe { core::arch::asm!("mrs {}, S3_0_C12_C12_0", out(reg) intid, options(nostack)) };
    (intid & 0xff_ffff) as u32
}

/// Ends interrupt `intid` (ICC_EOIR1_EL1: priority drop and deactivation).
#[cfg(target_arch = "aarch64")]
pub fn end_of_interrupt(intid: u32) {
    // SAFETY: ends an interrupt this CPU acknowledged.
    unsafe {
        core::arch::asm!("msr S3_0_C12_C12_1, {}", in(reg) u64::from(intid), options(nostack))
    };
}

/// Sends SGI `sgi` to the CPU with Aff0 `target` in the caller's cluster.
#[cfg(target_arch = "aarch64")]
pub fn send_sgi(sgi: u32, target: u8) {
    // SAFETY: ICC_SGI1R_EL1 raises an SGI; no memory is touched.
    unsafe {
        core::arch::asm!(
            "msr S3_0_C12_C11_5, {}", "isb", in(reg) sgi_value(sgi, target), options(nostack)
        )
    };
}

/// Waits in `wfi` until an interrupt is pending at this CPU's interface (or another wake-up
/// event). An interrupt masked by PSTATE.I still wakes the CPU; it is then left pending, for
/// [`acknowledge`].
#[cfg(target_arch = "aarch64")]
pub fn wait_for_interrupt() {
    // SAFETY: `wfi` only waits.
    unsafe { core::arch::asm!("dsb sy", "wfi", options(nomem, nostack)) };
}

/// Host builds: no CPU interface.
#[cfg(not(target_arch = "aarch64"))]
pub fn enable_cpu_interface() {}

/// Host builds: nothing to wait for.
#[cfg(not(target_arch = "aarch64"))]
pub fn wait_for_interrupt() {}

/// Host builds: nothing is ever pending.
#[cfg(not(target_arch = "aarch64"))]
pub fn acknowledge() -> u32 {
    SPURIOUS
}

/// Host builds: no CPU interface.
#[cfg(not(target_arch = "aarch64"))]
pub fn end_of_interrupt(_intid: u32) {}

/// Host builds: no CPU interface.
#[cfg(not(target_arch = "aarch64"))]
pub fn send_sgi(_sgi: u32, _target: u8) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_registers_hold_32_intids_each() {
        assert_eq!(bit_register(0x100, 48), (0x104, 1 << 16));
        assert_eq!(bit_register(0x100, 31), (0x100, 1 << 31));
    }

    #[test]
    fn sgi_values_name_the_intid_and_the_target() {
        assert_eq!(sgi_value(1, 1), 0x0100_0002);
        assert_eq!(sgi_value(15, 0), 0x0f00_0001);
    }
}
