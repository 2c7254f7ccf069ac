//! The interrupt glue's state and logic: physical interrupts taken at EL2 become virtual
//! interrupts of the partition that owns them; guest accesses to the virtual GIC are applied
//! to the hardware through [`PhysicalGic`].
//!
//! The state is indexed by partition or by physical CPU (each CPU runs one vCPU), so nothing
//! large is ever moved on a stack; the board keeps one instance in a static.

use core::sync::atomic::{AtomicU32, Ordering};

use crate::devices::{self, DeviceAccess, DeviceEffect, DeviceEffects, DeviceId, MmioFault};
pub use crate::doorbell::PeerDown;
use crate::partition::PartitionState;
use crate::system::{Partition, System};
use crate::vgic::distributor::{Effects, GicVersion, VirtualDistributor};
use crate::vgic::irq_state::IrqConfig;
use crate::vgic::list_registers::{self, ListEntry, LrState};
use crate::vgic::pending::PendingQueue;
use crate::vgic::ports::{redistributor_frame, DistributorPort, RedistributorPort};
use crate::vgic::redistributor::VirtualRedistributor;
use crate::vgic::{
    Effect, IntidSet, DOORBELL_SGI, FIRST_SPI, HYP_TIMER_INTID, KICK_SGI, MAINTENANCE_INTID,
    VTIMER_INTID,
};
use crate::MAX_CPUS;
use bulkhead_config::MAX_PARTITIONS;

use super::gic::PhysicalGic;

/// The interrupt glue's state over the physical GIC `G`.
pub struct InterruptState<G> {
    /// The physical GIC (and this CPU's fast-path data).
    pub gic: G,
    /// Each partition's virtual distributor.
    pub(super) distributors: [spin::Mutex<Option<VirtualDistributor>>; MAX_PARTITIONS],
    /// Each physical CPU's vCPU redistributor (and, for GICv2, its banked SGI/PPI state).
    redistributors: [spin::Mutex<Option<VirtualRedistributor>>; MAX_CPUS],
    /// Virtual interrupts waiting for a list register, per physical CPU.
    queues: [spin::Mutex<PendingQueue>; MAX_CPUS],
    /// Guest writes to interrupts, redistributors or CPUs outside its partition, ignored, per
    /// partition (besides those the register models count themselves).
    foreign_writes: [AtomicU32; MAX_PARTITIONS],
    /// Physical interrupts that arrived for nobody (spurious or not owned), per CPU.
    stray: [AtomicU32; MAX_CPUS],
}

impl<G> InterruptState<G> {
    /// Empty state over `gic`: no partition's distributor, no vCPU's redistributor.
    pub const fn new(gic: G) -> Self {
        InterruptState {
            gic,
            distributors: [const { spin::Mutex::new(None) }; MAX_PARTITIONS],
            redistributors: [const { spin::Mutex::new(None) }; MAX_CPUS],
            queues: [const { spin::Mutex::new(PendingQueue::new()) }; MAX_CPUS],
            foreign_writes: [const { AtomicU32::new(0) }; MAX_PARTITIONS],
            stray: [const { AtomicU32::new(0) }; MAX_CPUS],
        }
    }
}

impl<G: PhysicalGic> InterruptState<G> {
    /// Counts a guest write that named something outside its partition.
    pub fn count_foreign_write(&self, partition: usize) {
        if let Some(count) = self.foreign_writes.get(partition) {
            count.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Physical interrupts that arrived on `cpu` for no partition (spurious or unowned).
    pub fn stray_interrupts(&self, cpu: usize) -> u32 {
        self.stray.get(cpu).map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// All ignored writes of partition `partition` (running on `cpus`): to interrupts it does not
    /// own, to other CPUs' redistributors, SGIs to CPUs outside it.
    pub fn ignored_writes(&self, partition: usize, cpus: &[usize]) -> u64 {
        let mut total = self
            .foreign_writes
            .get(partition)
            .map_or(0, |c| u64::from(c.load(Ordering::Relaxed)));
        if let Some(d) = self
            .distributors
            .get(partition)
            .and_then(|d| d.lock().as_ref().map(|d| d.ignored_writes))
        {
            total += u64::from(d);
        }
        for &cpu in cpus {
            if let Some(r) = self
                .redistributors
                .get(cpu)
                .and_then(|r| r.lock().as_ref().map(|r| r.ignored_writes))
            {
                total += u64::from(r);
            }
        }
        total
    }

    /// Sets up partition `index`'s virtual distributor.
    pub fn init_partition(
        &self,
        index: usize,
        version: GicVersion,
        vcpus: usize,
        hardware: IntidSet,
        software: IntidSet,
    ) {
        if let Some(slot) = self.distributors.get(index) {
            *slot.lock() = Some(VirtualDistributor::new(version, vcpus, hardware, software));
        }
    }

    /// Sets up this CPU's GIC interface and its vCPU's redistributor.
    pub fn init_cpu(&self, cpu: usize, mpidr: u64) {
        self.gic.init_cpu(cpu, mpidr);
        if let Some(slot) = self.redistributors.get(cpu) {
            *slot.lock() = Some(VirtualRedistributor::new());
        }
    }

    /// Silences this CPU's virtual interface when its vCPU stops: every list register emptied
    /// (hardware interrupts the guest never deactivated are deactivated, or they would stay active
    /// for ever), nothing queued, no maintenance interrupt, the timer PPI disabled. The vCPU's
    /// redistributor model is left as it is (its counters are reported at the stop).
    pub fn quiesce_vcpu(&self, cpu: usize) {
        for index in 0..self.gic.list_register_count().min(16) {
            let entry = self.gic.read_lr(index);
            if let (Some(pintid), false) = (entry.pintid, entry.state == LrState::Invalid) {
                self.gic.deactivate_intid(pintid);
            }
            self.gic.write_lr(index, &ListEntry::decode_v3(0));
        }
        if let Some(queue) = self.queues.get(cpu) {
            *queue.lock() = PendingQueue::new();
        }
        self.gic.set_underflow_interrupt(false);
        self.gic.set_private_enabled(cpu, VTIMER_INTID, false);
        self.gic.set_vtimer_lr(cpu, 0);
        self.clear_fast_receiver(cpu);
    }

    /// Puts this CPU's virtual interface and its vCPU's redistributor back to their reset state
    /// before the vCPU is (re)entered: [`quiesce_vcpu`], plus no active priorities, the virtual
    /// CPU interface's control reset, and a fresh redistributor.
    pub fn reset_vcpu(&self, cpu: usize) {
        self.quiesce_vcpu(cpu);
        self.gic.reset_virtual_interface();
        if let Some(slot) = self.redistributors.get(cpu) {
            *slot.lock() = Some(VirtualRedistributor::new());
        }
    }

    /// Puts partition `partition`'s distributor back to its reset state and disables its
    /// hardware SPIs (a partition restart).
    pub fn reset_partition(&self, partition: usize) {
        let Some(slot) = self.distributors.get(partition) else {
            return;
        };
        let mut distributor = slot.lock();
        let Some(distributor) = distributor.as_mut() else {
            return;
        };
        distributor.reset();
        for intid in FIRST_SPI..crate::vgic::MAX_INTIDS as u32 {
            if distributor.hardware().contains(intid) {
                self.gic.set_spi_enabled(intid, false);
                self.gic.set_spi_pending(intid, false);
            }
        }
    }

    /// Wakes physical CPU `cpu` (it takes the kick SGI and looks at its queue and power state).
    pub fn kick(&self, system: &System, cpu: usize) {
        if cpu < system.cpus.len() {
            self.gic.send_sgi(cpu, KICK_SGI);
        }
    }

    /// Takes every pending physical interrupt on this CPU. Returns `true` if it was kicked.
    pub fn handle_physical(&self, system: &System, cpu: usize) -> bool {
        let mut kicked = false;
        let mut passed_on = self.gic.take_pending_ack(cpu);
        loop {
            // The raw acknowledge value: on GICv2 an SGI's source CPU is in bits [12:10] and
            // is needed again to end it.
            let irq = passed_on.take().unwrap_or_else(|| self.gic.acknowledge());
            let intid = irq & 0x3ff;
            if intid >= 1020 {
                break;
            }
            self.gic.priority_drop(irq);
            match intid {
                DOORBELL_SGI => {
                    self.gic.deactivate(irq);
                    self.take_fast_doorbells(system, cpu);
                }
                KICK_SGI | MAINTENANCE_INTID => {
                    self.gic.deactivate(irq);
                    kicked |= intid == KICK_SGI;
                    self.flush_queue(cpu);
                    if intid == KICK_SGI {
                        self.gic.kicked();
                    }
                }
                HYP_TIMER_INTID => {
                    // The EL2 timer: the deadlines that passed are forgotten (their owners arm
                    // again: the console here, the watchdog in the tick after this exit), so its
                    // level is not taken again at once.
                    self.gic.mask_hyp_timer();
                    self.gic.hypervisor_interrupt(intid);
                    self.gic.deactivate(irq);
                }
                // The hypervisor's own (the console's UART): handled here, never a guest's.
                _ if self.gic.hypervisor_interrupt(intid) => self.gic.deactivate(irq),
                _ => match self.owner_config(system, cpu, intid) {
                    // Deactivation is left to the guest (HW bit in the list register).
                    Some(config) => {
                        #[cfg(all(target_os = "none", feature = "test-hooks"))]
                        if intid >= FIRST_SPI {
                            crate::test_hooks::spi_taken(cpu, intid);
                        }
                        let entry = ListEntry {
                            group1: config.group1,
                            ..ListEntry::hardware(intid, config.priority)
                        };
                        self.inject_local(cpu, entry)
                    }
                    None => {
                        self.gic.deactivate(irq);
                        if let Some(count) = self.stray.get(cpu) {
                            count.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                },
            }
        }
        kicked
    }

    /// The guest's configuration of hardware interrupt `intid` if the partition on `cpu` owns it.
    fn owner_config(&self, system: &System, cpu: usize, intid: u32) -> Option<IrqConfig> {
        let slot = (*system.slots.get(cpu)?)?;
        if intid == VTIMER_INTID {
            let redistributor = self.redistributors.get(cpu)?.lock();
            return redistributor
                .as_ref()?
                .private
                .irqs
                .get(intid as usize)
                .copied();
        }
        let distributor = self.distributors.get(slot.partition)?.lock();
        let distributor = distributor.as_ref()?;
        // Only a hardware SPI can arrive physically; a doorbell INTID is the partition's own
        // software SPI, and a physical interrupt of that number is not its.
        if !distributor.hardware().contains(intid) {
            return None;
        }
        distributor.spi(intid).copied()
    }

    /// Puts `entry` in a list register of this CPU, or queues it.
    fn inject_local(&self, cpu: usize, entry: ListEntry) {
        if !self.write_list_register(entry) {
            if let Some(queue) = self.queues.get(cpu) {
                queue.lock().push(entry);
            }
            self.gic.set_underflow_interrupt(true);
        }
    }

    /// Writes `entry` into a suitable list register; `false` if all are busy. The choice is
    /// [`list_registers::choose`]'s: the register already holding the same interrupt (merged
    /// with it), else the lowest empty one. Only the occupied registers are read (an empty one,
    /// its ICH_ELRSR_EL2 / GICH_ELRSR bit set, holds nothing to merge with): usually none is,
    /// and this is on the path of every injected interrupt (a doorbell's included).
    fn write_list_register(&self, entry: ListEntry) -> bool {
        let count = self.gic.list_register_count().min(16);
        let all = (1u64 << count).wrapping_sub(1);
        let empty = self.gic.empty_list_registers() & all;
        let per_source_sgis = !self.gic.is_v3();
        let mut occupied = all & !empty;
        while occupied != 0 {
            let index = occupied.trailing_zeros() as usize;
            occupied &= occupied.wrapping_sub(1);
            let held = self.gic.read_lr(index);
            if list_registers::same_interrupt(&held, &entry, per_source_sgis) {
                if let Some(merged) = list_registers::merge(&held, &entry) {
                    self.gic.write_lr(index, &merged);
                }
                return true;
            }
        }
        if empty == 0 {
            return false;
        }
        self.gic.write_lr(empty.trailing_zeros() as usize, &entry);
        true
    }

    /// Moves queued interrupts into free list registers on this CPU.
    pub fn flush_queue(&self, cpu: usize) {
        let Some(queue) = self.queues.get(cpu) else {
            return;
        };
        let mut queue = queue.lock();
        while let Some(entry) = queue.pop() {
            if !self.write_list_register(entry) {
                queue.push(entry);
                break;
            }
        }
        self.gic.set_underflow_interrupt(!queue.is_empty());
    }

    /// Makes a purely virtual interrupt pending on partition `partition`'s vCPU `vcpu`.
    fn inject_virtual(
        &self,
        system: &System,
        partition: usize,
        vcpu: usize,
        intid: u32,
        source: usize,
    ) {
        let Some(cpu) = system
            .partitions
            .get(partition)
            .and_then(|p| p.cpus.get(vcpu).copied())
        else {
            return;
        };
        let config = if intid < FIRST_SPI {
            self.redistributors.get(cpu).and_then(|r| {
                r.lock()
                    .as_ref()
                    .and_then(|r| r.private.irqs.get(intid as usize).copied())
            })
        } else {
            self.distributors
                .get(partition)
                .and_then(|d| d.lock().as_ref().and_then(|d| d.spi(intid).copied()))
        }
        .unwrap_or_default();
        // The list register's group is the guest's choice (GICD_IGROUPR): Linux puts everything in
        // group 1 on GICv3 and leaves group 0 on GICv2, where its CPU interface enables group 0 only.
        let entry = ListEntry {
            group1: config.group1,
            ..ListEntry::virtual_irq(intid, config.priority, source as u8)
        };
        if cpu == self.gic.current_cpu() {
            self.inject_local(cpu, entry);
        } else if let Some(queue) = self.queues.get(cpu) {
            queue.lock().push(entry);
            self.kick(system, cpu);
        }
    }

    /// Rings doorbell `intid` of partition `peer`: makes it pending in the peer's virtual
    /// distributor and, if the guest lets it through, queues it for the vCPU it is routed to and
    /// kicks that vCPU's CPU (a peer is always on other CPUs than the caller).
    ///
    /// The peer's state is checked under its distributor's lock, which a restart takes to reset
    /// the distributor after marking the partition stopped: a ring either reaches the running
    /// partition (and a later stop discards it with everything else pending) or fails.
    pub fn ring_doorbell(&self, system: &System, peer: usize, intid: u32) -> Result<(), PeerDown> {
        let partition = system.partitions.get(peer).ok_or(PeerDown)?;
        let slot = self.distributors.get(peer).ok_or(PeerDown)?;
        let kick_cpu = {
            let mut distributor = slot.lock();
            if partition.state() != PartitionState::Running {
                return Err(PeerDown);
            }
            let distributor = distributor.as_mut().ok_or(PeerDown)?;
            let Some(irq) = distributor.set_software_pending(intid, true) else {
                return Ok(());
            };
            let Some(&cpu) = partition.cpus.get(irq.target) else {
                return Ok(());
            };
            let entry = ListEntry {
                group1: irq.group1,
                ..ListEntry::virtual_irq(intid, irq.priority, 0)
            };
            // Queued while the distributor is still locked, so a restart's reset cannot come
            // between the pending state and the entry (the vCPU's reset empties its queue).
            if cpu == self.gic.current_cpu() {
                self.inject_local(cpu, entry);
                return Ok(());
            }
            if let Some(queue) = self.queues.get(cpu) {
                queue.lock().push(entry);
            }
            cpu
        };
        self.kick(system, kick_cpu);
        Ok(())
    }

    /// Drives the level-sensitive, purely virtual SPI `intid` of partition `partition` (a
    /// virtual device's interrupt line, its virtual PL011's): high makes it pending and
    /// delivers it as a doorbell ring does (to this CPU's list registers or the target's queue
    /// with a kick); low withdraws a pending state the guest has not been given yet. A
    /// partition that is not running is left alone.
    pub fn set_software_line(&self, system: &System, partition: usize, intid: u32, high: bool) {
        if high {
            let _ = self.ring_doorbell(system, partition, intid);
        } else if let Some(slot) = self.distributors.get(partition) {
            if let Some(distributor) = slot.lock().as_mut() {
                let _ = distributor.set_software_pending(intid, false);
            }
        }
    }

    /// Applies what a guest's access to its virtual GIC asks of the hardware.
    pub fn apply<'e>(
        &self,
        system: &System,
        partition: usize,
        effects: impl IntoIterator<Item = &'e Effect>,
    ) {
        let cpu_of = |vcpu: usize| {
            system
                .partitions
                .get(partition)
                .and_then(|p| p.cpus.get(vcpu).copied())
        };
        for effect in effects {
            match *effect {
                Effect::SetEnabled {
                    intid,
                    enabled,
                    vcpu,
                } => {
                    if intid < FIRST_SPI {
                        if let Some(cpu) = cpu_of(vcpu) {
                            self.gic.set_private_enabled(cpu, intid, enabled);
                        }
                    } else {
                        self.gic.set_spi_enabled(intid, enabled);
                    }
                }
                Effect::Route { intid, vcpu } => {
                    if let Some(cpu) = cpu_of(vcpu) {
                        self.gic.route_spi(intid, cpu);
                    }
                }
                Effect::SetEdge { intid, edge } => self.gic.set_spi_edge(intid, edge),
                Effect::SetPending { intid, pending } => self.gic.set_spi_pending(intid, pending),
                Effect::InjectVirtual {
                    intid,
                    vcpu,
                    source,
                } => self.inject_virtual(system, partition, vcpu, intid, source),
            }
        }
    }

    /// A guest access to its virtual GIC (the distributor, or the GICv3 redistributor region):
    /// locks the models the access needs, performs it, and applies its effects to the hardware.
    pub fn vgic_access(
        &self,
        system: &System,
        partition: &Partition,
        device: DeviceId,
        access: DeviceAccess,
        store: Option<u64>,
    ) -> Result<u64, MmioFault> {
        let index = partition.id - 1;
        let vcpus = partition.cpus.len();
        let mut effects = DeviceEffects::new();
        let (value, cpu) = match device {
            DeviceId::Redistributors => {
                let Some((target_vcpu, offset)) = redistributor_frame(access.offset, vcpus) else {
                    // Beyond the partition's last redistributor: reads as zero, writes ignored.
                    if store.is_some() {
                        self.count_foreign_write(index);
                    }
                    return Ok(0);
                };
                let Some(&cpu) = partition.cpus.get(target_vcpu) else {
                    return Ok(0);
                };
                let Some(slot) = self.redistributors.get(cpu) else {
                    return Ok(0);
                };
                let mut redistributor = slot.lock();
                let Some(redistributor) = redistributor.as_mut() else {
                    return Ok(0);
                };
                let mut port = RedistributorPort {
                    redistributor,
                    target_vcpu,
                    vcpus,
                };
                let access = DeviceAccess { offset, ..access };
                (
                    devices::perform(&mut port, access, store, &mut effects)?,
                    cpu,
                )
            }
            _ => {
                let Some(&cpu) = partition.cpus.get(access.vcpu) else {
                    return Ok(0);
                };
                let (Some(distributor), Some(redistributor)) =
                    (self.distributors.get(index), self.redistributors.get(cpu))
                else {
                    return Ok(0);
                };
                let mut distributor = distributor.lock();
                let mut redistributor = redistributor.lock();
                let (Some(distributor), Some(redistributor)) =
                    (distributor.as_mut(), redistributor.as_mut())
                else {
                    return Ok(0);
                };
                let mut port = DistributorPort {
                    distributor,
                    private: &mut redistributor.private,
                };
                (
                    devices::perform(&mut port, access, store, &mut effects)?,
                    cpu,
                )
            }
        };
        if store.is_some() {
            // The timer PPI's enable and priority live in the redistributor (GICv3) or the
            // distributor's banked registers (GICv2).
            if device == DeviceId::Redistributors || !self.gic.is_v3() {
                self.update_vtimer_fast_path(cpu);
            }
            // By reference: the effect list is a kilobyte, and copying it costs more than the
            // rest of the access.
            let gic = effects.iter().map(|effect| match effect {
                DeviceEffect::Gic(effect) => effect,
            });
            self.apply(system, index, gic);
            if device != DeviceId::Redistributors {
                self.publish_fast_doorbells(system);
            }
        }
        Ok(value)
    }

    /// Recomputes the list register value the assembly fast path injects the virtual timer of
    /// CPU `cpu`'s vCPU with (0 while the guest has the timer's PPI disabled).
    pub fn update_vtimer_fast_path(&self, cpu: usize) {
        let value = self
            .redistributors
            .get(cpu)
            .and_then(|r| {
                r.lock()
                    .as_ref()
                    .and_then(|r| r.private.irqs.get(VTIMER_INTID as usize).copied())
            })
            .filter(|irq| irq.enabled)
            .map_or(0, |irq| {
                let entry = ListEntry {
                    group1: irq.group1,
                    ..ListEntry::hardware(VTIMER_INTID, irq.priority)
                };
                if self.gic.is_v3() {
                    entry.encode_v3()
                } else {
                    u64::from(entry.encode_v2())
                }
            });
        self.gic.set_vtimer_lr(cpu, value);
    }

    /// Makes SGI `intid` from vCPU `sender` pending on the vCPUs of partition `partition` in the
    /// bitmap `targets` (decoded and confined to the partition by [`crate::vgic::sgi`]).
    pub fn send_sgis(
        &self,
        system: &System,
        partition: usize,
        sender: usize,
        intid: u32,
        targets: u64,
    ) {
        let Some(p) = system.partitions.get(partition) else {
            return;
        };
        let mut effects = Effects::new();
        for target in (0..p.cpus.len().min(64)).filter(|t| targets & (1 << t) != 0) {
            let _ = effects.push(Effect::InjectVirtual {
                intid,
                vcpu: target,
                source: sender,
            });
        }
        self.apply(system, partition, &effects);
    }
}
