//! A partition with `on-fault = "inject"` survives its data aborts: a stage-2 data abort
//! outside its memory (or an access to an emulated device the hypervisor cannot carry out:
//! exclusive, pair, unaligned or of a bad width) is reported on the console and handed to the
//! guest as a synchronous external abort, as a bus error would be on hardware. Every other
//! fault (instruction aborts, SErrors, unknown traps) still stops it. The attacker test
//! partition uses it to make every wild access in one run (docs/guest-abi.md, "Faults").
//!
//! The report line is printed for the first [`REPORTED`] aborts of a run and at every power of
//! two after, so a partition that faults in a loop cannot flood the shared console.

use core::sync::atomic::{AtomicU32, Ordering};

use bulkhead_config::model::OnFault;

use crate::system::Partition;
use crate::trap::Exit;

use super::machine::Machine;

/// Aborts reported one by one per partition before the reports thin out.
const REPORTED: u32 = 16;

/// Injected aborts per partition (by id - 1), since boot.
static INJECTED: [AtomicU32; bulkhead_config::MAX_PARTITIONS] =
    [const { AtomicU32::new(0) }; bulkhead_config::MAX_PARTITIONS];

/// If `partition` takes its data aborts itself and `exit` is one: reports it, hands it to the
/// machine to inject and returns `true` (the vCPU resumes, in its vector: the outcome says
/// `inject`); else `false`.
pub fn data_abort<M: Machine>(partition: &Partition, vcpu: usize, exit: &Exit, m: &mut M) -> bool {
    let Exit::DataAbort {
        ipa, far, write, ..
    } = *exit
    else {
        return false;
    };
    if partition.on_fault != OnFault::Inject {
        return false;
    }
    let count = INJECTED
        .get(partition.id.wrapping_sub(1))
        .map_or(0, |c| c.fetch_add(1, Ordering::Relaxed).wrapping_add(1));
    if count <= REPORTED || count.is_power_of_two() {
        m.print(format_args!(
            "HIL:FAULT partition={} vcpu={vcpu} injected=data-abort ipa={ipa:#x} far={far:#x} write={} count={count}",
            partition.name,
            u8::from(write),
        ));
    }
    m.inject_data_abort(far, write);
    true
}
