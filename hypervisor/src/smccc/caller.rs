//! What the dispatcher may know about, and do for, the partition that made a call.
//!
//! The hypervisor implements this for the running vCPU (`crate::caller`); tests use fakes. The
//! dispatcher never touches hardware or guest memory except through it.

/// The calling partition, as the dispatcher sees it.
pub trait Caller {
    /// The partition's id (1-based, configuration order).
    fn partition_id(&self) -> usize;
    /// The partition's name.
    fn partition_name(&self) -> &str;
    /// How many vCPUs the partition has.
    fn vcpu_count(&self) -> usize;
    /// The calling vCPU's index in the partition.
    fn vcpu_index(&self) -> usize;
}

/// A caller for unit tests.
#[cfg(test)]
#[derive(Clone, Debug)]
pub struct FakeCaller {
    /// Partition id.
    pub id: usize,
    /// Partition name.
    pub name: &'static str,
    /// vCPU count.
    pub vcpus: usize,
    /// Calling vCPU.
    pub vcpu: usize,
}

#[cfg(test)]
impl Default for FakeCaller {
    fn default() -> Self {
        FakeCaller {
            id: 1,
            name: "test",
            vcpus: 1,
            vcpu: 0,
        }
    }
}

#[cfg(test)]
impl Caller for FakeCaller {
    fn partition_id(&self) -> usize {
        self.id
    }
    fn partition_name(&self) -> &str {
        self.name
    }
    fn vcpu_count(&self) -> usize {
        self.vcpus
    }
    fn vcpu_index(&self) -> usize {
        self.vcpu
    }
}
