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
    // A management call on another CPU may be starting or restarting it: one at a time.
    let _transition = partition.restarts.transition();
    let now = m.counter();
    let restart = reason == StopReason::SystemReset || partition.on_stop == OnStop::Restart;
    recall_vcpus(partition, cpu, m);
    leave(cpu, m);
    for &other in partition.cpus.iter() {
        m.wait_until_out(other);
    }
    partition.restarts.stopped(reason, now);
    if restart {
        let limit = partition.max_restarts;
        if partition
            .restarts
            .allow_restart(limit, now, m.counter_frequency())
        {
            restart_from_images(partition, reason, cpu, m);
            return Next::Leave;
        }
        partition.restarts.stopped(StopReason::RestartLimit, now);
        return report_stopped(system, partition, StopDetail::Limit(reason), m);
    }
    report_stopped(system, partition, StopDetail::Plain(reason), m)
}

/// Switches off every vCPU of `partition` but the one on `cpu` (if any), kicking their CPUs
/// out of their guest: a CPU busy in its guest takes the kick as an interrupt at EL2 and
/// leaves.
pub fn recall_vcpus<M: Machine>(partition: &Partition, cpu: usize, m: &mut M) {
    for &other in partition.cpus.iter().filter(|&&c| c != cpu) {
        if m.power(other) != Power::Off {
            m.set_power(other, Power::Off);
            m.kick(other);
        }
    }
}

/// Restarts `partition`, none of whose vCPUs is in its guest any more, from its pristine
/// images for `reason` (reported with its restart count and how long, in counter ticks, the
/// stop and reload took); vCPU 0 boots (its CPU is kicked unless it is `cpu`, which enters from
/// its loop).
pub fn restart_from_images<M: Machine>(
    partition: &Partition,
    reason: StopReason,
    cpu: usize,
    m: &mut M,
) {
    super::watchdog::reset(partition);
    m.reload_images(partition);
    m.reset_partition_interrupts(partition);
    let (restarts, took) = partition.restarts.restarted(m.counter());
    m.print(format_args!(
        "HIL:PART {} RESTART reason={} restarts={restarts} took-ticks={took}",
        partition.name,
        reason.as_str()
    ));
    partition.set_state(PartitionState::Running);
    if let Some(&boot_cpu) = partition.cpus.first() {
        m.set_boot_request(boot_cpu, partition.entry, partition.dtb);
        m.set_power(boot_cpu, Power::OnPending);
        if boot_cpu != cpu {
            m.kick(boot_cpu);
        }
    }
}

/// How a stop is reported.
#[derive(Clone, Copy, Debug)]
pub enum StopDetail {
    /// It stopped for this reason.
    Plain(StopReason),
    /// It would have restarted for this reason, but is over its `max-restarts`.
    Limit(StopReason),
}

/// Reports `partition` (none of whose vCPUs is in its guest) stopped: its statistics, its
/// interrupts reset, the `HIL:PART ... STOPPED` line. Returns [`Next::PowerOff`] once no
/// partition runs.
pub fn report_stopped<M: Machine>(
    system: &System,
    partition: &Partition,
    detail: StopDetail,
    m: &mut M,
) -> Next {
    super::watchdog::reset(partition);
    m.report_stop_statistics(partition);
    // A stopped partition's devices must not keep interrupting: a level-triggered SPI left
    // enabled would be taken, and injected into a vCPU that no longer runs, for ever.
    m.reset_partition_interrupts(partition);
    match detail {
        StopDetail::Plain(reason) => m.print(format_args!(
            "HIL:PART {} STOPPED reason={}",
            partition.name,
            reason.as_str()
        )),
        StopDetail::Limit(cause) => {
            let (count, seconds) = partition
                .max_restarts
                .map_or((0, 0), |l| (l.count, l.seconds));
            m.print(format_args!(
                "HIL:PART {} STOPPED reason={} cause={} restarts={} max-restarts={count}/{seconds}s",
                partition.name,
                StopReason::RestartLimit.as_str(),
                cause.as_str(),
                partition.restarts.count(),
            ));
        }
    }
    if system.all_stopped() {
        Next::PowerOff
    } else {
        Next::Leave
    }
}
