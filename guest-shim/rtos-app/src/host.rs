//! What runs below the RTOS: Bulkhead (found by its SMCCC vendor UID) or nothing (bare metal,
//! where QEMU answers PSCI itself).
#![forbid(unsafe_code)]

use guest_shim::bulkhead::{self, Bulkhead, PartitionInfo};
use rtos::devicetree::Platform;

/// Who is below.
#[derive(Clone, Copy, Debug)]
pub enum Host {
    /// A Bulkhead partition.
    Bulkhead {
        /// The service.
        hypervisor: Bulkhead,
        /// Which partition and vCPU, if it said.
        info: Option<PartitionInfo>,
    },
    /// No hypervisor that says it is Bulkhead.
    Bare,
}

impl Host {
    /// Asks over SMCCC (only with an `hvc` conduit: without EL2, `hvc` may be undefined).
    pub fn detect(platform: &Platform<'_>) -> Host {
        if !platform.psci_hvc {
            return Host::Bare;
        }
        match bulkhead::detect() {
            Some(hypervisor) => Host::Bulkhead {
                hypervisor,
                info: hypervisor.partition_info().ok(),
            },
            None => Host::Bare,
        }
    }

    /// `bulkhead` or `bare`.
    pub fn name(&self) -> &'static str {
        match self {
            Host::Bulkhead { .. } => "bulkhead",
            Host::Bare => "bare",
        }
    }
}
