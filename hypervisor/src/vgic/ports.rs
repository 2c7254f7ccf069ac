//! The vGIC register models as devices on a partition's bus ([`crate::devices::MmioDevice`]).
//!
//! The distributor's model needs the accessing vCPU's banked SGI/PPI state (GICv2 banks them
//! in the distributor), and the GICv3 redistributor region holds one frame pair per vCPU: the
//! caller locks the models an access needs and hands them over as a port.

use crate::devices::{DeviceAccess, DeviceEffect, DeviceEffects, MmioDevice, MmioFault};

use super::distributor::{Effects, VirtualDistributor};
use super::irq_state::PrivateIrqs;
use super::redistributor::{VirtualRedistributor, FRAME_STRIDE};

/// The distributor as the accessing vCPU sees it.
pub struct DistributorPort<'a> {
    /// The partition's distributor.
    pub distributor: &'a mut VirtualDistributor,
    /// The accessing vCPU's banked SGIs and PPIs.
    pub private: &'a mut PrivateIrqs,
}

/// One vCPU's redistributor frames (GICv3).
pub struct RedistributorPort<'a> {
    /// The redistributor of the vCPU whose frames are accessed.
    pub redistributor: &'a mut VirtualRedistributor,
    /// That vCPU's index.
    pub target_vcpu: usize,
    /// The partition's vCPU count (GICR_TYPER.Last).
    pub vcpus: usize,
}

/// Splits an offset in the redistributor region into the vCPU whose frames it falls in and the
/// offset within them; `None` beyond the partition's last vCPU (RAZ/WI: those frames are
/// other CPUs' and the partition may not see them).
pub fn redistributor_frame(offset: u64, vcpus: usize) -> Option<(usize, u64)> {
    let frame = usize::try_from(offset / FRAME_STRIDE).ok()?;
    (frame < vcpus).then_some((frame, offset % FRAME_STRIDE))
}

fn push_all(effects: &mut DeviceEffects, gic: &Effects) {
    for &effect in gic {
        // The models make at most one effect per interrupt of one register (32), below the
        // capacity; a dropped effect would only leave a physical setting unchanged.
        let _ = effects.push(DeviceEffect::Gic(effect));
    }
}

impl MmioDevice for DistributorPort<'_> {
    fn read(&mut self, access: DeviceAccess) -> Result<u64, MmioFault> {
        Ok(self.distributor.read(
            access.vcpu,
            self.private,
            access.offset,
            access.width.bytes(),
        ))
    }

    fn write(
        &mut self,
        access: DeviceAccess,
        value: u64,
        effects: &mut DeviceEffects,
    ) -> Result<(), MmioFault> {
        let gic = self.distributor.write(
            access.vcpu,
            self.private,
            access.offset,
            access.width.bytes(),
            value,
        );
        push_all(effects, &gic);
        Ok(())
    }
}

impl MmioDevice for RedistributorPort<'_> {
    fn read(&mut self, access: DeviceAccess) -> Result<u64, MmioFault> {
        Ok(self
            .redistributor
            .read(self.target_vcpu, self.vcpus, access.offset))
    }

    fn write(
        &mut self,
        access: DeviceAccess,
        value: u64,
        effects: &mut DeviceEffects,
    ) -> Result<(), MmioFault> {
        let gic =
            self.redistributor
                .write(self.target_vcpu, access.offset, access.width.bytes(), value);
        push_all(effects, &gic);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redistributor_frames_beyond_the_last_vcpu_are_none() {
        assert_eq!(redistributor_frame(0, 2), Some((0, 0)));
        assert_eq!(
            redistributor_frame(FRAME_STRIDE + 0x10080, 2),
            Some((1, 0x10080))
        );
        assert_eq!(redistributor_frame(2 * FRAME_STRIDE, 2), None);
        assert_eq!(redistributor_frame(u64::MAX, 8), None);
    }
}
