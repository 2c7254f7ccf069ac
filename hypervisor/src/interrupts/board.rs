//! The board's interrupt glue: one [`InterruptState`] over the real GIC (`arch::gic`) and the
//! timer fast path's data (`arch::fast_path`), and the functions the rest of the hypervisor
//! calls.

use crate::arch::{self, fast_path, gic};
use crate::devices::{DeviceAccess, DeviceId, MmioFault};
use crate::system::{Partition, System};
use crate::vgic::distributor::GicVersion;
use crate::vgic::list_registers::ListEntry;
use crate::vgic::IntidSet;

use super::gic::PhysicalGic;
use super::state::{InterruptState, PeerDown};

/// The hardware behind [`PhysicalGic`] on the board.
pub struct ArchGic;

impl PhysicalGic for ArchGic {
    fn is_v3(&self) -> bool {
        gic::is_gic_v3()
    }
    fn current_cpu(&self) -> usize {
        arch::current_cpu()
    }
    fn init_cpu(&self, cpu: usize, mpidr: u64) {
        gic::init_cpu(cpu, mpidr);
    }
    fn acknowledge(&self) -> u32 {
        gic::acknowledge().raw()
    }
    fn priority_drop(&self, raw: u32) {
        gic::priority_drop(gic::Acknowledged::already_acknowledged(raw));
    }
    fn deactivate(&self, raw: u32) {
        gic::deactivate(gic::Acknowledged::already_acknowledged(raw));
    }
    fn deactivate_intid(&self, intid: u32) {
        gic::deactivate_intid(intid);
    }
    fn send_sgi(&self, cpu: usize, sgi: u32) {
        gic::send_sgi(cpu, sgi);
    }
    fn set_spi_enabled(&self, intid: u32, enabled: bool) {
        gic::set_spi_enabled(intid, enabled);
    }
    fn set_private_enabled(&self, cpu: usize, intid: u32, enabled: bool) {
        gic::set_private_enabled(cpu, intid, enabled);
    }
    fn set_spi_pending(&self, intid: u32, pending: bool) {
        gic::set_spi_pending(intid, pending);
    }
    fn route_spi(&self, intid: u32, cpu: usize) {
        gic::route_spi(intid, cpu);
    }
    fn set_spi_edge(&self, intid: u32, edge: bool) {
        gic::set_spi_edge(intid, edge);
    }
    fn list_register_count(&self) -> usize {
        gic::list_register_count()
    }
    fn empty_list_registers(&self) -> u64 {
        gic::empty_list_registers()
    }
    fn read_lr(&self, index: usize) -> ListEntry {
        gic::read_lr(index)
    }
    fn write_lr(&self, index: usize, entry: &ListEntry) {
        gic::write_lr(index, entry);
    }
    fn set_underflow_interrupt(&self, enabled: bool) {
        gic::set_underflow_interrupt(enabled);
    }
    fn reset_virtual_interface(&self) {
        gic::reset_virtual_interface();
    }
    fn set_vtimer_lr(&self, cpu: usize, value: u64) {
        fast_path::set_vtimer_lr(cpu, value);
    }
    fn take_pending_ack(&self, cpu: usize) -> Option<u32> {
        fast_path::take_pending_ack(cpu)
    }
    fn hypervisor_interrupt(&self, intid: u32) -> bool {
        if intid == arch::hyp_timer::INTID {
            if let Some(system) = crate::system::SYSTEM.get() {
                crate::smmu::service::on_timer(system);
            }
        }
        crate::console::on_interrupt(intid)
    }
    fn kicked(&self) {
        crate::console::on_kick();
    }
    fn mask_hyp_timer(&self) {
        arch::hyp_timer::fired();
    }
    fn set_fast_ring(&self, cpu: usize, index: usize, ring: Option<super::gic::FastRing>) {
        let ring = ring.map(|r| {
            let sgi1r = gic::sgi1r_value(r.target_cpu, crate::vgic::DOORBELL_SGI);
            (sgi1r, r.target_cpu, r.slot, r.peer_state)
        });
        arch::doorbell_fast_path::set_ring(cpu, index, ring);
    }
    fn set_fast_doorbell_lr(&self, cpu: usize, slot: usize, value: u64) {
        arch::doorbell_fast_path::set_doorbell_lr(cpu, slot, value);
    }
    fn take_fast_doorbells(&self, cpu: usize) -> u32 {
        arch::doorbell_fast_path::take_flags(cpu)
    }
}

/// The machine's interrupt state.
static STATE: InterruptState<ArchGic> = InterruptState::new(ArchGic);

/// See [`InterruptState::init_partition`].
pub fn init_partition(
    index: usize,
    version: GicVersion,
    vcpus: usize,
    hardware: IntidSet,
    software: IntidSet,
) {
    STATE.init_partition(index, version, vcpus, hardware, software);
}

/// See [`InterruptState::init_cpu`].
pub fn init_cpu(cpu: usize, mpidr: u64) {
    STATE.init_cpu(cpu, mpidr);
    arch::doorbell_fast_path::set_list_register_count(gic::list_register_count());
}

/// See [`InterruptState::quiesce_vcpu`].
pub fn quiesce_vcpu(cpu: usize) {
    STATE.quiesce_vcpu(cpu);
}

/// See [`InterruptState::reset_vcpu`].
pub fn reset_vcpu(cpu: usize) {
    STATE.reset_vcpu(cpu);
}

/// See [`InterruptState::reset_partition`].
pub fn reset_partition(partition: usize) {
    STATE.reset_partition(partition);
    if let Some(system) = crate::system::SYSTEM.get() {
        STATE.publish_fast_doorbells(system);
    }
}

/// See [`InterruptState::kick`].
pub fn kick(system: &System, cpu: usize) {
    STATE.kick(system, cpu);
}

/// See [`InterruptState::handle_physical`].
pub fn handle_physical(system: &System, cpu: usize) -> bool {
    STATE.handle_physical(system, cpu)
}

/// See [`InterruptState::ring_doorbell`].
pub fn ring_doorbell(system: &System, peer: usize, intid: u32) -> Result<(), PeerDown> {
    STATE.ring_doorbell(system, peer, intid)
}

/// See [`InterruptState::set_software_line`].
pub fn set_software_line(system: &System, partition: usize, intid: u32, high: bool) {
    STATE.set_software_line(system, partition, intid, high);
}

/// See [`InterruptState::vgic_access`]. Out of line: the trap path's other accesses keep a small
/// frame.
#[inline(never)]
pub fn vgic_access(
    system: &System,
    partition: &Partition,
    device: DeviceId,
    access: DeviceAccess,
    store: Option<u64>,
) -> Result<u64, MmioFault> {
    STATE.vgic_access(system, partition, device, access, store)
}

/// See [`InterruptState::send_sgis`].
pub fn send_sgis(system: &System, partition: usize, sender: usize, intid: u32, targets: u64) {
    STATE.send_sgis(system, partition, sender, intid, targets);
}

/// See [`InterruptState::count_foreign_write`].
pub fn count_foreign_write(partition: usize) {
    STATE.count_foreign_write(partition);
}

/// See [`InterruptState::ignored_writes`].
pub fn ignored_writes(partition: usize, cpus: &[usize]) -> u64 {
    STATE.ignored_writes(partition, cpus)
}

/// See [`InterruptState::stray_interrupts`].
pub fn stray_interrupts(cpu: usize) -> u32 {
    STATE.stray_interrupts(cpu)
}
