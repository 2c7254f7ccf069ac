//! What boot needs from the machine: the steps that touch hardware or the hypervisor's global
//! state, behind one trait so that the story around them runs in host tests with a fake.

use core::fmt;

use bulkhead_config::range::Range;

use crate::host_dt::{HostInfo, UartKind};
use crate::pagetable::TablePool;
use crate::system::Partition;
use crate::vgic::distributor::GicVersion;
use crate::vgic::IntidSet;

use super::fast_calls::FastAnswer;
use super::secondaries::SecondaryStart;

/// The identification of the boot CPU that boot needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootCpu {
    /// MPIDR_EL1.
    pub mpidr: u64,
    /// ID_AA64MMFR0_EL1.PARange: the physical address size.
    pub pa_range: u8,
    /// ID_AA64PFR0_EL1.GIC: the GICv3 system register interface is implemented.
    pub gic_sysregs: bool,
}

/// A partition's virtual distributor, as boot decides it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirtualGic {
    /// The GIC architecture the partition sees (the host's).
    pub version: GicVersion,
    /// How many vCPUs it has.
    pub vcpus: usize,
    /// The hardware SPIs its devices own (routed to it, deactivated by its guest).
    pub hardware: IntidSet,
    /// The purely virtual SPIs its doorbells ring.
    pub software: IntidSet,
    /// The physical CPU its hardware SPIs are routed to until the guest says otherwise.
    pub boot_cpu: usize,
}

/// The machine under boot. `arch/` implements it on the target; host tests fake it.
pub trait BootPlatform {
    /// Prints one line on the hypervisor console (`args` without the newline).
    fn print(&mut self, args: fmt::Arguments<'_>);
    /// The host device tree the boot loader passed, and where it lies, if there is one.
    fn host_device_tree(&mut self) -> Option<(Range, &'static [u8])>;
    /// The boot CPU's identification registers.
    fn boot_cpu(&mut self) -> BootCpu;
    /// The virtual counter, for the boot line.
    fn counter(&mut self) -> u64;
    /// Starts the console (with the MMU off: no lock): the UART the build names, set up by the
    /// hypervisor, else `host`'s console UART. The UART it drives, if any.
    fn start_console(&mut self, host: &HostInfo<'_>) -> Option<(UartKind, Range)>;
    /// Builds the EL2 map of `host`'s RAM and devices from `tables` and turns on the MMU and
    /// caches.
    fn enable_mmu(&mut self, host: &HostInfo<'_>, tables: &mut dyn TablePool);
    /// Seeds the entropy pool from `host`'s RNG.
    fn init_entropy(&mut self, host: &HostInfo<'_>);
    /// Initialises the physical GIC `host` describes (only called for a GIC with
    /// virtualization support).
    fn init_gic(&mut self, host: &HostInfo<'_>);
    /// The hypervisor image as loaded: `[start, end)`; the bundle begins at `end`.
    fn image_range(&mut self) -> (u64, u64);
    /// The `len` bytes right after the image, if RAM holds that many.
    fn after_image(&mut self, len: usize) -> Option<&'static [u8]>;
    /// Routes hardware SPI `intid` to physical CPU `cpu`.
    fn route_spi(&mut self, intid: u32, cpu: usize);
    /// Installs partition `index`'s virtual distributor.
    fn init_virtual_gic(&mut self, index: usize, gic: &VirtualGic);
    /// Records that partition `id` may call the firmware functions `functions`.
    fn allow_firmware_calls(&mut self, id: usize, functions: &[u32]);
    /// Copies `partition`'s images into its RAM.
    fn load_images(&mut self, partition: &Partition);
    /// Fills the exception vector's table of constant hypercall answers.
    fn install_fast_calls(&mut self, calls: &[FastAnswer]);
    /// Tells secondary CPUs their logical numbers (MPIDRs by index).
    fn publish_cpu_mpidrs(&mut self, cpus: &[u64]);
    /// Starts one secondary CPU at the hypervisor's secondary entry; a PSCI error code if the
    /// firmware refused.
    fn start_secondary(&mut self, start: &SecondaryStart) -> Result<(), i64>;
    /// Brings up the board's SMMU for the system's DMA streams (refusing the partitions whose
    /// DMA it cannot confine). Nothing by default (host tests, boards without one).
    fn init_smmu(&mut self, _host: &HostInfo<'_>, _system: &crate::system::System) {}
}
