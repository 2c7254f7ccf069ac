//! What a CPU does between guests: whether its vCPU enters now, and with what.

use crate::partition::PartitionState;
use crate::system::System;

use super::machine::{Machine, Power};

/// VMPIDR_EL2 bit 31 is RES1.
const VMPIDR_RES1: u64 = 1 << 31;

/// How a vCPU enters its guest (the Linux arm64 boot protocol).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Entry point (IPA).
    pub entry: u64,
    /// x0: the partition's device tree (IPA), a CPU_ON context, or 0.
    pub x0: u64,
    /// VMPIDR_EL2: the MPIDR the guest reads (Aff0 = vCPU index).
    pub vmpidr: u64,
}

/// Decides whether the vCPU on `cpu` enters its guest now: when it is on-pending and its
/// partition runs. The vCPU is marked inside its guest *before* the partition's state is
/// looked at (both sequentially consistent), so a vCPU stopping the partition either sees this
/// CPU inside and waits for it, or this CPU sees the partition stopped and stays out.
pub fn try_enter<M: Machine>(system: &System, cpu: usize, m: &mut M) -> Option<Entry> {
    if m.power(cpu) != Power::OnPending {
        return None;
    }
    let (partition, vcpu) = system.slot(cpu)?;
    m.set_in_guest(cpu, true);
    if partition.state() == PartitionState::Running && m.power(cpu) == Power::OnPending {
        let (entry, x0) = m.boot_request(cpu);
        m.reset_vcpu(cpu);
        m.set_power(cpu, Power::On);
        m.print(format_args!(
            "HIL:PART {} UP cpu={} vcpu={} entry={:#x}",
            partition.name, cpu, vcpu, entry
        ));
        return Some(Entry {
            entry,
            x0,
            vmpidr: VMPIDR_RES1 | vcpu as u64,
        });
    }
    m.set_in_guest(cpu, false);
    m.set_power(cpu, Power::Off);
    None
}
