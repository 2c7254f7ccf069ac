//! The virtual GICv3 redistributors: one pair of 64 KiB frames per vCPU (RD_base, then
//! SGI_base), laid out contiguously so the guest finds vCPU `n` at `n * 0x20000`
//! (Arm IHI 0069, 12.10 and 12.11).

use super::distributor::Effects;
use super::irq_state::{bitmap, PrivateIrqs};
use super::{Effect, VTIMER_INTID};

/// Bytes per vCPU: RD_base and SGI_base frames.
pub const FRAME_STRIDE: u64 = 0x2_0000;
/// Offset of the SGI_base frame.
const SGI_BASE: u64 = 0x1_0000;

/// RD_base register offsets.
mod rd {
    pub const CTLR: u64 = 0x0000;
    pub const IIDR: u64 = 0x0004;
    pub const TYPER: u64 = 0x0008;
    pub const WAKER: u64 = 0x0014;
    pub const PIDR2: u64 = 0xffe8;
}

/// SGI_base register offsets.
mod sgi {
    pub const IGROUPR0: u64 = 0x0080;
    pub const ISENABLER0: u64 = 0x0100;
    pub const ICENABLER0: u64 = 0x0180;
    pub const ISPENDR0: u64 = 0x0200;
    pub const ICPENDR0: u64 = 0x0280;
    pub const IPRIORITYR: u64 = 0x0400;
    pub const ICFGR0: u64 = 0x0c00;
    pub const ICFGR1: u64 = 0x0c04;
}

/// GICR_WAKER: ProcessorSleep [1], ChildrenAsleep [2].
const WAKER_PROCESSOR_SLEEP: u32 = 1 << 1;
const WAKER_CHILDREN_ASLEEP: u32 = 1 << 2;

/// One vCPU's redistributor.
#[derive(Clone, Debug, Default)]
pub struct VirtualRedistributor {
    /// The vCPU's SGIs and PPIs.
    pub private: PrivateIrqs,
    /// The redistributor is asleep (GICR_WAKER.ProcessorSleep; set at reset).
    asleep: bool,
    /// Guest writes to interrupts it does not own, ignored.
    pub ignored_writes: u32,
}

impl VirtualRedistributor {
    /// A redistributor in its reset state (asleep).
    pub fn new() -> Self {
        VirtualRedistributor {
            asleep: true,
            ..Default::default()
        }
    }

    /// A read of `size` bytes at `offset` in the frames of vCPU `vcpu` (of `vcpus`).
    pub fn read(&self, vcpu: usize, vcpus: usize, offset: u64) -> u64 {
        match offset {
            rd::CTLR => 0,
            rd::IIDR => 0x0000_043b,
            rd::TYPER => {
                // Affinity_Value [63:32] = the vCPU's MPIDR (Aff0 = index), Processor_Number
                // [23:8], Last [4]; no physical LPIs.
                let last = if vcpu + 1 == vcpus { 1 << 4 } else { 0 };
                ((vcpu as u64) << 32) | ((vcpu as u64 & 0xffff) << 8) | last
            }
            o if o == rd::TYPER + 4 => vcpu as u64,
            rd::WAKER => {
                if self.asleep {
                    u64::from(WAKER_PROCESSOR_SLEEP | WAKER_CHILDREN_ASLEEP)
                } else {
                    0
                }
            }
            rd::PIDR2 | 0x1ffe8 => 0x3b,
            o => self.read_sgi_frame(o.wrapping_sub(SGI_BASE)),
        }
    }

    fn read_sgi_frame(&self, offset: u64) -> u64 {
        let irqs = &self.private.irqs;
        u64::from(match offset {
            sgi::IGROUPR0 => bitmap(irqs, |i| i.group1),
            sgi::ISENABLER0 | sgi::ICENABLER0 => bitmap(irqs, |i| i.enabled),
            sgi::ISPENDR0 | sgi::ICPENDR0 => bitmap(irqs, |i| i.pending),
            o if (sgi::IPRIORITYR..sgi::IPRIORITYR + 32).contains(&o) => {
                let first = (o - sgi::IPRIORITYR) as usize;
                (0..4).fold(0u32, |acc, i| {
                    acc | u32::from(irqs.get(first + i).map_or(0, |irq| irq.priority)) << (8 * i)
                })
            }
            sgi::ICFGR0 => 0xaaaa_aaaa,
            sgi::ICFGR1 => (0..16).fold(0u32, |acc, i| {
                if irqs.get(16 + i).is_some_and(|irq| irq.edge) {
                    acc | 2 << (2 * i)
                } else {
                    acc
                }
            }),
            _ => 0,
        })
    }

    /// A write of `value` at `offset` in the frames of vCPU `vcpu`.
    pub fn write(&mut self, vcpu: usize, offset: u64, size: u8, value: u64) -> Effects {
        let mut effects = Effects::new();
        let value32 = value as u32;
        match offset {
            rd::WAKER => self.asleep = value32 & WAKER_PROCESSOR_SLEEP != 0,
            o if o >= SGI_BASE => {
                let offset = o - SGI_BASE;
                match offset {
                    sgi::IGROUPR0 => {
                        for (i, irq) in self.private.irqs.iter_mut().enumerate() {
                            irq.group1 = value32 & (1 << i) != 0;
                        }
                    }
                    sgi::ISENABLER0 | sgi::ICENABLER0 => {
                        let enable = offset == sgi::ISENABLER0;
                        for i in 0..32u32 {
                            if value32 & (1 << i) == 0 {
                                continue;
                            }
                            if let Some(irq) = self.private.irqs.get_mut(i as usize) {
                                irq.enabled = enable;
                                if i == VTIMER_INTID {
                                    let _ = effects.push(Effect::SetEnabled {
                                        intid: i,
                                        enabled: enable,
                                        vcpu,
                                    });
                                } else if enable && irq.pending && i < 16 {
                                    let _ = effects.push(Effect::InjectVirtual {
                                        intid: i,
                                        vcpu,
                                        source: vcpu,
                                    });
                                }
                            }
                        }
                    }
                    sgi::ISPENDR0 => {
                        for i in 0..16u32 {
                            if value32 & (1 << i) != 0 {
                                if let Some(irq) = self.private.irqs.get_mut(i as usize) {
                                    irq.pending = true;
                                    if irq.enabled {
                                        let _ = effects.push(Effect::InjectVirtual {
                                            intid: i,
                                            vcpu,
                                            source: vcpu,
                                        });
                                    }
                                }
                            }
                        }
                        if value32 >> 16 != 0 {
                            self.ignored_writes = self.ignored_writes.saturating_add(1);
                        }
                    }
                    sgi::ICPENDR0 => {
                        for (i, irq) in self.private.irqs.iter_mut().enumerate().take(16) {
                            if value32 & (1 << i) != 0 {
                                irq.pending = false;
                            }
                        }
                    }
                    o if (sgi::IPRIORITYR..sgi::IPRIORITYR + 32).contains(&o) => {
                        let first = (o - sgi::IPRIORITYR) as usize;
                        for i in 0..usize::from(size.min(4)) {
                            if let Some(irq) = self.private.irqs.get_mut(first + i) {
                                irq.priority = (value >> (8 * i)) as u8;
                            }
                        }
                    }
                    sgi::ICFGR1 => {
                        for i in 0..16 {
                            if let Some(irq) = self.private.irqs.get_mut(16 + i) {
                                irq.edge = value32 & (2 << (2 * i)) != 0;
                            }
                        }
                    }
                    _ => self.ignored_writes = self.ignored_writes.saturating_add(1),
                }
            }
            _ => self.ignored_writes = self.ignored_writes.saturating_add(1),
        }
        effects
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typer_names_the_vcpu_and_marks_the_last_frame() {
        let r = VirtualRedistributor::new();
        assert_eq!(r.read(0, 2, rd::TYPER), 0);
        assert_eq!(r.read(1, 2, rd::TYPER), (1 << 32) | (1 << 8) | (1 << 4));
        assert_eq!(
            r.read(1, 2, rd::TYPER + 4),
            1,
            "32-bit read of the affinity half"
        );
    }

    #[test]
    fn waker_wakes_the_redistributor() {
        let mut r = VirtualRedistributor::new();
        assert_eq!(r.read(0, 1, rd::WAKER), 0b110);
        r.write(0, rd::WAKER, 4, 0);
        assert_eq!(r.read(0, 1, rd::WAKER), 0, "ChildrenAsleep clears");
    }

    #[test]
    fn enabling_the_virtual_timer_ppi_enables_it_physically() {
        let mut r = VirtualRedistributor::new();
        let effects = r.write(1, SGI_BASE + sgi::ISENABLER0, 4, (1 << 27) | (1 << 1));
        assert_eq!(
            effects.as_slice(),
            &[Effect::SetEnabled {
                intid: 27,
                enabled: true,
                vcpu: 1
            }]
        );
        assert_eq!(
            r.read(1, 2, SGI_BASE + sgi::ISENABLER0),
            (1 << 27) | (1 << 1)
        );
    }

    #[test]
    fn priorities_and_ppi_configuration_read_back() {
        let mut r = VirtualRedistributor::new();
        r.write(0, SGI_BASE + sgi::IPRIORITYR + 24, 4, 0xa0a0_a0a0);
        assert_eq!(r.read(0, 1, SGI_BASE + sgi::IPRIORITYR + 24), 0xa0a0_a0a0);
        assert_eq!(r.read(0, 1, SGI_BASE + sgi::ICFGR0), 0xaaaa_aaaa);
        r.write(0, SGI_BASE + sgi::ICFGR1, 4, 2 << 22);
        assert_eq!(r.read(0, 1, SGI_BASE + sgi::ICFGR1), 2 << 22);
    }

    #[test]
    fn lpi_registers_read_as_zero() {
        let r = VirtualRedistributor::new();
        assert_eq!(r.read(0, 1, 0x70), 0, "PROPBASER");
        assert_eq!(r.read(0, 1, rd::CTLR), 0, "EnableLPIs stays 0");
    }
}
