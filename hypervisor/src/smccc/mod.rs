//! The guest interface: one SMCCC dispatcher for every HVC and trapped SMC.
//!
//! Guests program against the Arm SMC Calling Convention (Arm DEN0028): architecture calls
//! (SMCCC_VERSION, SMCCC_ARCH_FEATURES) and PSCI (Arm DEN0022) work unmodified. Dispatch is pure:
//! it reads the call and the caller's view and returns an [`Action`] for the vCPU to apply.

pub mod caller;
mod dispatch;
mod error;
pub mod function_id;
mod psci;

pub use caller::Caller;
pub use dispatch::{dispatch, Action, Call};
pub use error::{PsciError, SmcccError};
pub use function_id::{FunctionId, Owner};

/// The SMCCC version Bulkhead implements: 1.2 (major in bits [30:16], minor in [15:0]).
pub const SMCCC_VERSION: u32 = 0x0001_0002;
/// The PSCI version Bulkhead implements: 1.1.
pub const PSCI_VERSION: u32 = 0x0001_0001;
