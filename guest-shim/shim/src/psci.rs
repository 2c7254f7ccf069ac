//! PSCI (Arm DEN0022) over SMCCC: the partition's own power management.

use crate::smccc::{self, SmcccError, Version};

pub use bulkhead_abi::psci::{
    AFFINITY_INFO, CPU_OFF, CPU_ON, CPU_ON_64, CPU_SUSPEND, FEATURES as PSCI_FEATURES,
    MIGRATE_INFO_TYPE, SYSTEM_OFF, SYSTEM_RESET, SYSTEM_RESET2, SYSTEM_RESET2_64,
    VERSION as PSCI_VERSION,
};

/// A SYSTEM_RESET2 reset type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetType {
    /// SYSTEM_WARM_RESET (architectural type 0).
    Warm,
    /// Another architectural type (1..=0x7fff_ffff, reserved by PSCI).
    Architectural(u32),
    /// A vendor-specific type (bit 31 set).
    Vendor(u32),
}

impl ResetType {
    fn to_register(self) -> u64 {
        u64::from(match self {
            ResetType::Warm => 0,
            ResetType::Architectural(kind) => kind & 0x7fff_ffff,
            ResetType::Vendor(kind) => kind | 1 << 31,
        })
    }
}

/// PSCI_VERSION.
pub fn version() -> Version {
    Version::from_register(smccc::call(PSCI_VERSION, [0; 6])[0])
}

/// PSCI_FEATURES: whether `function` is implemented (and its feature flags).
pub fn features(function: u32) -> Result<u32, SmcccError> {
    let x0 = smccc::call(PSCI_FEATURES, [u64::from(function), 0, 0, 0, 0, 0])[0];
    match SmcccError::from_w0(x0) {
        Some(error) => Err(error),
        None => Ok(x0 as u32),
    }
}

/// SYSTEM_OFF: turns this partition off (under Bulkhead) or the machine (bare).
pub fn system_off() -> ! {
    smccc::call(SYSTEM_OFF, [0; 6]);
    loop {
        core::hint::spin_loop();
    }
}

/// A PSCI error code (Arm DEN0022, "Return error codes"; -2 differs from SMCCC's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PsciError {
    /// -1.
    NotSupported,
    /// -2.
    InvalidParameters,
    /// -3.
    Denied,
    /// Any other value.
    Other(i32),
}

impl PsciError {
    /// Decodes W0.
    pub fn from_w0(x0: u64) -> Self {
        use bulkhead_abi::error::psci::{DENIED, INVALID_PARAMETERS, NOT_SUPPORTED};
        match x0 as u32 as i32 {
            NOT_SUPPORTED => PsciError::NotSupported,
            INVALID_PARAMETERS => PsciError::InvalidParameters,
            DENIED => PsciError::Denied,
            other => PsciError::Other(other),
        }
    }
}

/// SYSTEM_RESET2 (64-bit form): returns only if the reset is refused, with the PSCI error; a
/// warm reset restarts this partition (under Bulkhead).
pub fn system_reset2(kind: ResetType, cookie: u64) -> PsciError {
    PsciError::from_w0(smccc::call(SYSTEM_RESET2_64, [kind.to_register(), cookie, 0, 0, 0, 0])[0])
}

/// MIGRATE_INFO_TYPE: 2 means no Trusted OS needs migration.
pub fn migrate_info_type() -> Result<u32, SmcccError> {
    smccc::result_w0(smccc::call(MIGRATE_INFO_TYPE, [0; 6])[0])
}

/// SYSTEM_RESET: restarts this partition (under Bulkhead) or the machine (bare).
pub fn system_reset() -> ! {
    smccc::call(SYSTEM_RESET, [0; 6]);
    loop {
        core::hint::spin_loop();
    }
}
