//! Where each hardware SPI goes on a GICv2, independent of the order CPUs boot in.
//!
//! A GICv2 routes an SPI by ITARGETSR, a mask of CPU *interface* numbers, and a CPU learns its
//! own interface number only by reading the banked ITARGETSR0 on itself (Arm IHI 0048B
//! 4.3.12). Boot routes a partition's SPIs before its CPUs run, so a route to a CPU whose
//! interface is not known yet is remembered and written when that CPU's interface comes up;
//! writing it at once with a guessed interface sent a partition's interrupts on CPUs 2-3 to CPU
//! 0. Pure: `arch::gic_v2` writes the bytes this hands back.

use crate::vgic::{FIRST_SPI, MAX_INTIDS};
use crate::MAX_CPUS;

/// No CPU.
const NOBODY: u8 = u8::MAX;

/// The ITARGETSR byte that sends an interrupt to CPU interface `interface` only.
pub fn itargetsr_byte(interface: u8) -> u8 {
    1 << (interface & 7)
}

/// Each SPI's logical target CPU, and each CPU's interface once known.
#[derive(Clone, Debug)]
pub struct SpiTargets {
    target: [u8; MAX_INTIDS],
    interface: [Option<u8>; MAX_CPUS],
}

impl Default for SpiTargets {
    fn default() -> Self {
        Self::new()
    }
}

impl SpiTargets {
    /// No routes, no interfaces known.
    pub const fn new() -> Self {
        SpiTargets {
            target: [NOBODY; MAX_INTIDS],
            interface: [None; MAX_CPUS],
        }
    }

    /// Routes SPI `intid` to logical CPU `cpu`: the `(intid, ITARGETSR byte)` to write now, or
    /// `None` if the CPU's interface is not known yet (it is written by
    /// [`SpiTargets::interface_known`]) or `intid` is no SPI.
    pub fn route(&mut self, intid: u32, cpu: usize) -> Option<(u32, u8)> {
        let slot = self
            .target
            .get_mut(intid as usize)
            .filter(|_| intid >= FIRST_SPI)?;
        *slot = u8::try_from(cpu)
            .ok()
            .filter(|&c| usize::from(c) < MAX_CPUS)?;
        let interface = (*self.interface.get(cpu)?)?;
        Some((intid, itargetsr_byte(interface)))
    }

    /// Records that logical CPU `cpu` has GIC CPU interface `interface`: the `(intid, byte)`
    /// writes of every SPI routed to it so far.
    pub fn interface_known(
        &mut self,
        cpu: usize,
        interface: u8,
    ) -> impl Iterator<Item = (u32, u8)> + '_ {
        if let Some(slot) = self.interface.get_mut(cpu) {
            *slot = Some(interface);
        }
        let byte = itargetsr_byte(interface);
        let mine = u8::try_from(cpu).unwrap_or(NOBODY);
        self.target
            .iter()
            .enumerate()
            .skip(FIRST_SPI as usize)
            .filter(move |&(_, &target)| target == mine && mine != NOBODY)
            .map(move |(intid, _)| (intid as u32, byte))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    // The Raspberry Pi 4 demo's SPIs: the GPIO banks (145-148) and I2C1 (149).
    const GPIO: [u32; 4] = [145, 146, 147, 148];
    const I2C1: u32 = 149;

    #[test]
    fn a_partition_on_cpus_2_and_3_gets_its_interrupts_there_whatever_the_boot_order() {
        let mut targets = SpiTargets::new();
        // Boot routes before CPUs 2 and 3 ran: nothing is written (no guess of CPU 0).
        for intid in GPIO {
            assert_eq!(targets.route(intid, 3), None);
        }
        assert_eq!(targets.route(I2C1, 2), None);
        // CPU 3 comes up first, then CPU 2 (on the GIC-400, interface n is core n).
        let cpu3: Vec<_> = targets.interface_known(3, 3).collect();
        assert_eq!(
            cpu3,
            [(145, 0b1000), (146, 0b1000), (147, 0b1000), (148, 0b1000)]
        );
        let cpu2: Vec<_> = targets.interface_known(2, 2).collect();
        assert_eq!(cpu2, [(I2C1, 0b0100)]);
        // A guest's later route (GICD_ITARGETSR through its vGIC) is written at once.
        assert_eq!(targets.route(I2C1, 3), Some((I2C1, 0b1000)));
        assert_eq!(targets.route(145, 2), Some((145, 0b0100)));
    }

    #[test]
    fn interfaces_need_not_match_logical_numbers() {
        let mut targets = SpiTargets::new();
        targets.route(40, 1);
        let writes: Vec<_> = targets.interface_known(1, 5).collect();
        assert_eq!(writes, [(40, 0b0010_0000)]);
    }

    #[test]
    fn sgis_ppis_and_out_of_range_requests_are_refused() {
        let mut targets = SpiTargets::new();
        let _ = targets.interface_known(0, 0).count();
        assert_eq!(
            targets.route(27, 0),
            None,
            "a PPI has no ITARGETSR to route"
        );
        assert_eq!(targets.route(MAX_INTIDS as u32, 0), None);
        assert_eq!(targets.route(40, MAX_CPUS), None);
        assert_eq!(targets.route(40, 0), Some((40, 1)));
    }
}
