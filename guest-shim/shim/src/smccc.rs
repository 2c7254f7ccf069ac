//! SMCCC calls (Arm DEN0028) through `hvc #0`, with typed results.

use core::fmt;

pub use bulkhead_abi::arm::{
    ARCH_FEATURES as SMCCC_ARCH_FEATURES, SOC_ID as SMCCC_ARCH_SOC_ID, VERSION as SMCCC_VERSION,
    WORKAROUND_1 as SMCCC_ARCH_WORKAROUND_1, WORKAROUND_2 as SMCCC_ARCH_WORKAROUND_2,
    WORKAROUND_3 as SMCCC_ARCH_WORKAROUND_3,
};

/// An SMCCC return code that signals an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmcccError {
    /// -1: the function is not implemented.
    NotSupported,
    /// -2: not required on this system.
    NotRequired,
    /// -3: an argument is invalid.
    InvalidParameter,
    /// Any other negative value.
    Other(i64),
}

impl SmcccError {
    /// Decodes `x0` as a signed SMCCC return; `None` if it is not an error.
    pub fn from_register(x0: u64) -> Option<Self> {
        use bulkhead_abi::error::smccc::{INVALID_PARAMETER, NOT_REQUIRED, NOT_SUPPORTED};
        let value = x0 as i64;
        match i32::try_from(value) {
            Ok(NOT_SUPPORTED) => Some(SmcccError::NotSupported),
            Ok(NOT_REQUIRED) => Some(SmcccError::NotRequired),
            Ok(INVALID_PARAMETER) => Some(SmcccError::InvalidParameter),
            _ if value < 0 => Some(SmcccError::Other(value)),
            _ => None,
        }
    }

    /// Decodes a 32-bit result (w0) the same way.
    pub fn from_w0(x0: u64) -> Option<Self> {
        Self::from_register(i64::from(x0 as u32 as i32) as u64)
    }
}

impl fmt::Display for SmcccError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SmcccError::NotSupported => write!(f, "NOT_SUPPORTED"),
            SmcccError::NotRequired => write!(f, "NOT_REQUIRED"),
            SmcccError::InvalidParameter => write!(f, "INVALID_PARAMETER"),
            SmcccError::Other(value) => write!(f, "error {value}"),
        }
    }
}

/// An SMCCC version (major.minor).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    /// Major version.
    pub major: u16,
    /// Minor version.
    pub minor: u16,
}

impl Version {
    /// Decodes the `major << 16 | minor` encoding used by SMCCC and PSCI.
    pub fn from_register(value: u64) -> Self {
        Version {
            major: ((value >> 16) & 0x7fff) as u16,
            minor: value as u16,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// One SMCCC fast call through `$conduit` (`"hvc #0"` or `"smc #0"`): W0 = function, X1..X6 =
/// arguments; returns X0..X3. SMCCC v1.0 callees may corrupt X4..X17, so they are clobbered.
#[cfg(target_arch = "aarch64")]
macro_rules! smccc_call {
    ($conduit:literal, $function:expr, $args:expr) => {{
        let args: [u64; 6] = $args;
        let (mut x0, mut x1, mut x2, mut x3) = (u64::from($function), args[0], args[1], args[2]);
        // SAFETY: an SMCCC call changes no memory the caller owns (pointers passed by argument
        // are the caller's business); the registers it may change are declared as outputs.
        unsafe {
            core::arch::asm!(
                $conduit,
                inout("x0") x0, inout("x1") x1, inout("x2") x2, inout("x3") x3,
                in("x4") args[3], in("x5") args[4], in("x6") args[5],
                lateout("x7") _, lateout("x8") _, lateout("x9") _, lateout("x10") _,
                lateout("x11") _, lateout("x12") _, lateout("x13") _, lateout("x14") _,
                lateout("x15") _, lateout("x16") _, lateout("x17") _,
                options(nostack),
            );
        }
        [x0, x1, x2, x3]
    }};
}

/// Makes an SMCCC fast call with `hvc #0` and returns x0..x3.
///
/// This is the raw form, for probing and tests; prefer the typed functions.
#[cfg(target_arch = "aarch64")]
pub fn call(function: u32, args: [u64; 6]) -> [u64; 4] {
    smccc_call!("hvc #0", function, args)
}

/// Makes an SMCCC fast call with `smc #0` (addressed to the platform firmware; under Bulkhead
/// it is trapped and served by the same dispatcher, and reaches the firmware only if the
/// partition's `smc-allow` lists the function) and returns x0..x3.
#[cfg(target_arch = "aarch64")]
pub fn call_smc(function: u32, args: [u64; 6]) -> [u64; 4] {
    smccc_call!("smc #0", function, args)
}

/// Host builds have no conduit: every call is NOT_SUPPORTED.
#[cfg(not(target_arch = "aarch64"))]
pub fn call(_function: u32, _args: [u64; 6]) -> [u64; 4] {
    [u64::MAX, 0, 0, 0]
}

/// Host builds have no conduit: every call is NOT_SUPPORTED.
#[cfg(not(target_arch = "aarch64"))]
pub fn call_smc(_function: u32, _args: [u64; 6]) -> [u64; 4] {
    [u64::MAX, 0, 0, 0]
}

/// Decodes a 32-bit SMCCC result: an error, or the non-negative value.
pub fn result_w0(x0: u64) -> Result<u32, SmcccError> {
    match SmcccError::from_w0(x0) {
        Some(error) => Err(error),
        None => Ok(x0 as u32),
    }
}

/// SMCCC_VERSION. `Err(NotSupported)` means SMCCC v1.0 (no discovery).
pub fn version() -> Result<Version, SmcccError> {
    let x0 = call(SMCCC_VERSION, [0; 6])[0];
    match SmcccError::from_w0(x0) {
        Some(error) => Err(error),
        None => Ok(Version::from_register(x0)),
    }
}

/// SMCCC_ARCH_FEATURES: whether `function` is implemented (and its feature bits).
pub fn arch_features(function: u32) -> Result<u32, SmcccError> {
    let x0 = call(SMCCC_ARCH_FEATURES, [u64::from(function), 0, 0, 0, 0, 0])[0];
    match SmcccError::from_w0(x0) {
        Some(error) => Err(error),
        None => Ok(x0 as u32),
    }
}

/// What SMCCC_ARCH_SOC_ID reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocIdType {
    /// 0: the SoC version (JEP-106 bank and code, SoC id).
    Version,
    /// 1: the SoC revision.
    Revision,
}

/// SMCCC_ARCH_SOC_ID.
pub fn soc_id(kind: SocIdType) -> Result<u32, SmcccError> {
    let kind = match kind {
        SocIdType::Version => 0,
        SocIdType::Revision => 1,
    };
    result_w0(call(SMCCC_ARCH_SOC_ID, [kind, 0, 0, 0, 0, 0])[0])
}

/// The firmware mitigations SMCCC_ARCH_FEATURES can be asked about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workaround {
    /// SMCCC_ARCH_WORKAROUND_1: branch predictor invalidation.
    BranchPredictor,
    /// SMCCC_ARCH_WORKAROUND_2: speculative store bypass.
    SpeculativeStoreBypass,
    /// SMCCC_ARCH_WORKAROUND_3: branch history.
    BranchHistory,
}

impl Workaround {
    /// The function ID.
    pub fn function_id(self) -> u32 {
        match self {
            Workaround::BranchPredictor => SMCCC_ARCH_WORKAROUND_1,
            Workaround::SpeculativeStoreBypass => SMCCC_ARCH_WORKAROUND_2,
            Workaround::BranchHistory => SMCCC_ARCH_WORKAROUND_3,
        }
    }
}

/// SMCCC_ARCH_FEATURES for a workaround: `Ok` with its flags if the firmware performs it.
pub fn workaround_features(workaround: Workaround) -> Result<u32, SmcccError> {
    arch_features(workaround.function_id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_codes_decode() {
        assert_eq!(
            SmcccError::from_register(u64::MAX),
            Some(SmcccError::NotSupported)
        );
        assert_eq!(
            SmcccError::from_w0(0xffff_fffd),
            Some(SmcccError::InvalidParameter)
        );
        assert_eq!(SmcccError::from_register(0x1_0002), None);
        assert_eq!(
            Version::from_register(0x1_0002),
            Version { major: 1, minor: 2 }
        );
    }
}
