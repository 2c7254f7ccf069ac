//! Starting, stopping and restarting a partition from outside it: a management call of the
//! `privileged` partition, or the hypervisor console.
//!
//! The caller runs on a CPU of another partition (or none), so nothing here leaves a guest:
//! the target's vCPUs are switched off and their CPUs kicked (an interrupt at EL2 takes a CPU
//! busy in its guest out of it), and the caller waits until every one of them is out before
//! the target's memory or interrupts are touched. One transition per partition at a time:
//! [`crate::partition::RestartLog::transition`] serialises them with the partition's own stops
//! and restarts.

use crate::partition::{PartitionState, StopReason};
use crate::system::System;

use super::machine::{Machine, Power};
use super::stop::{recall_vcpus, report_stopped, restart_from_images, StopDetail};

/// A CPU index no vCPU runs on: the manager is never one of the target's CPUs.
const NO_CPU: usize = usize::MAX;

/// What to do to a partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManageOp {
    /// Boot a stopped partition from its images.
    Start,
    /// Stop a running partition (it stays off).
    Stop,
    /// Stop it if it runs, then boot it from its images.
    Restart,
}

/// Why an operation was not carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManageError {
    /// There is no partition with that index.
    NoSuchPartition,
    /// START of a running partition, STOP of a stopped one, anything of a refused one.
    WrongState,
}

/// Carries out `op` on partition `target` (index in configuration order).
///
/// # Errors
/// [`ManageError`] says why nothing was done.
pub fn manage<M: Machine>(
    system: &System,
    op: ManageOp,
    target: usize,
    m: &mut M,
) -> Result<(), ManageError> {
    manage_for(system, op, target, StopReason::Management, m)
}

/// [`manage`], with the reason a stop or restart is reported and recorded with: `Management`
/// for a management call or the hypervisor console, `DeviceFault` for the SMMU's policy.
pub fn manage_for<M: Machine>(
    system: &System,
    op: ManageOp,
    target: usize,
    reason: StopReason,
    m: &mut M,
) -> Result<(), ManageError> {
    let partition = system
        .partitions
        .get(target)
        .ok_or(ManageError::NoSuchPartition)?;
    if partition.state() == PartitionState::Refused || partition.cpus.is_empty() {
        return Err(ManageError::WrongState);
    }
    let _transition = partition.restarts.transition();
    match op {
        ManageOp::Stop => {
            if !partition.try_stop() {
                return Err(ManageError::WrongState);
            }
            recall(partition, m);
            partition.restarts.stopped(reason, m.counter());
            // The caller's own partition runs: never the last one.
            let _ = report_stopped(system, partition, StopDetail::Plain(reason), m);
        }
        ManageOp::Restart => {
            if partition.try_stop() {
                recall(partition, m);
            } else if !partition.try_start() {
                return Err(ManageError::WrongState);
            } else {
                // It was stopped: claimed (state running, no vCPU on yet); its CPUs are out.
                wait_all_out(partition, m);
            }
            partition.restarts.stopped(reason, m.counter());
            restart_from_images(partition, reason, NO_CPU, m);
        }
        ManageOp::Start => {
            if !partition.try_start() {
                return Err(ManageError::WrongState);
            }
            wait_all_out(partition, m);
            // Started by hand: its restart rate starts afresh.
            partition.restarts.clear_window();
            m.reload_images(partition);
            m.reset_partition_interrupts(partition);
            m.print(format_args!(
                "HIL:PART {} START reason={}",
                partition.name,
                StopReason::Management.as_str()
            ));
            if let Some(&boot_cpu) = partition.cpus.first() {
                m.set_boot_request(boot_cpu, partition.entry, partition.dtb);
                m.set_power(boot_cpu, Power::OnPending);
                m.kick(boot_cpu);
            }
        }
    }
    Ok(())
}

/// Carries out `op` on partition `target` for a management call: the call's X0 (0, WRONG_STATE
/// or INVALID_PARAMETER).
pub fn result<M: Machine>(system: &System, op: ManageOp, target: usize, m: &mut M) -> u64 {
    match manage(system, op, target, m) {
        Ok(()) => 0,
        Err(ManageError::WrongState) => crate::smccc::VendorError::WrongState.to_register(),
        Err(ManageError::NoSuchPartition) => {
            crate::smccc::SmcccError::InvalidParameter.to_register()
        }
    }
}

/// Switches every vCPU of `partition` off and waits until each CPU is out of its guest.
fn recall<M: Machine>(partition: &crate::system::Partition, m: &mut M) {
    recall_vcpus(partition, NO_CPU, m);
    wait_all_out(partition, m);
}

fn wait_all_out<M: Machine>(partition: &crate::system::Partition, m: &mut M) {
    // Each CPU silences its own virtual CPU interface as it leaves (`stop::leave`).
    for &cpu in &partition.cpus {
        m.wait_until_out(cpu);
    }
}
