//! PSCI (Arm DEN0022) as partitions see it: the system calls act on the calling partition only.

use super::dispatch::Action;
use super::error::PsciError;
use super::function_id::{arm, psci};
use super::PSCI_VERSION;

/// MIGRATE_INFO_TYPE: no Trusted OS that needs migration.
const MIGRATE_INFO_NOT_PRESENT: u64 = 2;

/// Whether PSCI_FEATURES reports `function` (32- or 64-bit form) as implemented.
pub fn implements(function: u32) -> bool {
    matches!(
        function,
        psci::VERSION
            | psci::FEATURES
            | psci::MIGRATE_INFO_TYPE
            | psci::SYSTEM_OFF
            | psci::SYSTEM_RESET
            | psci::CPU_ON
            | psci::CPU_OFF
            | psci::CPU_SUSPEND
            | psci::AFFINITY_INFO
            | arm::VERSION
    )
}

/// PSCI_FEATURES for CPU_SUSPEND: the original power_state format, no OS-initiated mode.
const CPU_SUSPEND_FEATURES: u64 = 0;
/// power_state bit 16 (original format): 1 = a powerdown state.
const POWER_STATE_POWERDOWN: u32 = 1 << 16;

/// Handles a PSCI call whose 32-bit form is `function`; `smc64` says which form was used (the
/// 32-bit forms take only the low 32 bits of each argument).
pub fn call(function: u32, smc64: bool, args: &[u64; 6]) -> Action {
    let arg = |i: usize| {
        if smc64 {
            args[i]
        } else {
            args[i] & 0xffff_ffff
        }
    };
    match function {
        psci::VERSION => Action::ok(u64::from(PSCI_VERSION)),
        psci::FEATURES => {
            // PSCI_FEATURES takes a 32-bit function ID in w1; unknown IDs are NOT_SUPPORTED.
            let queried = args[0] as u32;
            let queried = if queried & (1 << 30) != 0 {
                queried & !(1 << 30)
            } else {
                queried
            };
            if queried == psci::CPU_SUSPEND {
                Action::ok(CPU_SUSPEND_FEATURES)
            } else if implements(queried) {
                Action::ok(0)
            } else {
                Action::error(PsciError::NotSupported.to_register())
            }
        }
        psci::MIGRATE_INFO_TYPE => Action::ok(MIGRATE_INFO_NOT_PRESENT),
        psci::SYSTEM_OFF => Action::SystemOff,
        psci::SYSTEM_RESET => Action::SystemReset,
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
