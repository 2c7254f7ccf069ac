//! The virtual configuration of one interrupt, as the guest programmed it.

/// What the guest has set for one interrupt (the default is the GIC reset state: disabled,
/// priority 0, level, group 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IrqConfig {
    /// Enabled (GICD_ISENABLER / GICR_ISENABLER0).
    pub enabled: bool,
    /// Priority (GICD_IPRIORITYR): lower is more urgent.
    pub priority: u8,
    /// Edge-triggered (GICD_ICFGR bit 1 of the pair).
    pub edge: bool,
    /// Group 1 (GICD_IGROUPR).
    pub group1: bool,
    /// Pending, for purely virtual interrupts only (hardware interrupts pend in hardware):
    /// latched here until the guest lets it through, then handed to a list register (the
    /// model clears it then, so enabling it again does not deliver it twice).
    pub pending: bool,
    /// Target vCPU (GICD_IROUTER / GICD_ITARGETSR), for SPIs.
    pub target: usize,
}

/// The banked interrupts of one vCPU: SGIs 0..15 and PPIs 16..31.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrivateIrqs {
    /// One entry per INTID 0..31.
    pub irqs: [IrqConfig; 32],
}

impl Default for PrivateIrqs {
    fn default() -> Self {
        let mut irqs = [IrqConfig::default(); 32];
        // SGIs are always edge-triggered (GICD_ICFGR0 reads 0xaaaa_aaaa).
        for sgi in irqs.iter_mut().take(16) {
            sgi.edge = true;
        }
        PrivateIrqs { irqs }
    }
}

/// Reads a 32-interrupt bitmap register built from `bit` of each interrupt.
pub fn bitmap(irqs: &[IrqConfig], bit: impl Fn(&IrqConfig) -> bool) -> u32 {
    irqs.iter()
        .take(32)
        .enumerate()
        .fold(0, |acc, (i, irq)| if bit(irq) { acc | 1 << i } else { acc })
}
