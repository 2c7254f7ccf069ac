//! SMCCC, PSCI, TRNG and Bulkhead vendor service return codes.

/// SMCCC return codes (Arm DEN0028, "Return codes").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum SmcccError {
    /// The function is not implemented.
    NotSupported = -1,
    /// The call is not needed on this system (e.g. a workaround the CPU does not need).
    NotRequired = -2,
    /// An argument is invalid.
    InvalidParameter = -3,
}

/// PSCI return codes (Arm DEN0022, table "Return error codes").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum PsciError {
    /// The function is not implemented.
    NotSupported = -1,
    /// An argument is invalid.
    InvalidParameters = -2,
    /// The caller may not do this.
    Denied = -3,
    /// The CPU is already on.
    AlreadyOn = -4,
    /// A CPU_ON for this CPU is in progress.
    OnPending = -5,
    /// Internal failure.
    InternalFailure = -6,
    /// The target is not present.
    NotPresent = -7,
    /// The target is disabled.
    Disabled = -8,
    /// The address is invalid.
    InvalidAddress = -9,
}

/// TRNG return codes (Arm DEN0098, "Return codes"). They differ from SMCCC's: -2 is
/// INVALID_PARAMETERS here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum TrngError {
    /// The function is not implemented (or there is no entropy source at all).
    NotSupported = -1,
    /// An argument is invalid (a bit count of 0 or above the call's maximum).
    InvalidParameters = -2,
    /// The entropy source has no entropy to give right now; the caller may retry.
    NoEntropy = -3,
}

/// Return codes of Bulkhead's vendor service beyond SMCCC's own (`docs/guest-abi.md`). They
/// start below SMCCC's INVALID_PARAMETER (-3), so a guest reads the SMCCC codes the usual way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum VendorError {
    /// BULKHEAD_DOORBELL_RING: the peer partition is not running (stopped, refused at boot, or
    /// between a stop and its restart); nothing was made pending.
    PeerDown = -4,
}

impl VendorError {
    /// The code as the 64-bit register value a guest reads (sign-extended).
    pub fn to_register(self) -> u64 {
        i64::from(self as i32) as u64
    }
}

impl SmcccError {
    /// The code as the 64-bit register value a guest reads (sign-extended).
    pub fn to_register(self) -> u64 {
        i64::from(self as i32) as u64
    }
}

impl PsciError {
    /// The code as the 64-bit register value a guest reads (sign-extended).
    pub fn to_register(self) -> u64 {
        i64::from(self as i32) as u64
    }
}

impl TrngError {
    /// The code as the 64-bit register value a guest reads (sign-extended).
    pub fn to_register(self) -> u64 {
        i64::from(self as i32) as u64
    }
}
