//! How each secondary CPU is started: PSCI CPU_ON where the firmware has PSCI, otherwise the
//! spin table the device tree describes (Raspberry Pi). Never an SMC on a board without PSCI:
//! with the Pi's stock firmware there is nothing at EL3 to answer it.

use heapless::Vec;

use crate::host_dt::{HostInfo, PsciConduit};

/// How one CPU is started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartMethod {
    /// PSCI CPU_ON over SMC.
    Psci,
    /// Write the entry point to its spin table's release address.
    SpinTable {
        /// The `cpu-release-addr` the device tree gives.
        release: u64,
    },
    /// Neither: the CPU stays off.
    Unavailable,
}

/// One secondary CPU and how to start it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecondaryStart {
    /// Its logical number (the context its entry receives).
    pub cpu: usize,
    /// Its MPIDR.
    pub mpidr: u64,
    /// How.
    pub method: StartMethod,
}

/// The plan for every CPU but the boot CPU (logical 0), in logical order.
pub fn secondary_start_plan(host: &HostInfo<'_>) -> Vec<SecondaryStart, { crate::MAX_CPUS }> {
    host.cpus
        .iter()
        .enumerate()
        .skip(1)
        .map(|(cpu, &mpidr)| {
            let release = host.release_addresses.get(cpu).copied().unwrap_or(0);
            let method = if host.psci == Some(PsciConduit::Smc) {
                StartMethod::Psci
            } else if release != 0 {
                StartMethod::SpinTable { release }
            } else {
                StartMethod::Unavailable
            };
            SecondaryStart { cpu, mpidr, method }
        })
        .collect()
}
