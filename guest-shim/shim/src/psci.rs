//! PSCI (Arm DEN0022) over SMCCC: the partition's own power management.

use crate::smccc::{self, SmcccError, Version};

/// PSCI_VERSION.
pub const PSCI_VERSION: u32 = 0x8400_0000;
/// PSCI_FEATURES.
pub const PSCI_FEATURES: u32 = 0x8400_000a;
/// SYSTEM_OFF.
pub const SYSTEM_OFF: u32 = 0x8400_0008;
/// SYSTEM_RESET.
pub const SYSTEM_RESET: u32 = 0x8400_0009;

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

/// SYSTEM_RESET: restarts this partition (under Bulkhead) or the machine (bare).
pub fn system_reset() -> ! {
    smccc::call(SYSTEM_RESET, [0; 6]);
    loop {
        core::hint::spin_loop();
    }
}
