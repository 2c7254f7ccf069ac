//! The SMCCC dispatcher: one decision per call, no hardware access.

use super::caller::Caller;
use super::error::SmcccError;
use super::function_id::{arm, FunctionId, Owner};
use super::{psci, SMCCC_VERSION};

/// One SMCCC call as the guest made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call {
    /// W0: the function identifier (the upper half of X0 is ignored).
    pub function: u32,
    /// X1..X6: the arguments.
    pub args: [u64; 6],
    /// The call came from AArch32 (HVC32/SMC32 syndrome).
    pub aarch32: bool,
}

/// What the vCPU must do after a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Write X0..X3 and resume the guest.
    Return([u64; 4]),
    /// Stop the calling partition (PSCI SYSTEM_OFF).
    SystemOff,
    /// Restart the calling partition from its image (PSCI SYSTEM_RESET).
    SystemReset,
    /// PSCI CPU_ON: start the caller's partition's vCPU whose MPIDR is `target` at `entry`
    /// with x0 = `context`. The vCPU layer checks the target and answers SUCCESS, ALREADY_ON,
    /// ON_PENDING or INVALID_PARAMETERS.
    CpuOn {
        /// The target vCPU's (virtual) MPIDR.
        target: u64,
        /// Entry point (IPA).
        entry: u64,
        /// x0 at entry.
        context: u64,
    },
    /// PSCI CPU_OFF: the calling vCPU stops until another CPU_ON.
    CpuOff,
    /// PSCI CPU_SUSPEND: standby waits for an interrupt and returns SUCCESS; a powerdown state
    /// may instead resume at `entry` with x0 = `context`.
    CpuSuspend {
        /// A powerdown (rather than standby) state was requested.
        powerdown: bool,
        /// Resume address for powerdown states.
        entry: u64,
        /// x0 on resume from a powerdown state.
        context: u64,
    },
    /// PSCI AFFINITY_INFO for the vCPU with MPIDR `target` at affinity `level`.
    AffinityInfo {
        /// The target's (virtual) MPIDR.
        target: u64,
        /// The lowest affinity level that matters (only 0 is supported).
        level: u32,
    },
}

impl Action {
    /// A successful return of `value` in X0.
    pub fn ok(value: u64) -> Action {
        Action::Return([value, 0, 0, 0])
    }

    /// An error code in X0 (X1..X3 zero).
    pub fn error(code: u64) -> Action {
        Action::Return([code, 0, 0, 0])
    }

    fn not_supported() -> Action {
        Action::error(SmcccError::NotSupported.to_register())
    }
}

/// Decides what a call does. Unknown, yielding, reserved and malformed calls return SMCCC
/// NOT_SUPPORTED and the guest continues.
pub fn dispatch(call: &Call, caller: &mut dyn Caller) -> Action {
    let _ = caller;
    let id = FunctionId(call.function);
    if !id.is_fast() || id.has_reserved_bits() || (call.aarch32 && id.is_64bit()) {
        return Action::not_supported();
    }
    match id.owner() {
        Owner::Arm => arm_call(id, call),
        Owner::StandardSecure if id.number() < 0x20 => {
            psci::call(id.as_32bit(), id.is_64bit(), &call.args)
        }
        _ => Action::not_supported(),
    }
}

fn arm_call(id: FunctionId, call: &Call) -> Action {
    if id.is_64bit() {
        return Action::not_supported();
    }
    match id.0 {
        arm::VERSION => Action::ok(u64::from(SMCCC_VERSION)),
        arm::ARCH_FEATURES => {
            let queried = call.args[0] as u32;
            if queried == arm::VERSION || queried == arm::ARCH_FEATURES || psci::implements(queried)
            {
                Action::ok(0)
            } else {
                Action::not_supported()
            }
        }
        _ => Action::not_supported(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smccc::caller::FakeCaller;
    use crate::smccc::function_id::psci as psci_id;

    const NOT_SUPPORTED: u64 = u64::MAX; // -1

    fn call(function: u32, arg1: u64) -> Action {
        dispatch(
            &Call {
                function,
                args: [arg1, 0, 0, 0, 0, 0],
                aarch32: false,
            },
            &mut FakeCaller::default(),
        )
    }

    #[test]
    fn smccc_version_is_1_2() {
        assert_eq!(call(arm::VERSION, 0), Action::ok(0x1_0002));
    }

    #[test]
    fn arch_features_is_truthful() {
        assert_eq!(
            call(arm::ARCH_FEATURES, u64::from(arm::VERSION)),
            Action::ok(0)
        );
        assert_eq!(
            call(arm::ARCH_FEATURES, u64::from(arm::ARCH_FEATURES)),
            Action::ok(0)
        );
        assert_eq!(
            call(arm::ARCH_FEATURES, 0x8000_8000),
            Action::ok(NOT_SUPPORTED),
            "WORKAROUND_1"
        );
        assert_eq!(
            call(arm::ARCH_FEATURES, 0x8000_0002),
            Action::ok(NOT_SUPPORTED),
            "SOC_ID"
        );
    }

    #[test]
    fn psci_version_and_features() {
        assert_eq!(call(psci_id::VERSION, 0), Action::ok(0x1_0001));
        assert_eq!(
            call(psci_id::FEATURES, u64::from(psci_id::SYSTEM_OFF)),
            Action::ok(0)
        );
        assert_eq!(
            call(psci_id::FEATURES, u64::from(arm::VERSION)),
            Action::ok(0)
        );
        assert_eq!(
            call(psci_id::FEATURES, 0x8400_0012),
            Action::ok(NOT_SUPPORTED)
        );
    }

    #[test]
    fn system_off_and_reset_act_on_the_caller() {
        assert_eq!(call(psci_id::SYSTEM_OFF, 0), Action::SystemOff);
        assert_eq!(call(psci_id::SYSTEM_RESET, 0), Action::SystemReset);
    }

    #[test]
    fn unknown_function_ids_are_not_supported() {
        for id in [
            0x8600_0000,
            0x8200_0001,
            0xc500_ffff,
            0xb000_0000,
            0xbf00_0000,
            0x8400_00ff,
        ] {
            assert_eq!(call(id, 0), Action::ok(NOT_SUPPORTED), "{id:#x}");
        }
    }

    #[test]
    fn smc64_ids_from_aarch32_are_not_supported() {
        let action = dispatch(
            &Call {
                function: 0xc400_0003,
                args: [0; 6],
                aarch32: true,
            },
            &mut FakeCaller::default(),
        );
        assert_eq!(action, Action::ok(NOT_SUPPORTED));
        let action = dispatch(
            &Call {
                function: psci_id::VERSION,
                args: [0; 6],
                aarch32: true,
            },
            &mut FakeCaller::default(),
        );
        assert_eq!(
            action,
            Action::ok(0x1_0001),
            "SMC32 calls from AArch32 still work"
        );
    }

    #[test]
    fn reserved_bits_and_yielding_calls_are_not_supported() {
        assert_eq!(call(arm::VERSION | 1 << 20, 0), Action::ok(NOT_SUPPORTED));
        assert_eq!(
            call(0x0400_0000, 0),
            Action::ok(NOT_SUPPORTED),
            "yielding call"
        );
    }
}
