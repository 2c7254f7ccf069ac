//! The SMCCC dispatcher: one decision per call, no hardware access.
//!
//! Bulkhead serves the Arm architecture calls, PSCI, TRNG, the standard hypervisor owner and
//! its own vendor service itself, whatever the conduit (HVC or a trapped SMC). Any other owner
//! (CPU, SiP, OEM, other standard secure services, trusted applications and OSes) reaches the
//! platform firmware only if the partition's `smc-allow` lists that exact function ID.

use super::caller::Caller;
use super::error::SmcccError;
use super::function_id::{trng as trng_id, FunctionId, Owner};
use super::{arch, psci, trng, vendor};

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
    /// BULKHEAD_DOORBELL_RING: make doorbell `intid` pending in partition `peer` (index in
    /// configuration order) and deliver it to the vCPU the peer routed it to. The vCPU layer
    /// answers 0, or PEER_DOWN if the peer is not running.
    RingDoorbell {
        /// The peer partition's index (its id - 1).
        peer: usize,
        /// The peer's doorbell INTID (a purely virtual SPI in its distributor).
        intid: u32,
    },
    /// BULKHEAD_STACK_HIGH_WATER for the caller's vCPU `vcpu` (checked against its vCPU
    /// count): the vCPU layer answers 0, the high-water mark and the stack size in X1, X2.
    StackHighWater {
        /// The vCPU (index in the caller's partition) whose CPU's stack is measured.
        vcpu: usize,
    },
    /// BULKHEAD_TEST_OVERFLOW_EL2_STACK (`test-hooks` builds only): overflow this CPU's EL2
    /// stack into its guard page, which must be reported as a hypervisor fault.
    TestOverflowStack,
    /// BULKHEAD_TEST_CONSOLE_INPUT (`test-hooks` builds only): the first `len` of `bytes` enter
    /// the caller's virtual PL011 as console input; the vCPU layer answers 0 and the bytes
    /// taken in X1.
    TestConsoleInput {
        /// The bytes, in order.
        bytes: [u8; 4],
        /// How many (at most 4).
        len: usize,
    },
    /// Make the same call to the platform firmware (SMC conduit) and return its X0..X3 to the
    /// guest: the partition's `smc-allow` lists `function`. Without an SMC conduit the vCPU
    /// layer answers NOT_SUPPORTED instead.
    ForwardToFirmware {
        /// W0, exactly as the guest passed it.
        function: u32,
        /// X1..X6 as the guest passed them (the SMC conduit forwards X1..X3).
        args: [u64; 6],
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

    /// SMCCC NOT_SUPPORTED.
    pub fn not_supported() -> Action {
        Action::error(SmcccError::NotSupported.to_register())
    }
}

/// Whether PSCI function `number` (owner 4) is in PSCI's range (Arm DEN0028: 0x00..=0x1f).
fn is_psci_number(number: u16) -> bool {
    number <= 0x1f
}

/// Whether function `number` (owner 4) is in TRNG's range (Arm DEN0098: 0x50..=0x5f).
fn is_trng_number(number: u16) -> bool {
    (trng_id::FIRST_NUMBER..=trng_id::LAST_NUMBER).contains(&number)
}

/// Decides what a call does. Unknown, yielding, reserved and malformed calls return SMCCC
/// NOT_SUPPORTED and the guest continues.
pub fn dispatch(call: &Call, caller: &mut dyn Caller) -> Action {
    let id = FunctionId(call.function);
    if !id.is_fast() || id.has_reserved_bits() || (call.aarch32 && id.is_64bit()) {
        return Action::not_supported();
    }
    match id.owner() {
        Owner::Arm => arch::call(id, &call.args, caller),
        Owner::StandardSecure if is_psci_number(id.number()) => {
            psci::call(id.as_32bit(), id.is_64bit(), &call.args)
        }
        Owner::StandardSecure if is_trng_number(id.number()) => trng::call(id, &call.args, caller),
        Owner::VendorHypervisor => vendor::call(id, &call.args, caller),
        Owner::StandardHypervisor => Action::not_supported(),
        Owner::Cpu | Owner::Sip | Owner::Oem | Owner::StandardSecure | Owner::Other(_) => {
            if caller.firmware_call_allowed(call.function) {
                Action::ForwardToFirmware {
                    function: call.function,
                    args: call.args,
                }
            } else {
                Action::not_supported()
            }
        }
    }
}

/// Whether Bulkhead itself implements `function` (the exact 32- or 64-bit ID) for `caller`:
/// what SMCCC_ARCH_FEATURES and BULKHEAD_FEATURES report. Calls forwarded to the firmware are
/// not Bulkhead's and are not reported.
pub fn implements(function: u32, caller: &dyn Caller) -> bool {
    let id = FunctionId(function);
    if !id.is_fast() || id.has_reserved_bits() {
        return false;
    }
    match id.owner() {
        Owner::Arm => arch::implements(function, caller),
        Owner::StandardSecure => psci::implements(function) || trng::implements(function, caller),
        Owner::VendorHypervisor => vendor::implements(function),
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::smccc::caller::FakeCaller;
    use crate::smccc::function_id::{arm, psci as psci_id, trng as trng_id, vendor as vendor_id};

    const NOT_SUPPORTED: u64 = u64::MAX; // -1

    fn call_with(function: u32, args: [u64; 6], caller: &mut FakeCaller) -> Action {
        dispatch(
            &Call {
                function,
                args,
                aarch32: false,
            },
            caller,
        )
    }

    fn call(function: u32, arg1: u64) -> Action {
        call_with(function, [arg1, 0, 0, 0, 0, 0], &mut FakeCaller::default())
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
            call(arm::ARCH_FEATURES, u64::from(arm::WORKAROUND_1)),
            Action::ok(NOT_SUPPORTED),
            "WORKAROUND_1"
        );
        assert_eq!(
            call(arm::ARCH_FEATURES, u64::from(arm::SOC_ID)),
            Action::ok(0),
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
            call(psci_id::FEATURES, u64::from(psci_id::SYSTEM_RESET2)),
            Action::ok(0)
        );
        assert_eq!(
            call(psci_id::FEATURES, u64::from(psci_id::SYSTEM_OFF | 1 << 30)),
            Action::ok(NOT_SUPPORTED)
        );
    }

    #[test]
    fn system_off_and_reset_act_on_the_caller() {
        assert_eq!(call(psci_id::SYSTEM_OFF, 0), Action::SystemOff);
        assert_eq!(call(psci_id::SYSTEM_RESET, 0), Action::SystemReset);
        assert_eq!(call(psci_id::SYSTEM_RESET2, 0), Action::SystemReset);
        assert_eq!(
            call(psci_id::SYSTEM_RESET2 | 1 << 30, 0),
            Action::SystemReset
        );
    }

    #[test]
    fn smc64_forms_of_psci_calls_without_one_are_not_supported() {
        assert_eq!(
            call(psci_id::SYSTEM_OFF | 1 << 30, 0),
            Action::ok(NOT_SUPPORTED)
        );
        assert_eq!(
            call(psci_id::VERSION | 1 << 30, 0),
            Action::ok(NOT_SUPPORTED)
        );
    }

    #[test]
    fn psci_cpu_calls_still_decode_through_the_dispatcher() {
        assert_eq!(
            call_with(
                psci_id::CPU_ON | 1 << 30,
                [1, 0x4008_0000, 7, 0, 0, 0],
                &mut FakeCaller::default()
            ),
            Action::CpuOn {
                target: 1,
                entry: 0x4008_0000,
                context: 7
            }
        );
        assert_eq!(call(psci_id::CPU_OFF, 0), Action::CpuOff);
    }

    #[test]
    fn trng_and_vendor_calls_are_routed() {
        assert_eq!(call(trng_id::VERSION, 0), Action::ok(0x1_0000));
        assert_eq!(call(vendor_id::REVISION, 0), Action::Return([1, 1, 0, 0]));
        assert_eq!(
            call(vendor_id::PARTITION_INFO, 0),
            Action::Return([0, 1, 1, 0])
        );
    }

    #[test]
    fn doorbell_calls_are_implemented_and_reported_for_every_partition() {
        let mut lonely = FakeCaller::default();
        for id in [vendor_id::DOORBELL_RING, vendor_id::DOORBELL_INFO] {
            assert_eq!(
                call(arm::ARCH_FEATURES, u64::from(id)),
                Action::ok(0),
                "{id:#x}"
            );
            assert_eq!(
                call(vendor_id::FEATURES, u64::from(id)),
                Action::ok(0),
                "{id:#x}"
            );
            assert_eq!(
                call(arm::ARCH_FEATURES, u64::from(id | 1 << 30)),
                Action::ok(NOT_SUPPORTED)
            );
            // A partition without channels has no doorbell index at all.
            assert_eq!(
                call_with(id, [0; 6], &mut lonely),
                Action::ok(-3i64 as u64),
                "{id:#x}"
            );
        }
        let mut caller = FakeCaller {
            doorbells: vec![crate::doorbell::Doorbell {
                peer: Some(1),
                peer_intid: 49,
                intid: 48,
            }],
            ..FakeCaller::default()
        };
        assert_eq!(
            call_with(vendor_id::DOORBELL_RING, [0; 6], &mut caller),
            Action::RingDoorbell { peer: 1, intid: 49 }
        );
    }

    #[test]
    fn unknown_function_ids_are_not_supported() {
        for id in [
            0x8600_0003,
            0x8200_0001,
            0xc500_ffff,
            0xb000_0000,
            0xbf00_0000,
            0x8400_00ff,
            0x8400_0020,
            0x8400_005f,
        ] {
            assert_eq!(call(id, 0), Action::ok(NOT_SUPPORTED), "{id:#x}");
        }
    }

    #[test]
    fn allow_listed_firmware_calls_are_forwarded_unchanged() {
        let mut caller = FakeCaller {
            allowed: vec![0x8200_ff01, 0xc300_0001, 0xb000_0000],
            ..FakeCaller::default()
        };
        for id in [0x8200_ff01, 0xc300_0001, 0xb000_0000] {
            assert_eq!(
                call_with(id, [1, 2, 3, 4, 5, 6], &mut caller),
                Action::ForwardToFirmware {
                    function: id,
                    args: [1, 2, 3, 4, 5, 6]
                },
                "{id:#x}"
            );
        }
        assert_eq!(
            call_with(0x8200_ff02, [0; 6], &mut caller),
            Action::ok(NOT_SUPPORTED),
            "not on the list"
        );
    }

    #[test]
    fn bulkhead_services_are_never_forwarded() {
        let mut caller = FakeCaller {
            allowed: vec![
                psci_id::SYSTEM_OFF,
                0x8400_0005,
                arm::WORKAROUND_1,
                trng_id::RND32,
                vendor_id::CALL_UID,
                0xc500_0020,
                0x0200_0000,
            ],
            ..FakeCaller::default()
        };
        assert_eq!(
            call_with(psci_id::SYSTEM_OFF, [0; 6], &mut caller),
            Action::SystemOff
        );
        for id in [0x8400_0005, arm::WORKAROUND_1, 0xc500_0020, 0x0200_0000] {
            assert_eq!(
                call_with(id, [0; 6], &mut caller),
                Action::ok(NOT_SUPPORTED),
                "{id:#x}"
            );
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

    #[test]
    fn the_upper_half_of_x0_is_ignored() {
        // `Call::function` is W0 by construction; the trap path truncates X0.
        assert_eq!(call(arm::VERSION, 0), call(0x1_8000_0000_u64 as u32, 0));
    }

    #[test]
    fn dispatch_never_panics_on_arbitrary_calls() {
        // A cheap deterministic sweep over owners, numbers and arguments (the property a fuzzer
        // would check: any input gives a well-formed action).
        let mut caller = FakeCaller::default();
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let function = (x as u32 & 0xff00_00ff) | ((x >> 40) as u32 & 0xff00);
            let args = [x, x.rotate_left(7), x >> 3, !x, x.wrapping_mul(3), 1];
            let _ = call_with(function, args, &mut caller);
        }
    }
}
