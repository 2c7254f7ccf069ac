//! Interrupts at run time: physical interrupts taken at EL2 become virtual interrupts of the
//! partition that owns them; guest accesses to the virtual GIC are applied to the hardware.
//!
//! State lives in statics indexed by partition or by physical CPU (each CPU runs one vCPU), so
//! nothing large is ever moved on a stack.

use core::sync::atomic::{AtomicU32, Ordering};

use crate::arch::gic;
use crate::partition::PartitionState;
use crate::system::System;
use crate::vgic::distributor::{Effects, GicVersion, VirtualDistributor};
use crate::vgic::irq_state::IrqConfig;
use crate::vgic::list_registers::{self, ListEntry, LrState};
use crate::vgic::pending::PendingQueue;
use crate::vgic::redistributor::VirtualRedistributor;
use crate::vgic::{Effect, IntidSet, FIRST_SPI, KICK_SGI, MAINTENANCE_INTID, VTIMER_INTID};
use crate::MAX_CPUS;
use bulkhead_config::MAX_PARTITIONS;

/// Each partition's virtual distributor.
static DISTRIBUTORS: [spin::Mutex<Option<VirtualDistributor>>; MAX_PARTITIONS] =
    [const { spin::Mutex::new(None) }; MAX_PARTITIONS];
/// Each physical CPU's vCPU redistributor (and, for GICv2, its banked SGI/PPI state).
static REDISTRIBUTORS: [spin::Mutex<Option<VirtualRedistributor>>; MAX_CPUS] =
    [const { spin::Mutex::new(None) }; MAX_CPUS];
/// Virtual interrupts waiting for a list register, per physical CPU.
static QUEUES: [spin::Mutex<PendingQueue>; MAX_CPUS] =
    [const { spin::Mutex::new(PendingQueue::new()) }; MAX_CPUS];
/// Guest writes to interrupts, redistributors or CPUs outside its partition, ignored, per
/// partition (besides those the register models count themselves).
static FOREIGN_WRITES: [core::sync::atomic::AtomicU32; MAX_PARTITIONS] =
    [const { core::sync::atomic::AtomicU32::new(0) }; MAX_PARTITIONS];

/// Counts a guest write that named something outside its partition.
pub fn count_foreign_write(partition: usize) {
    if let Some(count) = FOREIGN_WRITES.get(partition) {
        count.fetch_add(1, Ordering::Relaxed);
    }
}

/// Physical interrupts that arrived on `cpu` for no partition (spurious or unowned).
pub fn stray_interrupts(cpu: usize) -> u32 {
    STRAY.get(cpu).map_or(0, |c| c.load(Ordering::Relaxed))
}

/// All ignored writes of partition `partition` (running on `cpus`): to interrupts it does not
/// own, to other CPUs' redistributors, SGIs to CPUs outside it.
pub fn ignored_writes(partition: usize, cpus: &[usize]) -> u64 {
    let mut total = FOREIGN_WRITES
        .get(partition)
        .map_or(0, |c| u64::from(c.load(Ordering::Relaxed)));
    if let Some(d) = DISTRIBUTORS
        .get(partition)
        .and_then(|d| d.lock().as_ref().map(|d| d.ignored_writes))
    {
        total += u64::from(d);
    }
    for &cpu in cpus {
        if let Some(r) = REDISTRIBUTORS
            .get(cpu)
            .and_then(|r| r.lock().as_ref().map(|r| r.ignored_writes))
        {
            total += u64::from(r);
        }
    }
    total
}

/// Physical interrupts that arrived for nobody (spurious or not owned), per CPU.
static STRAY: [AtomicU32; MAX_CPUS] = [const { AtomicU32::new(0) }; MAX_CPUS];

/// Sets up partition `index`'s virtual distributor.
pub fn init_partition(
    index: usize,
    version: GicVersion,
    vcpus: usize,
    hardware: IntidSet,
    software: IntidSet,
) {
    if let Some(slot) = DISTRIBUTORS.get(index) {
        *slot.lock() = Some(VirtualDistributor::new(version, vcpus, hardware, software));
    }
}

/// Sets up this CPU's GIC interface and its vCPU's redistributor.
pub fn init_cpu(cpu: usize, mpidr: u64) {
    gic::init_cpu(cpu, mpidr);
    if let Some(slot) = REDISTRIBUTORS.get(cpu) {
        *slot.lock() = Some(VirtualRedistributor::new());
    }
}

/// Silences this CPU's virtual interface when its vCPU stops: every list register emptied
/// (hardware interrupts the guest never deactivated are deactivated, or they would stay active
/// for ever), nothing queued, no maintenance interrupt, the timer PPI disabled. The vCPU's
/// redistributor model is left as it is (its counters are reported at the stop).
pub fn quiesce_vcpu(cpu: usize) {
    for index in 0..gic::list_register_count().min(16) {
        let entry = gic::read_lr(index);
        if let (Some(pintid), false) = (entry.pintid, entry.state == LrState::Invalid) {
            gic::deactivate_intid(pintid);
        }
        gic::write_lr(index, &ListEntry::decode_v3(0));
    }
    if let Some(queue) = QUEUES.get(cpu) {
        *queue.lock() = PendingQueue::new();
    }
    gic::set_underflow_interrupt(false);
    gic::set_private_enabled(cpu, VTIMER_INTID, false);
    crate::arch::fast_path::set_vtimer_lr(cpu, 0);
}

/// Puts this CPU's virtual interface and its vCPU's redistributor back to their reset state
/// before the vCPU is (re)entered: [`quiesce_vcpu`], plus no active priorities, the virtual
/// CPU interface's control reset, and a fresh redistributor.
pub fn reset_vcpu(cpu: usize) {
    quiesce_vcpu(cpu);
    gic::reset_virtual_interface();
    if let Some(slot) = REDISTRIBUTORS.get(cpu) {
        *slot.lock() = Some(VirtualRedistributor::new());
    }
}

/// Puts partition `partition`'s distributor back to its reset state and disables its
/// hardware SPIs (a partition restart).
pub fn reset_partition(partition: usize) {
    let Some(slot) = DISTRIBUTORS.get(partition) else {
        return;
    };
    let mut distributor = slot.lock();
    let Some(distributor) = distributor.as_mut() else {
        return;
    };
    distributor.reset();
    for intid in FIRST_SPI..crate::vgic::MAX_INTIDS as u32 {
        if distributor.hardware().contains(intid) {
            gic::set_spi_enabled(intid, false);
            gic::set_spi_pending(intid, false);
        }
    }
}

/// Wakes physical CPU `cpu` (it takes the kick SGI and looks at its queue and power state).
pub fn kick(system: &System, cpu: usize) {
    if cpu < system.cpus.len() {
        gic::send_sgi(cpu, KICK_SGI);
    }
}

/// Takes every pending physical interrupt on this CPU. Returns `true` if it was kicked.
pub fn handle_physical(system: &System, cpu: usize) -> bool {
    let mut kicked = false;
    let mut passed_on = crate::arch::fast_path::take_pending_ack(cpu);
    loop {
        let irq = match passed_on.take() {
            Some(raw) => gic::Acknowledged::already_acknowledged(raw),
            None => gic::acknowledge(),
        };
        let intid = irq.intid;
        if intid >= 1020 {
            break;
        }
        gic::priority_drop(irq);
        match intid {
            KICK_SGI | MAINTENANCE_INTID => {
                gic::deactivate(irq);
                kicked |= intid == KICK_SGI;
                flush_queue(cpu);
            }
            _ => match owner_config(system, cpu, intid) {
                // Deactivation is left to the guest (HW bit in the list register).
                Some(config) => {
                    let entry = ListEntry {
                        group1: config.group1,
                        ..ListEntry::hardware(intid, config.priority)
                    };
                    inject_local(cpu, entry)
                }
                None => {
                    gic::deactivate(irq);
                    if let Some(count) = STRAY.get(cpu) {
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                }
            },
        }
    }
    kicked
}

/// The guest's configuration of hardware interrupt `intid` if the partition on `cpu` owns it.
fn owner_config(system: &System, cpu: usize, intid: u32) -> Option<IrqConfig> {
    let slot = (*system.slots.get(cpu)?)?;
    if intid == VTIMER_INTID {
        let redistributor = REDISTRIBUTORS.get(cpu)?.lock();
        return redistributor
            .as_ref()?
            .private
            .irqs
            .get(intid as usize)
            .copied();
    }
    let distributor = DISTRIBUTORS.get(slot.partition)?.lock();
    let distributor = distributor.as_ref()?;
    // Only a hardware SPI can arrive physically; a doorbell INTID is the partition's own
    // software SPI, and a physical interrupt of that number is not its.
    if !distributor.hardware().contains(intid) {
        return None;
    }
    distributor.spi(intid).copied()
}

/// Puts `entry` in a list register of this CPU, or queues it.
fn inject_local(cpu: usize, entry: ListEntry) {
    if !write_list_register(entry) {
        if let Some(queue) = QUEUES.get(cpu) {
            queue.lock().push(entry);
        }
        gic::set_underflow_interrupt(true);
    }
}

/// Writes `entry` into a suitable list register; `false` if all are busy.
fn write_list_register(entry: ListEntry) -> bool {
    let count = gic::list_register_count().min(16);
    let empty = gic::empty_list_registers();
    let mut entries = [ListEntry::decode_v3(0); 16];
    for (index, slot) in entries.iter_mut().enumerate().take(count) {
        // An empty list register (its ICH_ELRSR_EL2 / GICH_ELRSR bit set) holds nothing to
        // merge with: it stays Invalid here instead of being read. Usually they all are, and
        // this is on the path of every injected interrupt (a doorbell's included).
        if empty & (1 << index) == 0 {
            *slot = gic::read_lr(index);
        }
    }
    let per_source_sgis = !gic::is_gic_v3();
    let Some(index) = list_registers::choose(&entries[..count], empty, &entry, per_source_sgis)
    else {
        return false;
    };
    let held = entries[index];
    if list_registers::same_interrupt(&held, &entry, per_source_sgis) {
        if let Some(merged) = list_registers::merge(&held, &entry) {
            gic::write_lr(index, &merged);
        }
    } else {
        gic::write_lr(index, &entry);
    }
    true
}

/// Moves queued interrupts into free list registers on this CPU.
pub fn flush_queue(cpu: usize) {
    let Some(queue) = QUEUES.get(cpu) else { return };
    let mut queue = queue.lock();
    while let Some(entry) = queue.pop() {
        if !write_list_register(entry) {
            queue.push(entry);
            break;
        }
    }
    gic::set_underflow_interrupt(!queue.is_empty());
}

/// Makes a purely virtual interrupt pending on partition `partition`'s vCPU `vcpu`.
fn inject_virtual(system: &System, partition: usize, vcpu: usize, intid: u32, source: usize) {
    let Some(cpu) = system
        .partitions
        .get(partition)
        .and_then(|p| p.cpus.get(vcpu).copied())
    else {
        return;
    };
    let config = if intid < FIRST_SPI {
        REDISTRIBUTORS.get(cpu).and_then(|r| {
            r.lock()
                .as_ref()
                .and_then(|r| r.private.irqs.get(intid as usize).copied())
        })
    } else {
        DISTRIBUTORS
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
    if cpu == crate::arch::current_cpu() {
        inject_local(cpu, entry);
    } else if let Some(queue) = QUEUES.get(cpu) {
        queue.lock().push(entry);
        kick(system, cpu);
    }
}

/// The peer of a doorbell is not running: nothing was made pending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerDown;

/// Rings doorbell `intid` of partition `peer`: makes it pending in the peer's virtual
/// distributor and, if the guest lets it through, queues it for the vCPU it is routed to and
/// kicks that vCPU's CPU (a peer is always on other CPUs than the caller).
///
/// The peer's state is checked under its distributor's lock, which a restart takes to reset
/// the distributor after marking the partition stopped: a ring either reaches the running
/// partition (and a later stop discards it with everything else pending) or fails.
pub fn ring_doorbell(system: &System, peer: usize, intid: u32) -> Result<(), PeerDown> {
    let partition = system.partitions.get(peer).ok_or(PeerDown)?;
    let slot = DISTRIBUTORS.get(peer).ok_or(PeerDown)?;
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
        if cpu == crate::arch::current_cpu() {
            inject_local(cpu, entry);
            return Ok(());
        }
        if let Some(queue) = QUEUES.get(cpu) {
            queue.lock().push(entry);
        }
        cpu
    };
    kick(system, kick_cpu);
    Ok(())
}

/// Applies what a guest's access to its virtual GIC asks of the hardware.
pub fn apply(system: &System, partition: usize, effects: &Effects) {
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
                        gic::set_private_enabled(cpu, intid, enabled);
                    }
                } else {
                    gic::set_spi_enabled(intid, enabled);
                }
            }
            Effect::Route { intid, vcpu } => {
                if let Some(cpu) = cpu_of(vcpu) {
                    gic::route_spi(intid, cpu);
                }
            }
            Effect::SetEdge { intid, edge } => gic::set_spi_edge(intid, edge),
            Effect::SetPending { intid, pending } => gic::set_spi_pending(intid, pending),
            Effect::InjectVirtual {
                intid,
                vcpu,
                source,
            } => inject_virtual(system, partition, vcpu, intid, source),
        }
    }
}

/// A guest access to its distributor window: returns the value read, if a read.
pub fn distributor_access(
    system: &System,
    partition: usize,
    cpu: usize,
    vcpu: usize,
    offset: u64,
    size: u8,
    write: Option<u64>,
) -> u64 {
    let Some(slot) = DISTRIBUTORS.get(partition) else {
        return 0;
    };
    let Some(redistributor) = REDISTRIBUTORS.get(cpu) else {
        return 0;
    };
    let effects;
    {
        let mut distributor = slot.lock();
        let mut redistributor = redistributor.lock();
        let (Some(distributor), Some(redistributor)) =
            (distributor.as_mut(), redistributor.as_mut())
        else {
            return 0;
        };
        match write {
            None => return distributor.read(vcpu, &redistributor.private, offset, size),
            Some(value) => {
                effects = distributor.write(vcpu, &mut redistributor.private, offset, size, value)
            }
        }
    }
    if !gic::is_gic_v3() {
        // GICv2 banks the timer PPI's enable and priority in the distributor.
        update_vtimer_fast_path(cpu);
    }
    apply(system, partition, &effects);
    0
}

/// A guest access to the redistributor frames of its vCPU `target_vcpu` (GICv3).
pub fn redistributor_access(
    system: &System,
    partition: usize,
    target_vcpu: usize,
    offset: u64,
    size: u8,
    write: Option<u64>,
) -> u64 {
    let Some(p) = system.partitions.get(partition) else {
        return 0;
    };
    let Some(&cpu) = p.cpus.get(target_vcpu) else {
        return 0;
    };
    let Some(slot) = REDISTRIBUTORS.get(cpu) else {
        return 0;
    };
    let effects;
    {
        let mut redistributor = slot.lock();
        let Some(redistributor) = redistributor.as_mut() else {
            return 0;
        };
        match write {
            None => return redistributor.read(target_vcpu, p.cpus.len(), offset),
            Some(value) => effects = redistributor.write(target_vcpu, offset, size, value),
        }
    }
    update_vtimer_fast_path(cpu);
    apply(system, partition, &effects);
    0
}

/// Recomputes the list register value the assembly fast path injects the virtual timer of
/// CPU `cpu`'s vCPU with (0 while the guest has the timer's PPI disabled).
pub fn update_vtimer_fast_path(cpu: usize) {
    let value = REDISTRIBUTORS
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
            if gic::is_gic_v3() {
                entry.encode_v3()
            } else {
                u64::from(entry.encode_v2())
            }
        });
    crate::arch::fast_path::set_vtimer_lr(cpu, value);
}

/// A guest's write to ICC_SGI1R_EL1: virtual SGIs to vCPUs of its own partition only.
pub fn send_sgi(system: &System, partition: usize, vcpu: usize, value: u64) {
    let Some(p) = system.partitions.get(partition) else {
        return;
    };
    let intid = ((value >> 24) & 0xf) as u32;
    let all_but_self = value & (1 << 40) != 0;
    let target_list = value & 0xffff;
    let high_affinity = (value >> 16) & 0xff | (value >> 32) & 0xff | (value >> 48) & 0xff;
    let range_selector = (value >> 44) & 0xf;
    let mut effects = Effects::new();
    for target in 0..p.cpus.len() {
        let selected = if all_but_self {
            target != vcpu
        } else {
            high_affinity == 0
                && target as u64 / 16 == range_selector
                && target_list & (1 << (target % 16)) != 0
        };
        if selected {
            let _ = effects.push(Effect::InjectVirtual {
                intid,
                vcpu: target,
                source: vcpu,
            });
        }
    }
    // Targets outside the partition are not selectable (vMPIDRs are 0..n-1); naming one is
    // counted as an ignored write.
    let named_outside = !all_but_self
        && (high_affinity != 0
            || (target_list << (range_selector * 16))
                .checked_shr(p.cpus.len() as u32)
                .unwrap_or(0)
                != 0);
    if named_outside {
        count_foreign_write(partition);
    }
    apply(system, partition, &effects);
}
