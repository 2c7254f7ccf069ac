//! SMCCC, PSCI, TRNG and Bulkhead vendor service return codes, as types; their values are
//! `bulkhead-abi`'s, shared with the guest shim.

use bulkhead_abi::error::{psci, smccc, trng, vendor};

/// SMCCC return codes (Arm DEN0028, "Return codes").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum SmcccError {
    /// The function is not implemented.
    NotSupported = smccc::NOT_SUPPORTED,
    /// The call is not needed on this system (e.g. a workaround the CPU does not need).
    NotRequired = smccc::NOT_REQUIRED,
    /// An argument is invalid.
    InvalidParameter = smccc::INVALID_PARAMETER,
}

/// PSCI return codes (Arm DEN0022, table "Return error codes").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum PsciError {
    /// The function is not implemented.
    NotSupported = psci::NOT_SUPPORTED,
    /// An argument is invalid.
    InvalidParameters = psci::INVALID_PARAMETERS,
    /// The caller may not do this.
    Denied = psci::DENIED,
    /// The CPU is already on.
    AlreadyOn = psci::ALREADY_ON,
    /// A CPU_ON for this CPU is in progress.
    OnPending = psci::ON_PENDING,
    /// Internal failure.
    InternalFailure = psci::INTERNAL_FAILURE,
    /// The target is not present.
    NotPresent = psci::NOT_PRESENT,
    /// The target is disabled.
    Disabled = psci::DISABLED,
    /// The address is invalid.
    InvalidAddress = psci::INVALID_ADDRESS,
}

/// TRNG return codes (Arm DEN0098, "Return codes"). They differ from SMCCC's: -2 is
/// INVALID_PARAMETERS here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum TrngError {
    /// The function is not implemented (or there is no entropy source at all).
    NotSupported = trng::NOT_SUPPORTED,
    /// An argument is invalid (a bit count of 0 or above the call's maximum).
    InvalidParameters = trng::INVALID_PARAMETERS,
    /// The entropy source has no entropy to give right now; the caller may retry.
    NoEntropy = trng::NO_ENTROPY,
}

/// Return codes of Bulkhead's vendor service beyond SMCCC's own (`docs/guest-abi.md`). They
/// start below SMCCC's INVALID_PARAMETER (-3), so a guest reads the SMCCC codes the usual way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum VendorError {
    /// BULKHEAD_DOORBELL_RING: the peer partition is not running (stopped, refused at boot, or
    /// between a stop and its restart); nothing was made pending.
    PeerDown = vendor::PEER_DOWN,
    /// A management call from a partition that is not `privileged`.
    Denied = vendor::DENIED,
    /// A management call whose target is in the wrong state for it (or was refused at boot).
    WrongState = vendor::WRONG_STATE,
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
