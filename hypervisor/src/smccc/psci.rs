//! PSCI (Arm DEN0022) as partitions see it: the system calls act on the calling partition only.

use super::dispatch::Action;
use super::error::PsciError;
use super::function_id::{arm, psci};
use super::PSCI_VERSION;

/// MIGRATE_INFO_TYPE: no Trusted OS that needs migration.
const MIGRATE_INFO_NOT_PRESENT: u64 = 2;

/// Whether PSCI_FEATURES reports `function` (32- or 64-bit form) as implemented.
pub fn implements(function: u32) -> bool {
    matches!(
        function,
        psci::VERSION
            | psci::FEATURES
            | psci::MIGRATE_INFO_TYPE
            | psci::SYSTEM_OFF
            | psci::SYSTEM_RESET
            | arm::VERSION
    )
}

/// Handles a PSCI call whose 32-bit form is `function`.
pub fn call(function: u32, args: &[u64; 6]) -> Action {
    match function {
        psci::VERSION => Action::ok(u64::from(PSCI_VERSION)),
        psci::FEATURES => {
            // PSCI_FEATURES takes a 32-bit function ID in w1; unknown IDs are NOT_SUPPORTED.
            let queried = args[0] as u32;
            let queried = if queried & (1 << 30) != 0 {
                queried & !(1 << 30)
            } else {
                queried
            };
            if implements(queried) {
                Action::ok(0)
            } else {
                Action::error(PsciError::NotSupported.to_register())
            }
        }
        psci::MIGRATE_INFO_TYPE => Action::ok(MIGRATE_INFO_NOT_PRESENT),
        psci::SYSTEM_OFF => Action::SystemOff,
        psci::SYSTEM_RESET => Action::SystemReset,
        _ => Action::error(PsciError::NotSupported.to_register()),
    }
}
