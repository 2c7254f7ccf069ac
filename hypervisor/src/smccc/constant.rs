//! Calls whose answer depends on nothing: not the caller, not the arguments, not time. The
//! hypervisor answers these from a table in the exception vector (`arch/fast_path.rs`) without
//! saving the guest's registers; the table is filled at boot from [`super::dispatch`] itself,
//! so both paths always agree.

/// SMCCC_VERSION, PSCI_VERSION, MIGRATE_INFO_TYPE, TRNG_VERSION, TRNG_GET_UUID and the vendor
/// service's call count, UID and revision.
pub const CONSTANT_CALLS: &[u32] = &[
    0x8400_0000, // PSCI_VERSION
    0x8000_0000, // SMCCC_VERSION
    0x8600_ff03, // vendor: revision
    0x8600_ff01, // vendor: UID
    0x8600_ff00, // vendor: call count
    0x8400_0006, // MIGRATE_INFO_TYPE
    0x8400_0050, // TRNG_VERSION
    0x8400_0052, // TRNG_GET_UUID
];
