//! The virtual distributor (GICD): a pure model of the register file a partition sees.
//!
//! Register offsets and layouts follow the GICv3 architecture specification (Arm IHI 0069,
//! 12.9 "The GIC Distributor register descriptions") and, for GICv2, Arm IHI 0048 4.3. With
//! GICv3 the guest uses affinity routing (ARE = 1, DS = 1: one security state), so banked
//! SGI/PPI registers live in the redistributor; with GICv2 they are banked here per vCPU.

use heapless::Vec;

use super::irq_state::{bitmap, IrqConfig, PrivateIrqs};
use super::{Effect, IntidSet, FIRST_SPI, MAX_INTIDS};

/// The GIC generation a partition sees (the same as the hardware's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GicVersion {
    /// GICv2 (GIC-400).
    V2,
    /// GICv3.
    V3,
}

/// Effects of one access; a 32-bit write changes at most 32 interrupts.
pub type Effects = Vec<Effect, 40>;

/// Register offsets.
mod reg {
    pub const CTLR: u64 = 0x000;
    pub const TYPER: u64 = 0x004;
    pub const IIDR: u64 = 0x008;
    pub const IGROUPR: u64 = 0x080;
    pub const ISENABLER: u64 = 0x100;
    pub const ICENABLER: u64 = 0x180;
    pub const ISPENDR: u64 = 0x200;
    pub const ICPENDR: u64 = 0x280;
    pub const ISACTIVER: u64 = 0x300;
    pub const IPRIORITYR: u64 = 0x400;
    pub const ITARGETSR: u64 = 0x800;
    pub const ICFGR: u64 = 0xc00;
    pub const SGIR: u64 = 0xf00;
    pub const IROUTER: u64 = 0x6000;
    pub const PIDR2: u64 = 0xffe8;
}

/// GICD_CTLR (DS = 1): EnableGrp0 [0], EnableGrp1 [1], ARE [4] (RAO/WI), DS [6] (RAO/WI).
const CTLR_ENABLES: u32 = 0b11;
const CTLR_ARE_DS: u32 = (1 << 4) | (1 << 6);
/// GICD_IIDR: Arm as implementer (0x43b), product 0 (a virtual distributor).
const IIDR: u32 = 0x0000_043b;
/// GICD_TYPER (v3): IDbits = 9 (10-bit INTIDs) at [23:19], No1N [25].
const TYPER_V3_FIXED: u32 = (9 << 19) | (1 << 25);
/// GICD_IROUTER.Interrupt_Routing_Mode (1 of N).
const IROUTER_IRM: u64 = 1 << 31;

/// The distributor of one partition.
#[derive(Clone, Debug)]
pub struct VirtualDistributor {
    version: GicVersion,
    vcpus: usize,
    /// SPIs backed by a physical interrupt this partition owns.
    hardware: IntidSet,
    /// SPIs that exist only in this model (the partition's doorbells).
    software: IntidSet,
    ctlr: u32,
    /// Number of INTIDs exposed (a multiple of 32).
    lines: u32,
    spis: [IrqConfig; MAX_INTIDS],
    /// Guest writes to interrupts it does not own, ignored.
    pub ignored_writes: u32,
}

impl VirtualDistributor {
    /// A distributor in its reset state for a partition with `vcpus` vCPUs that owns the
    /// hardware SPIs `hardware` and the purely virtual SPIs `software`.
    #[inline(always)]
    pub fn new(version: GicVersion, vcpus: usize, hardware: IntidSet, software: IntidSet) -> Self {
        // The highest SPI either set holds, a 32-INTID word at a time (word 0 holds no SPIs).
        let highest = (1..MAX_INTIDS / 32)
            .rev()
            .find_map(|word| {
                let bits = hardware.word(word) | software.word(word);
                (bits != 0).then(|| word as u32 * 32 + 31 - bits.leading_zeros())
            })
            .unwrap_or(FIRST_SPI - 1);
        let lines = (highest + 1).div_ceil(32) * 32;
        VirtualDistributor {
            version,
            vcpus,
            hardware,
            software,
            ctlr: 0,
            lines: lines.max(64),
            spis: [IrqConfig::default(); MAX_INTIDS],
            ignored_writes: 0,
        }
    }

    /// Back to the reset state (a partition restart), keeping what the partition owns.
    pub fn reset(&mut self) {
        self.ctlr = 0;
        self.spis = [IrqConfig::default(); MAX_INTIDS];
    }

    /// The hardware SPIs the partition owns.
    pub fn hardware(&self) -> &IntidSet {
        &self.hardware
    }

    /// Whether the distributor forwards group-1 interrupts (GICD_CTLR.EnableGrp1).
    pub fn enabled(&self) -> bool {
        self.ctlr & 0b10 != 0
    }

    /// Whether the distributor forwards interrupts of `irq`'s group (GICD_CTLR.EnableGrp0 or
    /// EnableGrp1): a GICv2 Linux enables group 0 only and keeps its interrupts there.
    fn forwards(&self, irq: &IrqConfig) -> bool {
        let enable = if irq.group1 { 0b10 } else { 0b01 };
        self.ctlr & enable != 0
    }

    /// The configuration of purely virtual SPI `intid` when a ring now would be forwarded to a
    /// vCPU (enabled, its group enabled), else `None`: what the doorbell fast path injects.
    pub fn forwarded_software_spi(&self, intid: u32) -> Option<IrqConfig> {
        if !self.software.contains(intid) {
            return None;
        }
        self.spis
            .get(intid as usize)
            .filter(|irq| irq.enabled && self.forwards(irq))
            .copied()
    }

    /// Whether the partition owns SPI `intid` at all.
    pub fn owns(&self, intid: u32) -> bool {
        self.hardware.contains(intid) || self.software.contains(intid)
    }

    /// The guest's configuration of SPI `intid`.
    pub fn spi(&self, intid: u32) -> Option<&IrqConfig> {
        self.spis
            .get(intid as usize)
            .filter(|_| intid >= FIRST_SPI && self.owns(intid))
    }

    /// Marks software SPI `intid` pending (a doorbell rang) or not. When the guest lets it
    /// through now (enabled, distributor on), the pending state is handed to the caller, which
    /// must inject it on vCPU `target` of the returned configuration; otherwise it stays
    /// latched here until the guest enables it.
    pub fn set_software_pending(&mut self, intid: u32, pending: bool) -> Option<IrqConfig> {
        if !self.software.contains(intid) {
            return None;
        }
        let forwarded = self
            .spis
            .get(intid as usize)
            .is_some_and(|irq| irq.enabled && self.forwards(irq));
        let irq = self.spis.get_mut(intid as usize)?;
        irq.pending = pending && !forwarded;
        (pending && forwarded).then_some(*irq)
    }

    fn typer(&self) -> u32 {
        let lines = (self.lines / 32).saturating_sub(1) & 0x1f;
        let cpus = ((self.vcpus.max(1) - 1) as u32 & 7) << 5;
        match self.version {
            GicVersion::V3 => TYPER_V3_FIXED | cpus | lines,
            GicVersion::V2 => cpus | lines,
        }
    }

    /// A guest read of `size` bytes at `offset` by vCPU `vcpu`. `private` is the calling
    /// vCPU's banked SGI/PPI state (used by GICv2 only). Unimplemented offsets read as zero;
    /// the value never has more than `size` bytes (a narrow read of a word-only register gets
    /// its low bytes).
    pub fn read(&self, vcpu: usize, private: &PrivateIrqs, offset: u64, size: u8) -> u64 {
        let value = self.read_register(vcpu, private, offset, size);
        match size {
            1 | 2 | 4 => value & ((1u64 << (8 * u32::from(size))) - 1),
            _ => value,
        }
    }

    fn read_register(&self, vcpu: usize, private: &PrivateIrqs, offset: u64, size: u8) -> u64 {
        let word = |base: u64| ((offset - base) / 4) as usize;
        let private_bank = self.version == GicVersion::V2;
        let bits = |base: u64, bit: &dyn Fn(&IrqConfig) -> bool| -> u64 {
            let index = word(base);
            let value = if index == 0 {
                if private_bank {
                    bitmap(&private.irqs, bit)
                } else {
                    0
                }
            } else {
                self.spi_bitmap(index, bit)
            };
            u64::from(value)
        };
        match offset {
            reg::CTLR => u64::from(
                self.ctlr
                    | if self.version == GicVersion::V3 {
                        CTLR_ARE_DS
                    } else {
                        0
                    },
            ),
            reg::TYPER => u64::from(self.typer()),
            reg::IIDR => u64::from(IIDR),
            o if (reg::IGROUPR..reg::ISENABLER).contains(&o) => bits(reg::IGROUPR, &|i| i.group1),
            o if (reg::ISENABLER..reg::ICENABLER).contains(&o) => {
                bits(reg::ISENABLER, &|i| i.enabled)
            }
            o if (reg::ICENABLER..reg::ISPENDR).contains(&o) => {
                bits(reg::ICENABLER, &|i| i.enabled)
            }
            o if (reg::ISPENDR..reg::ICPENDR).contains(&o) => bits(reg::ISPENDR, &|i| i.pending),
            o if (reg::ICPENDR..reg::ISACTIVER).contains(&o) => bits(reg::ICPENDR, &|i| i.pending),
            o if (reg::IPRIORITYR..reg::ITARGETSR).contains(&o) => {
                self.bytes(private, offset, size, reg::IPRIORITYR, |i| i.priority)
            }
            o if (reg::ITARGETSR..reg::ITARGETSR + 32).contains(&o)
                && self.version == GicVersion::V2 =>
            {
                // GICD_ITARGETSR0..7 are read-only and name the reading CPU (IHI 0048B 4.3.12):
                // that is how a GICv2 guest learns its CPU interface numbers.
                let own = u64::from(1u8 << (vcpu & 7));
                (0..u64::from(size.min(4))).fold(0, |acc, i| acc | own << (8 * i))
            }
            o if (reg::ITARGETSR..reg::ICFGR).contains(&o) && self.version == GicVersion::V2 => {
                self.bytes(private, offset, size, reg::ITARGETSR, |i| {
                    1u8 << (i.target & 7)
                })
            }
            o if (reg::ICFGR..reg::ICFGR + 0x100).contains(&o) => {
                let first = ((o - reg::ICFGR) / 4 * 16) as u32;
                let mut value = 0u64;
                for i in 0..16 {
                    let intid = first + i;
                    let edge = if intid < FIRST_SPI {
                        private_bank && private.irqs.get(intid as usize).is_some_and(|irq| irq.edge)
                            || intid < 16
                    } else {
                        self.spi(intid).is_some_and(|irq| irq.edge)
                    };
                    if edge {
                        value |= 2 << (2 * i);
                    }
                }
                value
            }
            o if (reg::IROUTER + 8 * u64::from(FIRST_SPI)
                ..reg::IROUTER + 8 * MAX_INTIDS as u64)
                .contains(&o)
                && self.version == GicVersion::V3 =>
            {
                let intid = ((o - reg::IROUTER) / 8) as u32;
                let route = self.spi(intid).map_or(0, |irq| irq.target as u64);
                if o % 8 == 4 {
                    route >> 32
                } else {
                    route
                }
            }
            reg::PIDR2 => match self.version {
                GicVersion::V3 => 0x3b,
                GicVersion::V2 => 0x2b,
            },
            _ => 0,
        }
    }

    fn spi_bitmap(&self, index: usize, bit: &dyn Fn(&IrqConfig) -> bool) -> u32 {
        let first = index * 32;
        (0..32).fold(0, |acc, i| {
            let intid = (first + i) as u32;
            match self.spi(intid) {
                Some(irq) if bit(irq) => acc | 1 << i,
                _ => acc,
            }
        })
    }

    fn bytes(
        &self,
        private: &PrivateIrqs,
        offset: u64,
        size: u8,
        base: u64,
        field: impl Fn(&IrqConfig) -> u8,
    ) -> u64 {
        let first = (offset - base) as u32;
        (0..u32::from(size.min(8))).fold(0u64, |acc, i| {
            let intid = first + i;
            let value = if intid < FIRST_SPI {
                if self.version == GicVersion::V2 {
                    private.irqs.get(intid as usize).map_or(0, &field)
                } else {
                    0
                }
            } else {
                self.spi(intid).map_or(0, &field)
            };
            acc | u64::from(value) << (8 * i)
        })
    }

    /// A guest write of `size` bytes of `value` at `offset` by vCPU `vcpu`, whose banked
    /// SGI/PPI state is `private` (GICv2). Returns what the physical GIC must do.
    pub fn write(
        &mut self,
        vcpu: usize,
        private: &mut PrivateIrqs,
        offset: u64,
        size: u8,
        value: u64,
    ) -> Effects {
        let mut effects = Effects::new();
        let value32 = value as u32;
        match offset {
            reg::CTLR => {
                let was = self.ctlr;
                self.ctlr = value32 & CTLR_ENABLES;
                if self.ctlr & !was != 0 {
                    self.redeliver_software(&mut effects);
                }
            }
            o if (reg::IGROUPR..reg::ISENABLER).contains(&o) => {
                self.each_bit(
                    vcpu,
                    private,
                    o - reg::IGROUPR,
                    u32::MAX,
                    &mut effects,
                    |_, irq, set, _, _| irq.group1 = set,
                    value32,
                );
            }
            o if (reg::ISENABLER..reg::ICENABLER).contains(&o) => {
                self.each_bit(
                    vcpu,
                    private,
                    o - reg::ISENABLER,
                    value32,
                    &mut effects,
                    Self::enable,
                    value32,
                );
            }
            o if (reg::ICENABLER..reg::ISPENDR).contains(&o) => {
                self.each_bit(
                    vcpu,
                    private,
                    o - reg::ICENABLER,
                    value32,
                    &mut effects,
                    Self::disable,
                    value32,
                );
            }
            o if (reg::ISPENDR..reg::ICPENDR).contains(&o) => {
                self.each_bit(
                    vcpu,
                    private,
                    o - reg::ISPENDR,
                    value32,
                    &mut effects,
                    Self::pend,
                    value32,
                );
            }
            o if (reg::ICPENDR..reg::ISACTIVER).contains(&o) => {
                self.each_bit(
                    vcpu,
                    private,
                    o - reg::ICPENDR,
                    value32,
                    &mut effects,
                    Self::unpend,
                    value32,
                );
            }
            o if (reg::ISACTIVER..reg::IPRIORITYR).contains(&o) => {
                // Active state lives in the list registers and the physical GIC; writes that
                // would change it from outside the CPU interface are not supported.
                self.ignored_writes = self.ignored_writes.saturating_add(1);
            }
            o if (reg::IPRIORITYR..reg::ITARGETSR).contains(&o) => {
                for i in 0..u64::from(size.min(8)) {
                    let byte = (value >> (8 * i)) as u8;
                    self.with_irq(vcpu, private, (o - reg::IPRIORITYR + i) as u32, |irq| {
                        irq.priority = byte
                    });
                }
            }
            o if (reg::ITARGETSR..reg::ICFGR).contains(&o) && self.version == GicVersion::V2 => {
                for i in 0..u64::from(size.min(4)) {
                    let targets = (value >> (8 * i)) as u8;
                    let intid = (o - reg::ITARGETSR + i) as u32;
                    if intid >= FIRST_SPI {
                        if let Some(target) = (0..self.vcpus).find(|t| targets & (1 << t) != 0) {
                            self.route(intid, target, &mut effects);
                        }
                    }
                }
            }
            o if (reg::ICFGR..reg::ICFGR + 0x100).contains(&o) => {
                let first = ((o - reg::ICFGR) / 4 * 16) as u32;
                for i in 0..16 {
                    let intid = first + i;
                    let edge = value32 & (2 << (2 * i)) != 0;
                    if intid < FIRST_SPI {
                        // SGIs are always edge; PPI configuration is implementation defined: keep it.
                        continue;
                    }
                    if !self.owns(intid) {
                        continue;
                    }
                    if let Some(irq) = self.spis.get_mut(intid as usize) {
                        irq.edge = edge;
                    }
                    if self.hardware.contains(intid) {
                        let _ = effects.push(Effect::SetEdge { intid, edge });
                    }
                }
            }
            reg::SGIR if self.version == GicVersion::V2 => {
                let sgi = value32 & 0xf;
                let filter = (value32 >> 24) & 3;
                let list = (value32 >> 16) & 0xff;
                for target in 0..self.vcpus {
                    let selected = match filter {
                        0 => list & (1 << target) != 0,
                        1 => target != vcpu,
                        2 => target == vcpu,
                        _ => false,
                    };
                    if selected {
                        let _ = effects.push(Effect::InjectVirtual {
                            intid: sgi,
                            vcpu: target,
                            source: vcpu,
                        });
                    }
                }
            }
            o if (reg::IROUTER + 8 * u64::from(FIRST_SPI)
                ..reg::IROUTER + 8 * MAX_INTIDS as u64)
                .contains(&o)
                && self.version == GicVersion::V3 =>
            {
                if o % 8 == 0 {
                    let intid = ((o - reg::IROUTER) / 8) as u32;
                    // Aff0 names the vCPU; 1-of-N routing goes to vCPU 0.
                    let target = if value & IROUTER_IRM != 0 {
                        0
                    } else {
                        (value & 0xff) as usize
                    };
                    if target < self.vcpus {
                        self.route(intid, target, &mut effects);
                    } else {
                        self.ignored_writes = self.ignored_writes.saturating_add(1);
                    }
                }
            }
            _ => self.ignored_writes = self.ignored_writes.saturating_add(1),
        }
        effects
    }

    fn route(&mut self, intid: u32, target: usize, effects: &mut Effects) {
        if !self.owns(intid) {
            self.ignored_writes = self.ignored_writes.saturating_add(1);
            return;
        }
        if let Some(irq) = self.spis.get_mut(intid as usize) {
            irq.target = target;
        }
        if self.hardware.contains(intid) {
            let _ = effects.push(Effect::Route {
                intid,
                vcpu: target,
            });
        }
    }

    fn with_irq(
        &mut self,
        vcpu: usize,
        private: &mut PrivateIrqs,
        intid: u32,
        change: impl FnOnce(&mut IrqConfig),
    ) {
        let _ = vcpu;
        if intid < FIRST_SPI {
            if self.version == GicVersion::V2 {
                if let Some(irq) = private.irqs.get_mut(intid as usize) {
                    change(irq);
                }
            }
        } else if self.owns(intid) {
            if let Some(irq) = self.spis.get_mut(intid as usize) {
                change(irq);
            }
        } else {
            self.ignored_writes = self.ignored_writes.saturating_add(1);
        }
    }

    /// Applies `apply` to each interrupt whose bit is set in `mask`, in the 32-interrupt
    /// register at byte offset `offset` from the register array's base.
    #[allow(clippy::too_many_arguments)]
    fn each_bit(
        &mut self,
        vcpu: usize,
        private: &mut PrivateIrqs,
        offset: u64,
        mask: u32,
        effects: &mut Effects,
        apply: fn(&mut Self, &mut IrqConfig, bool, u32, &mut Effects),
        value: u32,
    ) {
        let first = (offset / 4 * 32) as u32;
        for i in 0..32 {
            if mask & (1 << i) == 0 {
                continue;
            }
            let intid = first + i;
            let set = value & (1 << i) != 0;
            if intid < FIRST_SPI {
                if self.version == GicVersion::V2 {
                    let mut irq = private
                        .irqs
                        .get(intid as usize)
                        .copied()
                        .unwrap_or_default();
                    let before = effects.len();
                    apply(self, &mut irq, set, intid, effects);
                    // Only the virtual timer among the PPIs is backed by hardware.
                    let keep = intid == super::VTIMER_INTID || intid < 16;
                    if !keep {
                        effects.truncate(before);
                    }
                    for effect in effects.iter_mut().skip(before) {
                        if let Effect::SetEnabled { vcpu: v, .. } = effect {
                            *v = vcpu;
                        }
                    }
                    if let Some(slot) = private.irqs.get_mut(intid as usize) {
                        *slot = irq;
                    }
                }
                continue;
            }
            if !self.owns(intid) {
                self.ignored_writes = self.ignored_writes.saturating_add(1);
                continue;
            }
            let mut irq = self.spis.get(intid as usize).copied().unwrap_or_default();
            apply(self, &mut irq, set, intid, effects);
            if let Some(slot) = self.spis.get_mut(intid as usize) {
                *slot = irq;
            }
        }
    }

    fn is_hardware(&self, intid: u32) -> bool {
        intid == super::VTIMER_INTID || self.hardware.contains(intid)
    }

    fn enable(&mut self, irq: &mut IrqConfig, _: bool, intid: u32, effects: &mut Effects) {
        irq.enabled = true;
        if self.is_hardware(intid) {
            let _ = effects.push(Effect::SetEnabled {
                intid,
                enabled: true,
                vcpu: irq.target,
            });
        } else if irq.pending && intid >= FIRST_SPI && self.forwards(irq) {
            Self::hand_over(irq, intid, effects);
        }
    }

    /// Hands latched software SPI `intid` to a list register of its target vCPU: it is no
    /// longer pending here (an effect that finds no room is counted, never replayed).
    fn hand_over(irq: &mut IrqConfig, intid: u32, effects: &mut Effects) {
        if effects
            .push(Effect::InjectVirtual {
                intid,
                vcpu: irq.target,
                source: 0,
            })
            .is_ok()
        {
            irq.pending = false;
        }
    }

    fn disable(&mut self, irq: &mut IrqConfig, _: bool, intid: u32, effects: &mut Effects) {
        irq.enabled = false;
        if self.is_hardware(intid) {
            let _ = effects.push(Effect::SetEnabled {
                intid,
                enabled: false,
                vcpu: irq.target,
            });
        }
    }

    fn pend(&mut self, irq: &mut IrqConfig, _: bool, intid: u32, effects: &mut Effects) {
        if self.is_hardware(intid) && intid >= FIRST_SPI {
            let _ = effects.push(Effect::SetPending {
                intid,
                pending: true,
            });
        } else {
            irq.pending = true;
            if irq.enabled && intid >= FIRST_SPI && self.forwards(irq) {
                Self::hand_over(irq, intid, effects);
            } else if irq.enabled && intid < FIRST_SPI {
                let _ = effects.push(Effect::InjectVirtual {
                    intid,
                    vcpu: irq.target,
                    source: 0,
                });
            }
        }
    }

    fn unpend(&mut self, irq: &mut IrqConfig, _: bool, intid: u32, effects: &mut Effects) {
        if self.is_hardware(intid) && intid >= FIRST_SPI {
            let _ = effects.push(Effect::SetPending {
                intid,
                pending: false,
            });
        } else {
            irq.pending = false;
        }
    }

    fn redeliver_software(&mut self, effects: &mut Effects) {
        for intid in FIRST_SPI..self.lines {
            let Some(&irq) = self.spis.get(intid as usize) else {
                continue;
            };
            if self.software.contains(intid) && irq.pending && irq.enabled && self.forwards(&irq) {
                if let Some(slot) = self.spis.get_mut(intid as usize) {
                    Self::hand_over(slot, intid, effects);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dist(version: GicVersion) -> VirtualDistributor {
        let mut hardware = IntidSet::default();
        hardware.insert(40);
        let mut software = IntidSet::default();
        software.insert(33);
        VirtualDistributor::new(version, 2, hardware, software)
    }

    #[test]
    fn narrow_reads_of_word_registers_fit_the_access() {
        // Found by the vgic_distributor fuzz target: a 2-byte read of GICD_ISENABLER0 returned
        // the whole word (0x0101_0101), a value no 16-bit load can produce.
        let mut d = dist(GicVersion::V2);
        let mut p = PrivateIrqs::default();
        d.write(0, &mut p, reg::ISENABLER, 4, 0x0101_0101);
        assert_eq!(d.read(0, &p, reg::ISENABLER, 4), 0x0101_0101);
        assert_eq!(d.read(0, &p, reg::ISENABLER, 2), 0x0101);
        assert_eq!(d.read(0, &p, reg::ISENABLER, 1), 0x01);
        assert_eq!(
            d.read(0, &p, reg::TYPER, 1),
            d.read(0, &p, reg::TYPER, 4) & 0xff
        );
    }

    #[test]
    fn typer_reports_lines_cpus_and_id_bits() {
        let d = dist(GicVersion::V3);
        let typer = d.read(0, &PrivateIrqs::default(), reg::TYPER, 4) as u32;
        assert_eq!(typer & 0x1f, 1, "64 INTIDs: ITLinesNumber = 1");
        assert_eq!((typer >> 5) & 7, 1, "two vCPUs");
        assert_eq!((typer >> 19) & 0x1f, 9, "10 ID bits");
        assert_eq!(typer & (1 << 17), 0, "no LPIs");
        assert_eq!(
            d.read(0, &PrivateIrqs::default(), reg::PIDR2, 4) >> 4 & 0xf,
            3
        );
    }

    #[test]
    fn typer_lines_follow_the_highest_owned_spi() {
        let lines = |hardware: &[u32], software: &[u32]| {
            let mut h = IntidSet::default();
            let mut s = IntidSet::default();
            hardware.iter().for_each(|&i| assert!(h.insert(i)));
            software.iter().for_each(|&i| assert!(s.insert(i)));
            let d = VirtualDistributor::new(GicVersion::V3, 1, h, s);
            d.read(0, &PrivateIrqs::default(), reg::TYPER, 4) as u32 & 0x1f
        };
        // ITLinesNumber N: 32 * (N + 1) INTIDs, at least 64.
        assert_eq!(lines(&[], &[]), 1);
        assert_eq!(lines(&[33], &[]), 1);
        assert_eq!(lines(&[64], &[]), 2);
        assert_eq!(lines(&[40], &[95]), 2);
        assert_eq!(lines(&[96], &[48]), 3);
        assert_eq!(lines(&[], &[511]), 15);
        // SGIs and PPIs never widen the distributor.
        assert_eq!(lines(&[27, 31], &[]), 1);
    }

    #[test]
    fn ctlr_keeps_are_and_ds_set_and_stores_enables() {
        let mut d = dist(GicVersion::V3);
        let mut p = PrivateIrqs::default();
        assert_eq!(d.read(0, &p, reg::CTLR, 4), 0x50);
        d.write(0, &mut p, reg::CTLR, 4, 0x13);
        assert_eq!(d.read(0, &p, reg::CTLR, 4), 0x53);
        assert!(d.enabled());
    }

    #[test]
    fn enabling_an_owned_hardware_spi_enables_it_physically_and_foreign_ones_are_ignored() {
        let mut d = dist(GicVersion::V3);
        let mut p = PrivateIrqs::default();
        // ISENABLER1 covers INTIDs 32..63: 40 is ours, 41 is not.
        let effects = d.write(0, &mut p, reg::ISENABLER + 4, 4, (1 << 8) | (1 << 9));
        assert_eq!(
            effects.as_slice(),
            &[Effect::SetEnabled {
                intid: 40,
                enabled: true,
                vcpu: 0
            }]
        );
        assert_eq!(d.ignored_writes, 1);
        assert_eq!(d.read(0, &p, reg::ISENABLER + 4, 4), 1 << 8);
        let effects = d.write(0, &mut p, reg::ICENABLER + 4, 4, u64::from(u32::MAX));
        assert!(effects.contains(&Effect::SetEnabled {
            intid: 40,
            enabled: false,
            vcpu: 0
        }));
        assert_eq!(d.read(0, &p, reg::ISENABLER + 4, 4), 0);
    }

    #[test]
    fn irouter_routes_an_owned_spi_to_a_vcpu_and_rejects_foreign_targets() {
        let mut d = dist(GicVersion::V3);
        let mut p = PrivateIrqs::default();
        let effects = d.write(0, &mut p, reg::IROUTER + 8 * 40, 8, 1);
        assert_eq!(effects.as_slice(), &[Effect::Route { intid: 40, vcpu: 1 }]);
        assert_eq!(d.read(0, &p, reg::IROUTER + 8 * 40, 8), 1);
        assert!(
            d.write(0, &mut p, reg::IROUTER + 8 * 40, 8, 7).is_empty(),
            "vCPU 7 does not exist"
        );
        assert!(
            d.write(0, &mut p, reg::IROUTER + 8 * 41, 8, 0).is_empty(),
            "SPI 41 is not ours"
        );
    }

    #[test]
    fn priorities_are_byte_accessible_and_per_interrupt() {
        let mut d = dist(GicVersion::V3);
        let mut p = PrivateIrqs::default();
        d.write(0, &mut p, reg::IPRIORITYR + 40, 4, 0xa0a0_a0a0);
        assert_eq!(d.read(0, &p, reg::IPRIORITYR + 40, 1), 0xa0);
        assert_eq!(
            d.read(0, &p, reg::IPRIORITYR + 40, 4),
            0xa0,
            "41..43 are not ours"
        );
    }

    #[test]
    fn software_spi_is_injected_once_enabled_and_distributor_on() {
        let mut d = dist(GicVersion::V3);
        let mut p = PrivateIrqs::default();
        d.write(0, &mut p, reg::IGROUPR + 4, 4, 1 << 1);
        assert_eq!(d.set_software_pending(33, true), None, "disabled");
        let effects = d.write(0, &mut p, reg::ISENABLER + 4, 4, 1 << 1);
        assert!(effects.is_empty(), "distributor still off");
        let effects = d.write(0, &mut p, reg::CTLR, 4, 2);
        assert_eq!(
            effects.as_slice(),
            &[Effect::InjectVirtual {
                intid: 33,
                vcpu: 0,
                source: 0
            }]
        );
        let delivered = d.set_software_pending(33, true).map(|irq| irq.target);
        assert_eq!(delivered, Some(0));
    }

    #[test]
    fn a_doorbell_rung_while_disabled_stays_latched_until_enabled_then_is_delivered_once() {
        let mut d = dist(GicVersion::V3);
        let mut p = PrivateIrqs::default();
        d.write(0, &mut p, reg::CTLR, 4, 2);
        d.write(0, &mut p, reg::IPRIORITYR + 33, 1, 0x40);
        d.write(0, &mut p, reg::IGROUPR + 4, 4, 1 << 1);
        d.write(0, &mut p, reg::IROUTER + 8 * 33, 8, 1);
        assert_eq!(d.set_software_pending(33, true), None, "disabled: latched");
        assert_eq!(
            d.read(0, &p, reg::ISPENDR + 4, 4),
            1 << 1,
            "reads as pending"
        );
        assert_eq!(
            d.set_software_pending(33, true),
            None,
            "pending is a state, not a count"
        );
        let effects = d.write(0, &mut p, reg::ISENABLER + 4, 4, 1 << 1);
        assert_eq!(
            effects.as_slice(),
            &[Effect::InjectVirtual {
                intid: 33,
                vcpu: 1,
                source: 0
            }],
            "delivered to the vCPU the guest routed it to"
        );
        assert_eq!(
            d.read(0, &p, reg::ISPENDR + 4, 4),
            0,
            "handed to a list register"
        );
        d.write(0, &mut p, reg::ICENABLER + 4, 4, 1 << 1);
        assert!(
            d.write(0, &mut p, reg::ISENABLER + 4, 4, 1 << 1).is_empty(),
            "enabling again delivers nothing more"
        );
        let irq = d
            .set_software_pending(33, true)
            .expect("enabled: delivered at once");
        assert_eq!((irq.target, irq.priority, irq.group1), (1, 0x40, true));
        assert_eq!(d.read(0, &p, reg::ISPENDR + 4, 4), 0);
    }

    #[test]
    fn a_doorbell_rung_while_the_distributor_is_off_is_delivered_when_it_is_turned_on() {
        let mut d = dist(GicVersion::V2);
        let mut p = PrivateIrqs::default();
        d.write(0, &mut p, reg::ISENABLER + 4, 4, 1 << 1);
        assert_eq!(d.set_software_pending(33, true), None);
        let effects = d.write(0, &mut p, reg::CTLR, 4, 2);
        assert!(
            effects.is_empty(),
            "a group-0 doorbell waits for EnableGrp0"
        );
        // A GICv2 Linux enables group 0 only (GICD_CTLR = 1) and leaves its SPIs there.
        let effects = d.write(0, &mut p, reg::CTLR, 4, 1);
        assert_eq!(effects.len(), 1);
        assert!(d.write(0, &mut p, reg::CTLR, 4, 0).is_empty());
        assert!(
            d.write(0, &mut p, reg::CTLR, 4, 1).is_empty(),
            "delivered once only"
        );
        assert!(
            d.set_software_pending(33, true).is_some(),
            "group 0 forwarded"
        );
    }

    #[test]
    fn only_software_spis_can_be_rung() {
        let mut d = dist(GicVersion::V3);
        let mut p = PrivateIrqs::default();
        d.write(0, &mut p, reg::CTLR, 4, 2);
        d.write(0, &mut p, reg::ISENABLER + 4, 4, 1 << 8);
        assert_eq!(d.set_software_pending(40, true), None, "hardware SPI 40");
        assert_eq!(d.set_software_pending(41, true), None, "not ours");
        assert_eq!(d.read(0, &p, reg::ISPENDR + 4, 4), 0);
    }

    #[test]
    fn icfgr_sets_edge_on_owned_spis_only() {
        let mut d = dist(GicVersion::V3);
        let mut p = PrivateIrqs::default();
        // ICFGR2 covers INTIDs 32..47; 40 is pair 8.
        let effects = d.write(0, &mut p, reg::ICFGR + 8, 4, 2 << 16 | 2 << 18);
        assert_eq!(
            effects.as_slice(),
            &[Effect::SetEdge {
                intid: 40,
                edge: true
            }]
        );
        assert_eq!(d.read(0, &p, reg::ICFGR + 8, 4), 2 << 16);
        assert_eq!(
            d.read(0, &p, reg::ICFGR, 4),
            0xaaaa_aaaa,
            "SGIs read as edge"
        );
    }

    #[test]
    fn gicv2_sgir_sends_virtual_sgis_within_the_partition() {
        let mut d = dist(GicVersion::V2);
        let mut p = PrivateIrqs::default();
        // Target list vCPU 1 and the nonexistent vCPU 5: only vCPU 1 gets it.
        let effects = d.write(0, &mut p, reg::SGIR, 4, (0b10_0010 << 16) | 3);
        assert_eq!(
            effects.as_slice(),
            &[Effect::InjectVirtual {
                intid: 3,
                vcpu: 1,
                source: 0
            }]
        );
        // "All but self".
        let effects = d.write(1, &mut p, reg::SGIR, 4, (1 << 24) | 5);
        assert_eq!(
            effects.as_slice(),
            &[Effect::InjectVirtual {
                intid: 5,
                vcpu: 0,
                source: 1
            }]
        );
    }

    #[test]
    fn gicv2_banks_ppi_enables_per_vcpu_and_maps_the_timer_to_hardware() {
        let mut d = dist(GicVersion::V2);
        let mut p = PrivateIrqs::default();
        let effects = d.write(1, &mut p, reg::ISENABLER, 4, 1 << 27 | 1 << 30);
        assert_eq!(
            effects.as_slice(),
            &[Effect::SetEnabled {
                intid: 27,
                enabled: true,
                vcpu: 1
            }]
        );
        assert_eq!(d.read(0, &p, reg::ISENABLER, 4), 1 << 27 | 1 << 30);
        assert_eq!(
            d.read(0, &PrivateIrqs::default(), reg::ISENABLER, 4),
            0,
            "another vCPU's bank"
        );
    }

    #[test]
    fn gicv2_itargetsr0_to_7_name_the_reading_vcpu() {
        let d = dist(GicVersion::V2);
        let p = PrivateIrqs::default();
        assert_eq!(d.read(1, &p, reg::ITARGETSR, 4), 0x0202_0202);
        assert_eq!(d.read(0, &p, reg::ITARGETSR + 28, 1), 0x01);
    }

    #[test]
    fn gicv2_itargetsr_routes_spis() {
        let mut d = dist(GicVersion::V2);
        let mut p = PrivateIrqs::default();
        let effects = d.write(0, &mut p, reg::ITARGETSR + 40, 1, 0b10);
        assert_eq!(effects.as_slice(), &[Effect::Route { intid: 40, vcpu: 1 }]);
        assert_eq!(d.read(0, &p, reg::ITARGETSR + 40, 1), 0b10);
    }
}
