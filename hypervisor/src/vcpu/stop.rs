//! Stopping and restarting a partition as a whole, and a vCPU leaving its guest.

use bulkhead_config::model::OnStop;

use crate::partition::{PartitionState, StopReason};
use crate::system::{Partition, System};

use super::machine::{Machine, Power};
use super::outcome::Next;

/// The vCPU on `cpu` leaves its guest for good: off, its virtual CPU interface silenced
/// (pending list registers would keep a virtual IRQ asserted and wake this CPU's `wfi` for
/// ever), and no longer counted inside its guest.
pub fn leave<M: Machine>(cpu: usize, m: &mut M) {
    if m.power(cpu) == Power::On {
        m.set_power(cpu, Power::Off);
    }
    m.quiesce_vcpu(cpu);
    m.set_in_guest(cpu, false);
}

/// Stops `partition` (whose vCPU on `cpu` decided it) for `reason`: recalls its other vCPUs
/// and waits until none is in its guest, then restarts it from its pristine images (on
/// SYSTEM_RESET, or any stop with `on-stop = "restart"`) or reports it stopped. Returns where
/// this CPU goes: [`Next::Leave`], or [`Next::PowerOff`] once no partition runs.
///
/// Exactly one vCPU carries out a stop: one that finds the partition already stopping only
/// leaves.
pub fn stop_partition<M: Machine>(
    system: &System,
    partition: &Partition,
    cpu: usize,
    reason: StopReason,
    m: &mut M,
) -> Next {
    if !partition.try_stop() {
        leave(cpu, m);
        return Next::Leave;
    }
    let restart = reason == StopReason::SystemReset || partition.on_stop == OnStop::Restart;
    for &other in partition.cpus.iter().filter(|&&c| c != cpu) {
        if m.power(other) != Power::Off {
            m.set_power(other, Power::Off);
            m.kick(other);
        }
    }
    leave(cpu, m);
    for &other in partition.cpus.iter() {
        m.wait_until_out(other);
    }
    super::watchdog::reset(partition);
    if restart {
        m.print(format_args!(
            "HIL:PART {} RESTART reason={}",
            partition.name,
            reason.as_str()
        ));
        m.reload_images(partition);
        m.reset_partition_interrupts(partition);
        partition.set_state(PartitionState::Running);
        if let Some(&boot_cpu) = partition.cpus.first() {
            m.set_boot_request(boot_cpu, partition.entry, partition.dtb);
            m.set_power(boot_cpu, Power::OnPending);
            if boot_cpu != cpu {
                m.kick(boot_cpu);
            }
        }
        return Next::Leave;
    }
    m.report_stop_statistics(partition);
    // A stopped partition's devices must not keep interrupting: a level-triggered SPI left
    // enabled would be taken, and injected into a vCPU that no longer runs, for ever.
    m.reset_partition_interrupts(partition);
    m.print(format_args!(
        "HIL:PART {} STOPPED reason={}",
        partition.name,
        reason.as_str()
    ));
    if system.all_stopped() {
        Next::PowerOff
    } else {
        Next::Leave
    }
}
