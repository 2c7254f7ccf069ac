//! The guest's own GIC through the `arm-gic` crate: the same code programs the real GIC bare on
//! QEMU and Bulkhead's virtual one (trapped and emulated distributor and redistributor, the
//! hardware virtual CPU interface), GICv3 by system registers or GICv2 by MMIO.

use core::ptr::NonNull;

use arm_gic::gicv2::GicV2;
use arm_gic::gicv3::registers::{Gicd, GicrSgi};
use arm_gic::gicv3::{GicCpuInterface, GicV3};
use arm_gic::{IntId, InterruptGroup, Trigger, UniqueMmioPointer};

use super::cpu;
use crate::devicetree::GicFrames;

/// INTIDs from 1020 up are special (spurious, or for another security state).
const FIRST_SPECIAL: u32 = 1020;
/// GICD_ITARGETSR's offset in the GICv2 distributor (one byte per INTID; Arm IHI 0048B 4.3.12).
const ITARGETSR: u64 = 0x800;
/// Let every priority through the CPU interface.
const PRIORITY_MASK_ALL: u8 = 0xff;

/// Why the GIC could not be set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GicInitError {
    /// A frame address is null.
    NoFrame,
    /// No redistributor has this CPU's affinity.
    NoRedistributor(u64),
    /// The driver refused (the INTID, or the redistributor layout).
    Driver,
}

/// The GIC, set up for this CPU.
pub enum Gic {
    /// GICv2, with its distributor's address (for GICD_ITARGETSR, which `arm-gic` 0.10 does
    /// not reach); interrupts are group 0 (there are no security extensions in a partition or on
    /// QEMU `virt`).
    V2(GicV2<'static>, u64),
    /// GICv3, with this CPU's redistributor index; interrupts are non-secure group 1.
    V3(GicV3<'static>, usize),
}

impl Gic {
    /// Sets up the GIC in `frames` for this CPU (of `cpus`): every interrupt disabled, group and
    /// priority defaults, the distributor and this CPU's interface enabled.
    ///
    /// # Safety
    /// `frames` must be this system's GIC (from its device tree), reachable at those addresses
    /// (identity map or MMU off), and driven by no other code.
    pub unsafe fn new(frames: GicFrames, cpus: usize) -> Result<Gic, GicInitError> {
        match frames {
            GicFrames::V2 {
                distributor,
                cpu_interface,
            } => {
                // SAFETY: the caller gives us the GICv2 frames for our exclusive use.
                let mut gic = unsafe { GicV2::new(distributor as *mut _, cpu_interface as *mut _) };
                gic.setup();
                gic.set_priority_mask(PRIORITY_MASK_ALL);
                Ok(Gic::V2(gic, distributor))
            }
            GicFrames::V3 {
                distributor,
                redistributors,
            } => {
                let gicd = NonNull::new(distributor as *mut Gicd).ok_or(GicInitError::NoFrame)?;
                let gicr =
                    NonNull::new(redistributors as *mut GicrSgi).ok_or(GicInitError::NoFrame)?;
                // SAFETY: the caller gives us the distributor and redistributor frames for our
                // exclusive use; `cpus` redistributors follow `gicr`, as the device tree says.
                let mut gic = unsafe {
                    GicV3::new(UniqueMmioPointer::new(gicd), gicr, cpus.max(1))
                        .map_err(|_| GicInitError::Driver)?
                };
                let me = cpu::affinity();
                let index = (0..cpus.max(1))
                    .find(|&i| gic.gicr_typer(i).is_ok_and(|t| t.core_mpidr() == me))
                    .ok_or(GicInitError::NoRedistributor(me))?;
                gic.setup(index);
                GicCpuInterface::set_priority_mask(PRIORITY_MASK_ALL);
                Ok(Gic::V3(gic, index))
            }
        }
    }

    /// Which GIC generation this is.
    pub fn version(&self) -> u8 {
        match self {
            Gic::V2(..) => 2,
            Gic::V3(..) => 3,
        }
    }

    /// Configures this CPU's private interrupt `intid` (a PPI such as the virtual timer) as
    /// level-triggered at `priority` and enables it.
    pub fn enable_private(&mut self, intid: u32, priority: u8) -> Result<(), GicInitError> {
        self.enable_level(intid, priority)
    }

    /// Configures shared interrupt `intid` (an SPI such as the console UART's) as
    /// level-triggered at `priority` and enables it (routed to CPU 0 by default, as the
    /// RTOS runs on one CPU).
    pub fn enable_shared(&mut self, intid: u32, priority: u8) -> Result<(), GicInitError> {
        self.enable_level(intid, priority)
    }

    /// Routes shared interrupt `intid` to this CPU: GICD_ITARGETSR on GICv2 (this CPU's
    /// interface, as GICD_ITARGETSR0 reads it), GICD_IROUTER with this CPU's affinity on GICv3.
    /// Under Bulkhead this targets the partition's own vCPU; the hypervisor routes the physical
    /// SPI to the physical CPU that runs it.
    pub fn route_here(&mut self, intid: u32) -> Result<(), GicInitError> {
        let id = IntId::try_from(intid).map_err(|_| GicInitError::Driver)?;
        if !id.is_spi() {
            return Err(GicInitError::Driver);
        }
        match self {
            Gic::V2(_, distributor) => {
                let targets = (*distributor + ITARGETSR) as *mut u8;
                // SAFETY: `distributor` is this GIC's distributor frame (see `Gic::new`); the
                // ITARGETSR bytes lie inside it (INTIDs below 1020) and `arm-gic`'s driver
                // never touches them, so these byte accesses race with nothing it does. The
                // first byte (SGI 0's, banked) reads as this CPU's interface mask.
                unsafe {
                    let me = targets.read_volatile();
                    if me == 0 {
                        return Err(GicInitError::Driver);
                    }
                    targets.add(intid as usize).write_volatile(me);
                }
                Ok(())
            }
            Gic::V3(gic, _) => gic
                .distributor()
                .set_routing(id, Some(cpu::affinity()))
                .map_err(|_| GicInitError::Driver),
        }
    }

    /// Disables interrupt `intid` (the console's while its UART is in use elsewhere).
    pub fn disable(&mut self, intid: u32) {
        let Ok(id) = IntId::try_from(intid) else {
            return;
        };
        let _ = match self {
            Gic::V2(gic, _) => gic.enable_interrupt(id, false).map_err(|_| ()),
            Gic::V3(gic, cpu) => gic.enable_interrupt(id, Some(*cpu), false).map_err(|_| ()),
        };
    }

    /// Re-enables interrupt `intid` after [`Gic::disable`].
    pub fn reenable(&mut self, intid: u32) {
        let Ok(id) = IntId::try_from(intid) else {
            return;
        };
        let _ = match self {
            Gic::V2(gic, _) => gic.enable_interrupt(id, true).map_err(|_| ()),
            Gic::V3(gic, cpu) => gic.enable_interrupt(id, Some(*cpu), true).map_err(|_| ()),
        };
    }

    fn enable_level(&mut self, intid: u32, priority: u8) -> Result<(), GicInitError> {
        let id = IntId::try_from(intid).map_err(|_| GicInitError::Driver)?;
        match self {
            Gic::V2(gic, _) => {
                gic.set_interrupt_priority(id, priority);
                gic.set_trigger(id, Trigger::Level);
                gic.enable_interrupt(id, true)
                    .map_err(|_| GicInitError::Driver)
            }
            Gic::V3(gic, cpu) => {
                let cpu = Some(*cpu);
                gic.set_interrupt_priority(id, cpu, priority)
                    .and_then(|()| gic.set_trigger(id, cpu, Trigger::Level))
                    .and_then(|()| gic.enable_interrupt(id, cpu, true))
                    .map_err(|_| GicInitError::Driver)
            }
        }
    }

    /// Acknowledges the most urgent pending interrupt (IAR); `None` if there is none.
    pub fn acknowledge(&mut self) -> Option<u32> {
        let intid = match self {
            Gic::V2(gic, _) => gic.get_and_acknowledge_interrupt(InterruptGroup::Group0),
            Gic::V3(..) => GicCpuInterface::get_and_acknowledge_interrupt(InterruptGroup::Group1),
        };
        intid.map(u32::from).filter(|&i| i < FIRST_SPECIAL)
    }

    /// Ends interrupt `intid` (EOI: drops the running priority and deactivates it).
    pub fn end(&mut self, intid: u32) {
        let Ok(id) = IntId::try_from(intid) else {
            return;
        };
        match self {
            Gic::V2(gic, _) => gic.end_interrupt(id, InterruptGroup::Group0),
            Gic::V3(..) => GicCpuInterface::end_interrupt(id, InterruptGroup::Group1),
        }
    }
}
