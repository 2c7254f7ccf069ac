//! The running vCPU as the SMCCC dispatcher's [`Caller`].

use crate::smccc::Caller;
use crate::system::Partition;

/// The partition and vCPU that trapped on this CPU.
pub struct RunningVcpu<'a> {
    /// The calling partition.
    pub partition: &'a Partition,
    /// The calling vCPU's index.
    pub vcpu: usize,
}

impl Caller for RunningVcpu<'_> {
    fn partition_id(&self) -> usize {
        self.partition.id
    }

    fn partition_name(&self) -> &str {
        &self.partition.name
    }

    fn vcpu_count(&self) -> usize {
        self.partition.cpus.len()
    }

    fn vcpu_index(&self) -> usize {
        self.vcpu
    }
}
