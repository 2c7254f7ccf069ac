//! Arm architecture calls (owner 0, Arm DEN0028): SMCCC_VERSION, SMCCC_ARCH_FEATURES,
//! SMCCC_ARCH_SOC_ID and the SMCCC_ARCH_WORKAROUND_* queries.
//!
//! The workarounds are NOT_SUPPORTED on every CPU: SMCCC_ARCH_WORKAROUND_1 on a Cortex-A72
//! means invalidating the branch predictor at EL2/EL3 (the A72 needs its MMU toggled for that,
//! which Arm's firmware does at EL3), WORKAROUND_2 toggles an implementation-defined control
//! bit only EL3 may write, and WORKAROUND_3 is a branch-history flush; Bulkhead performs none
//! of them, so it claims none. NOT_SUPPORTED means "no firmware mitigation; the CPU may or may
//! not be affected", which is the truth: Linux then reports the CPU as vulnerable where it is,
//! and uses its own EL1 mitigations where it has them (the A72's branch-history loop).

use super::caller::Caller;
use super::dispatch::{implements as bulkhead_implements, Action};
use super::error::SmcccError;
use super::function_id::{arm, FunctionId};
use super::SMCCC_VERSION;

/// SMCCC_ARCH_SOC_ID SoC_ID_type 0: the SoC version.
const SOC_ID_VERSION: u32 = 0;
/// SMCCC_ARCH_SOC_ID SoC_ID_type 1: the SoC revision.
const SOC_ID_REVISION: u32 = 1;

/// Whether Bulkhead implements architecture call `function` for `caller`.
pub fn implements(function: u32, caller: &dyn Caller) -> bool {
    match function {
        arm::VERSION | arm::ARCH_FEATURES => true,
        arm::SOC_ID => caller.soc_id().is_some(),
        _ => false,
    }
}

/// Handles an architecture call.
pub fn call(id: FunctionId, args: &[u64; 6], caller: &dyn Caller) -> Action {
    // All arguments of the calls below are 32-bit (W1).
    let w1 = args.first().copied().unwrap_or(0) as u32;
    match id.0 {
        arm::VERSION => Action::ok(u64::from(SMCCC_VERSION)),
        arm::ARCH_FEATURES => {
            if bulkhead_implements(w1, caller) {
                Action::ok(0)
            } else {
                Action::not_supported()
            }
        }
        arm::SOC_ID => soc_id(w1, caller),
        // WORKAROUND_1..3 (see the module documentation), the SMC64 SOC_ID (SMCCC v1.5) and
        // anything else.
        _ => Action::not_supported(),
    }
}

fn soc_id(kind: u32, caller: &dyn Caller) -> Action {
    let Some(soc) = caller.soc_id() else {
        return Action::not_supported();
    };
    match kind {
        SOC_ID_VERSION => Action::ok(u64::from(soc.version)),
        SOC_ID_REVISION => Action::ok(u64::from(soc.revision)),
        _ => Action::error(SmcccError::InvalidParameter.to_register()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smccc::caller::FakeCaller;
    use crate::smccc::function_id::{psci, trng, vendor};

    const NOT_SUPPORTED: u64 = u64::MAX;
    const INVALID_PARAMETER: u64 = -3i64 as u64;

    fn arch(function: u32, w1: u64, caller: &FakeCaller) -> Action {
        call(FunctionId(function), &[w1, 0, 0, 0, 0, 0], caller)
    }

    #[test]
    fn arch_features_reports_every_implemented_function_exactly() {
        let caller = FakeCaller::default();
        for implemented in [
            arm::VERSION,
            arm::ARCH_FEATURES,
            arm::SOC_ID,
            psci::VERSION,
            psci::SYSTEM_RESET2,
            psci::SYSTEM_RESET2 | 1 << 30,
            psci::CPU_ON | 1 << 30,
            trng::VERSION,
            trng::RND64,
            vendor::CALL_UID,
            vendor::PARTITION_INFO,
            vendor::CONSOLE_WRITE_BUFFER | 1 << 30,
        ] {
            assert_eq!(
                arch(arm::ARCH_FEATURES, u64::from(implemented), &caller),
                Action::ok(0),
                "{implemented:#x}"
            );
        }
        for missing in [
            arm::VERSION | 1 << 30,
            arm::SOC_ID_64,
            arm::WORKAROUND_1,
            arm::WORKAROUND_2,
            arm::WORKAROUND_3,
            psci::SYSTEM_OFF | 1 << 30,
            psci::VERSION | 1 << 20,
            trng::GET_UUID | 1 << 30,
            vendor::CALL_UID | 1 << 30,
            0x8200_0000,
        ] {
            assert_eq!(
                arch(arm::ARCH_FEATURES, u64::from(missing), &caller),
                Action::ok(NOT_SUPPORTED),
                "{missing:#x}"
            );
        }
    }

    #[test]
    fn arch_features_reads_only_w1() {
        let caller = FakeCaller::default();
        assert_eq!(
            arch(
                arm::ARCH_FEATURES,
                0xffff_ffff_0000_0000 | u64::from(arm::VERSION),
                &caller
            ),
            Action::ok(0)
        );
    }

    #[test]
    fn workarounds_are_not_claimed() {
        let caller = FakeCaller::default();
        for id in [arm::WORKAROUND_1, arm::WORKAROUND_2, arm::WORKAROUND_3] {
            assert_eq!(arch(id, 0, &caller), Action::ok(NOT_SUPPORTED), "{id:#x}");
        }
    }

    #[test]
    fn soc_id_version_and_revision_come_from_the_caller() {
        let caller = FakeCaller::default();
        assert_eq!(arch(arm::SOC_ID, 0, &caller), Action::ok(0x043b_0d08));
        assert_eq!(arch(arm::SOC_ID, 1, &caller), Action::ok(0x03));
        assert_eq!(
            arch(arm::SOC_ID, 2, &caller),
            Action::ok(INVALID_PARAMETER),
            "the name is SMC64-only"
        );
        assert_eq!(
            arch(arm::SOC_ID_64, 2, &caller),
            Action::ok(NOT_SUPPORTED),
            "SMCCC v1.5"
        );
    }

    #[test]
    fn soc_id_without_a_known_soc_is_not_supported() {
        let caller = FakeCaller {
            soc: None,
            ..FakeCaller::default()
        };
        assert_eq!(arch(arm::SOC_ID, 0, &caller), Action::ok(NOT_SUPPORTED));
        assert_eq!(
            arch(arm::ARCH_FEATURES, u64::from(arm::SOC_ID), &caller),
            Action::ok(NOT_SUPPORTED)
        );
    }
}
