//! The guest interface: one SMCCC dispatcher for every HVC and trapped SMC.
//!
//! Guests program against the Arm SMC Calling Convention (Arm DEN0028): architecture calls
//! (SMCCC_VERSION, SMCCC_ARCH_FEATURES, SMCCC_ARCH_SOC_ID), PSCI (Arm DEN0022), TRNG (Arm
//! DEN0098) and Bulkhead's own vendor-specific hypervisor service. Dispatch is pure: it reads
//! the call and the caller's view ([`Caller`]) and returns an [`Action`] for the vCPU to apply.
//! `docs/guest-abi.md` lists every call.
#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
// Tests may compute freely; unwrap, indexing and panics in tests are allowed by clippy.toml.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

mod arch;
pub mod caller;
pub mod constant;
mod dispatch;
mod doorbell;
mod error;
pub mod function_id;
pub mod guest_memory;
mod management;
mod psci;
pub mod soc_id;
mod trng;
pub mod uuid;
mod vendor;
pub mod window_caller;

pub use caller::Caller;
pub use dispatch::{dispatch, implements, Action, Call};
pub use error::{PsciError, SmcccError, TrngError, VendorError};
pub use function_id::{FunctionId, Owner};
pub use guest_memory::{GuestMemoryError, GuestRange, MAX_TRANSFER};
pub use soc_id::SocId;

/// The SMCCC version Bulkhead implements: 1.2 (major in bits [30:16], minor in [15:0]).
pub const SMCCC_VERSION: u32 = 0x0001_0002;
/// The PSCI version Bulkhead implements: 1.1.
pub const PSCI_VERSION: u32 = 0x0001_0001;
