//! The constant hypercall answers the exception vector gives without saving a guest's registers:
//! computed at boot by the SMCCC dispatcher itself, so the fast and the general path agree.

use heapless::Vec;

use crate::caller::RunningVcpu;
use crate::partition::PartitionState;
use crate::smccc::constant::CONSTANT_CALLS;
use crate::smccc::{dispatch, Action, Call};
use crate::system::System;

/// One constant answer: `function` returns `values` in x0..x3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FastAnswer {
    /// The 32-bit function ID.
    pub function: u32,
    /// x0..x3.
    pub values: [u64; 4],
}

/// The constant answers, at most one per constant call.
pub type FastCallTable = Vec<FastAnswer, { CONSTANT_CALLS.len() }>;

/// What the dispatcher answers to each constant call, asked as the first running partition's
/// vCPU 0 (the answers depend on nobody, so any caller gives the same table). Calls the
/// dispatcher does not simply return from are left out and take the general path. Empty if
/// no partition runs.
pub fn fast_call_table(system: &System) -> FastCallTable {
    let mut table = FastCallTable::new();
    let Some(partition) = system
        .partitions
        .iter()
        .find(|p| p.state() == PartitionState::Running)
    else {
        return table;
    };
    let mut caller = RunningVcpu { partition, vcpu: 0 };
    for &function in CONSTANT_CALLS {
        let call = Call {
            function,
            args: [0; 6],
            aarch32: false,
        };
        if let Action::Return(values) = dispatch(&call, &mut caller) {
            let _ = table.push(FastAnswer { function, values });
        }
    }
    table
}
