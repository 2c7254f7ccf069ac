//! PSCI's vCPU power calls on the caller's own partition (DEN0022 5.1): CPU_ON, AFFINITY_INFO,
//! and whether a CPU_OFF is the partition's last.

use crate::smccc::PsciError;
use crate::system::Partition;

use super::machine::{Machine, Power};

/// AFFINITY_INFO results (DEN0022 5.1.5).
const AFFINITY_ON: u64 = 0;
const AFFINITY_OFF: u64 = 1;
const AFFINITY_ON_PENDING: u64 = 2;

/// The physical CPU of the vCPU whose virtual MPIDR is `target` in `partition`.
pub fn target_cpu(partition: &Partition, target: u64) -> Option<usize> {
    // vMPIDRs are 0..n-1 in Aff0; any other affinity bits name a CPU outside the partition.
    if target & !0xff != 0 {
        return None;
    }
    partition.cpus.get(usize::try_from(target).ok()?).copied()
}

/// PSCI CPU_ON of the partition's vCPU `target` at `entry` with x0 = `context`: x0 to return.
pub fn cpu_on<M: Machine>(
    partition: &Partition,
    target: u64,
    entry: u64,
    context: u64,
    m: &mut M,
) -> u64 {
    let Some(target_cpu) = target_cpu(partition, target) else {
        return PsciError::InvalidParameters.to_register();
    };
    if partition.ram_to_pa(entry, 4).is_none() {
        return PsciError::InvalidAddress.to_register();
    }
    match m.claim_power_on(target_cpu) {
        Ok(()) => {}
        Err(Power::On) => return PsciError::AlreadyOn.to_register(),
        Err(_) => return PsciError::OnPending.to_register(),
    }
    m.set_boot_request(target_cpu, entry, context);
    m.kick(target_cpu);
    0
}

/// PSCI AFFINITY_INFO of the partition's vCPU `target` (only level 0 is supported).
pub fn affinity_info<M: Machine>(partition: &Partition, target: u64, level: u32, m: &M) -> u64 {
    match (level, target_cpu(partition, target)) {
        (0, Some(cpu)) => match m.power(cpu) {
            Power::On => AFFINITY_ON,
            Power::Off => AFFINITY_OFF,
            Power::OnPending => AFFINITY_ON_PENDING,
        },
        _ => super::policy::invalid_parameters(),
    }
}

/// Whether the vCPU on `cpu` is the last of `partition` that is on or about to be.
pub fn is_last_running_vcpu<M: Machine>(partition: &Partition, cpu: usize, m: &M) -> bool {
    partition
        .cpus
        .iter()
        .filter(|&&other| other != cpu)
        .all(|&other| m.power(other) == Power::Off)
}
