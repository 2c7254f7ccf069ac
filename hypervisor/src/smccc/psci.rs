//! PSCI (Arm DEN0022) as partitions see it: the system calls act on the calling partition only.

use super::dispatch::Action;
use super::error::PsciError;
use super::function_id::{arm, psci};
use super::PSCI_VERSION;

/// MIGRATE_INFO_TYPE: no Trusted OS that needs migration.
const MIGRATE_INFO_NOT_PRESENT: u64 = 2;

/// The PSCI functions Bulkhead implements that have only an SMC32 form.
const SMC32_ONLY: [u32; 6] = [
    psci::VERSION,
    psci::CPU_OFF,
    psci::MIGRATE_INFO_TYPE,
    psci::SYSTEM_OFF,
    psci::SYSTEM_RESET,
    psci::FEATURES,
];
/// The PSCI functions Bulkhead implements in both SMC32 and SMC64 forms (32-bit IDs).
const BOTH_FORMS: [u32; 4] = [
    psci::CPU_SUSPEND,
    psci::CPU_ON,
    psci::AFFINITY_INFO,
    psci::SYSTEM_RESET2,
];
/// The SMC64 bit of a function ID.
const SMC64_BIT: u32 = 1 << 30;

/// Whether Bulkhead implements PSCI function `function`: the exact 32- or 64-bit ID (a 64-bit
/// ID of a function that has no 64-bit form is not implemented).
pub fn implements(function: u32) -> bool {
    if function & SMC64_BIT != 0 {
        BOTH_FORMS.contains(&(function & !SMC64_BIT))
    } else {
        SMC32_ONLY.contains(&function) || BOTH_FORMS.contains(&function)
    }
}

/// SYSTEM_RESET2 reset_type bit 31: a vendor-specific reset (DEN0022 5.20).
const RESET2_VENDOR: u32 = 1 << 31;
/// SYSTEM_RESET2 architectural reset type 0: SYSTEM_WARM_RESET.
const RESET2_WARM: u32 = 0;

/// PSCI_FEATURES for CPU_SUSPEND: the original power_state format, no OS-initiated mode.
const CPU_SUSPEND_FEATURES: u64 = 0;
/// power_state bit 16 (original format): 1 = a powerdown state.
const POWER_STATE_POWERDOWN: u32 = 1 << 16;

/// Handles a PSCI call whose 32-bit form is `function`; `smc64` says which form was used (the
/// 32-bit forms take only the low 32 bits of each argument).
pub fn call(function: u32, smc64: bool, args: &[u64; 6]) -> Action {
    let arg = |i: usize| {
        let value = args.get(i).copied().unwrap_or(0);
        if smc64 {
            value
        } else {
            value & 0xffff_ffff
        }
    };
    if smc64 && !BOTH_FORMS.contains(&function) {
        return Action::error(PsciError::NotSupported.to_register());
    }
    match function {
        psci::VERSION => Action::ok(u64::from(PSCI_VERSION)),
        psci::FEATURES => features(arg(0) as u32),
        psci::MIGRATE_INFO_TYPE => Action::ok(MIGRATE_INFO_NOT_PRESENT),
        psci::SYSTEM_OFF => Action::SystemOff,
        psci::SYSTEM_RESET => Action::SystemReset,
        psci::SYSTEM_RESET2 => system_reset2(arg(0) as u32),
        psci::CPU_ON => Action::CpuOn {
            target: arg(0),
            entry: arg(1),
            context: arg(2),
        },
        psci::CPU_OFF => Action::CpuOff,
        psci::CPU_SUSPEND => {
            let power_state = arg(0) as u32;
            Action::CpuSuspend {
                powerdown: power_state & POWER_STATE_POWERDOWN != 0,
                entry: arg(1),
                context: arg(2),
            }
        }
        psci::AFFINITY_INFO => Action::AffinityInfo {
            target: arg(0),
            level: arg(1) as u32,
        },
        _ => Action::error(PsciError::NotSupported.to_register()),
    }
}

/// PSCI_FEATURES: takes a 32-bit function ID in W1 and answers for that exact ID.
fn features(queried: u32) -> Action {
    if queried == psci::CPU_SUSPEND || queried == psci::CPU_SUSPEND | SMC64_BIT {
        Action::ok(CPU_SUSPEND_FEATURES)
    } else if implements(queried) || queried == arm::VERSION {
        // SMCCC_VERSION is reported, as PSCI 1.0+ requires for SMCCC discovery.
        Action::ok(0)
    } else {
        Action::error(PsciError::NotSupported.to_register())
    }
}

/// SYSTEM_RESET2: a warm reset restarts the calling partition like SYSTEM_RESET (a partition
/// restart is both warm and cold: its RAM is reloaded). Reserved architectural types are
/// INVALID_PARAMETERS; Bulkhead defines no vendor-specific reset, so those are NOT_SUPPORTED.
/// The cookie (X2) only matters to vendor-specific resets and is ignored.
fn system_reset2(reset_type: u32) -> Action {
    if reset_type & RESET2_VENDOR != 0 {
        Action::error(PsciError::NotSupported.to_register())
    } else if reset_type == RESET2_WARM {
        Action::SystemReset
    } else {
        Action::error(PsciError::InvalidParameters.to_register())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_on_32bit_form_ignores_upper_argument_bits() {
        let args = [
            0xffff_ffff_0000_0001,
            0xdead_0000_4008_0000,
            0x1_0000_0007,
            0,
            0,
            0,
        ];
        assert_eq!(
            call(psci::CPU_ON, false, &args),
            Action::CpuOn {
                target: 1,
                entry: 0x4008_0000,
                context: 7
            }
        );
        assert_eq!(
            call(psci::CPU_ON, true, &args),
            Action::CpuOn {
                target: args[0],
                entry: args[1],
                context: args[2]
            }
        );
    }

    #[test]
    fn cpu_suspend_distinguishes_standby_and_powerdown() {
        let standby = call(psci::CPU_SUSPEND, true, &[0, 0x4000_0000, 3, 0, 0, 0]);
        assert_eq!(
            standby,
            Action::CpuSuspend {
                powerdown: false,
                entry: 0x4000_0000,
                context: 3
            }
        );
        let down = call(psci::CPU_SUSPEND, true, &[1 << 16, 0x4000_0000, 3, 0, 0, 0]);
        assert!(matches!(
            down,
            Action::CpuSuspend {
                powerdown: true,
                ..
            }
        ));
    }

    const NOT_SUPPORTED: u64 = u64::MAX;
    const INVALID_PARAMETERS: u64 = -2i64 as u64;

    fn features_of(id: u32) -> Action {
        call(psci::FEATURES, false, &[u64::from(id), 0, 0, 0, 0, 0])
    }

    #[test]
    fn psci_features_is_exact_about_64_bit_forms() {
        for id in [
            psci::CPU_ON | SMC64_BIT,
            psci::AFFINITY_INFO | SMC64_BIT,
            psci::SYSTEM_RESET2 | SMC64_BIT,
            psci::SYSTEM_RESET2,
            psci::MIGRATE_INFO_TYPE,
        ] {
            assert_eq!(features_of(id), Action::ok(0), "{id:#x}");
        }
        assert_eq!(features_of(psci::CPU_SUSPEND | SMC64_BIT), Action::ok(0));
        for id in [
            psci::SYSTEM_OFF | SMC64_BIT,
            psci::SYSTEM_RESET | SMC64_BIT,
            psci::VERSION | SMC64_BIT,
            psci::FEATURES | SMC64_BIT,
            psci::CPU_OFF | SMC64_BIT,
            psci::MIGRATE_INFO_TYPE | SMC64_BIT,
            0x8400_0005, // MIGRATE
            0x8400_000e, // SYSTEM_SUSPEND
        ] {
            assert_eq!(features_of(id), Action::ok(NOT_SUPPORTED), "{id:#x}");
        }
    }

    #[test]
    fn smc64_forms_of_smc32_only_functions_are_not_supported() {
        assert_eq!(
            call(psci::SYSTEM_OFF, true, &[0; 6]),
            Action::ok(NOT_SUPPORTED)
        );
        assert_eq!(
            call(psci::VERSION, true, &[0; 6]),
            Action::ok(NOT_SUPPORTED)
        );
    }

    #[test]
    fn system_reset2_warm_restarts_the_caller() {
        assert_eq!(
            call(psci::SYSTEM_RESET2, false, &[0, 0x1234, 0, 0, 0, 0]),
            Action::SystemReset
        );
        assert_eq!(
            call(
                psci::SYSTEM_RESET2,
                true,
                &[0xffff_ffff_0000_0000, 0, 0, 0, 0, 0]
            ),
            Action::SystemReset,
            "reset_type is 32-bit even in the SMC64 form"
        );
    }

    #[test]
    fn system_reset2_rejects_reserved_and_vendor_types() {
        assert_eq!(
            call(psci::SYSTEM_RESET2, false, &[1, 0, 0, 0, 0, 0]),
            Action::ok(INVALID_PARAMETERS)
        );
        assert_eq!(
            call(psci::SYSTEM_RESET2, false, &[0x7fff_ffff, 0, 0, 0, 0, 0]),
            Action::ok(INVALID_PARAMETERS)
        );
        assert_eq!(
            call(psci::SYSTEM_RESET2, false, &[0x8000_0000, 0, 0, 0, 0, 0]),
            Action::ok(NOT_SUPPORTED)
        );
    }

    #[test]
    fn affinity_info_and_cpu_off_decode() {
        assert_eq!(
            call(psci::AFFINITY_INFO, false, &[0x1_0000_0002, 0, 0, 0, 0, 0]),
            Action::AffinityInfo {
                target: 2,
                level: 0
            }
        );
        assert_eq!(call(psci::CPU_OFF, false, &[0; 6]), Action::CpuOff);
    }

    #[test]
    fn smp_functions_are_reported_by_psci_features() {
        for id in [psci::CPU_ON, psci::CPU_OFF, psci::AFFINITY_INFO] {
            assert_eq!(
                call(psci::FEATURES, false, &[u64::from(id), 0, 0, 0, 0, 0]),
                Action::ok(0)
            );
        }
    }
}
