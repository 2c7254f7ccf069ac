//! Calls whose answer depends on nothing: not the caller, not the arguments, not time. The
//! hypervisor answers these from a table in the exception vector (`arch/fast_path.rs`) without
//! saving the guest's registers; the table is filled at boot from [`super::dispatch`] itself,
//! so both paths always agree.

use super::function_id::{arm, psci, trng, vendor};

/// SMCCC_VERSION, PSCI_VERSION, MIGRATE_INFO_TYPE, TRNG_VERSION, TRNG_GET_UUID and the vendor
/// service's call count, UID and revision.
pub const CONSTANT_CALLS: &[u32] = &[
    psci::VERSION,
    arm::VERSION,
    vendor::REVISION,
    vendor::CALL_UID,
    vendor::CALL_COUNT,
    psci::MIGRATE_INFO_TYPE,
    trng::VERSION,
    trng::GET_UUID,
];
