//! The function identifiers of Bulkhead's guest interface, defined once for the hypervisor and
//! the guest shim.
//!
//! The standard identifiers (SMCCC architecture calls, Arm DEN0028; PSCI, Arm DEN0022) are the
//! `smccc` crate's constants, re-exported here under short names: that crate already defines
//! them for both conventions and builds for the host and `aarch64-unknown-none-softfloat`, so
//! Bulkhead does not keep its own copy. This crate defines only what `smccc` lacks: the SMC64
//! form of SMCCC_ARCH_SOC_ID (SMCCC v1.5), the TRNG interface (Arm DEN0098) and Bulkhead's
//! vendor-specific hypervisor service (owner 6, `docs/guest-abi.md`). The return codes follow the
//! same split ([`error`]).
#![no_std]
#![forbid(unsafe_code)]

/// The calling-convention bit of a function identifier: set = SMC64/HVC64 (Arm DEN0028,
/// "Function Identifier").
pub const SMC64: u32 = 1 << 30;

/// The SMC64/HVC64 form of a 32-bit function identifier.
pub const fn smc64(id: u32) -> u32 {
    id | SMC64
}

/// Arm architecture calls (owner 0; Arm DEN0028, "Arm Architecture Calls").
pub mod arm {
    /// SMCCC_ARCH_FEATURES.
    pub use smccc::arch::SMCCC_ARCH_FEATURES as ARCH_FEATURES;
    /// SMCCC_ARCH_SOC_ID (SMC32: SoC version and revision).
    pub use smccc::arch::SMCCC_ARCH_SOC_ID as SOC_ID;
    /// SMCCC_ARCH_WORKAROUND_1 (CVE-2017-5715, branch predictor invalidation).
    pub use smccc::arch::SMCCC_ARCH_WORKAROUND_1 as WORKAROUND_1;
    /// SMCCC_ARCH_WORKAROUND_2 (CVE-2018-3639, speculative store bypass).
    pub use smccc::arch::SMCCC_ARCH_WORKAROUND_2 as WORKAROUND_2;
    /// SMCCC_ARCH_WORKAROUND_3 (CVE-2017-5715 and CVE-2022-23960, branch history).
    pub use smccc::arch::SMCCC_ARCH_WORKAROUND_3 as WORKAROUND_3;
    /// SMCCC_VERSION.
    pub use smccc::arch::SMCCC_VERSION as VERSION;
    /// SMCCC_ARCH_SOC_ID, SMC64 form (SoC name; Arm DEN0028 v1.5, which `smccc` predates).
    pub const SOC_ID_64: u32 = super::smc64(SOC_ID);
}

/// PSCI calls (Arm DEN0022), 32-bit forms unless named `_64`.
pub mod psci {
    /// AFFINITY_INFO.
    pub use smccc::psci::PSCI_AFFINITY_INFO_32 as AFFINITY_INFO;
    /// CPU_OFF.
    pub use smccc::psci::PSCI_CPU_OFF as CPU_OFF;
    /// CPU_ON.
    pub use smccc::psci::PSCI_CPU_ON_32 as CPU_ON;
    /// CPU_ON, SMC64 form.
    pub use smccc::psci::PSCI_CPU_ON_64 as CPU_ON_64;
    /// CPU_SUSPEND.
    pub use smccc::psci::PSCI_CPU_SUSPEND_32 as CPU_SUSPEND;
    /// PSCI_FEATURES.
    pub use smccc::psci::PSCI_FEATURES as FEATURES;
    /// MIGRATE (not implemented by Bulkhead; guests probe it).
    pub use smccc::psci::PSCI_MIGRATE_32 as MIGRATE;
    /// MIGRATE_INFO_TYPE.
    pub use smccc::psci::PSCI_MIGRATE_INFO_TYPE as MIGRATE_INFO_TYPE;
    /// SYSTEM_OFF.
    pub use smccc::psci::PSCI_SYSTEM_OFF as SYSTEM_OFF;
    /// SYSTEM_RESET.
    pub use smccc::psci::PSCI_SYSTEM_RESET as SYSTEM_RESET;
    /// SYSTEM_RESET2 (PSCI 1.1).
    pub use smccc::psci::PSCI_SYSTEM_RESET2_32 as SYSTEM_RESET2;
    /// SYSTEM_RESET2, SMC64 form.
    pub use smccc::psci::PSCI_SYSTEM_RESET2_64 as SYSTEM_RESET2_64;
    /// PSCI_VERSION.
    pub use smccc::psci::PSCI_VERSION as VERSION;
}

/// True Random Number Generator calls (Arm DEN0098), owner 4, numbers 0x50..=0x5f.
pub mod trng {
    /// TRNG_VERSION.
    pub const VERSION: u32 = 0x8400_0050;
    /// TRNG_FEATURES.
    pub const FEATURES: u32 = 0x8400_0051;
    /// TRNG_GET_UUID.
    pub const GET_UUID: u32 = 0x8400_0052;
    /// TRNG_RND32.
    pub const RND32: u32 = 0x8400_0053;
    /// TRNG_RND64 (SMC64 only).
    pub const RND64: u32 = super::smc64(RND32);
    /// The first function number of the TRNG range within owner 4.
    pub const FIRST_NUMBER: u16 = 0x50;
    /// The last function number of the TRNG range within owner 4.
    pub const LAST_NUMBER: u16 = 0x5f;
}

/// Bulkhead's vendor-specific hypervisor service (owner 6; Arm DEN0028 "Vendor Specific
/// Hypervisor Service Calls"; `docs/guest-abi.md`), SMC32 forms: the SMC64 forms that
/// `docs/guest-abi.md` lists are [`smc64`](super::smc64) of these.
pub mod vendor {
    /// BULKHEAD_FEATURES: is a vendor function implemented?
    pub const FEATURES: u32 = 0x8600_0000;
    /// BULKHEAD_PARTITION_INFO: the caller's partition id, vCPU count and vCPU index.
    pub const PARTITION_INFO: u32 = 0x8600_0001;
    /// BULKHEAD_PARTITION_NAME: the caller's partition name, written to a guest buffer.
    pub const PARTITION_NAME: u32 = 0x8600_0002;
    /// BULKHEAD_CONSOLE_WRITE: bytes passed in registers.
    pub const CONSOLE_WRITE: u32 = 0x8600_0010;
    /// BULKHEAD_CONSOLE_WRITE_BUFFER: bytes read from a guest buffer.
    pub const CONSOLE_WRITE_BUFFER: u32 = 0x8600_0011;
    /// BULKHEAD_CONSOLE_READ: bytes written to a guest buffer (none are available yet).
    pub const CONSOLE_READ: u32 = 0x8600_0012;
    /// BULKHEAD_DOORBELL_RING: ring the peer of one of the caller's doorbells.
    pub const DOORBELL_RING: u32 = 0x8600_0100;
    /// BULKHEAD_DOORBELL_INFO: the peer, the caller's INTID and the caller's doorbell count.
    pub const DOORBELL_INFO: u32 = 0x8600_0101;
    /// Function numbers for inter-partition communication: the doorbell calls above, the rest
    /// reserved (shared-memory channels).
    pub const RESERVED_IPC: core::ops::RangeInclusive<u16> = 0x0100..=0x01ff;
    /// Function numbers reserved for the partition watchdog.
    pub const RESERVED_WATCHDOG: core::ops::RangeInclusive<u16> = 0x0200..=0x02ff;
    /// Function numbers reserved for partition management.
    pub const RESERVED_MANAGEMENT: core::ops::RangeInclusive<u16> = 0x0300..=0x03ff;
    /// BULKHEAD_STACK_HIGH_WATER: how deep the EL2 stack of one of the caller's vCPUs' CPUs
    /// was ever used, in bytes (diagnostics, 0x0400..=0x04ff).
    pub const STACK_HIGH_WATER: u32 = 0x8600_0400;
    /// BULKHEAD_TEST_OVERFLOW_EL2_STACK: recurse at EL2 until the stack's guard page (only in a
    /// hypervisor built with the `test-hooks` feature; NOT_SUPPORTED otherwise).
    pub const TEST_OVERFLOW_EL2_STACK: u32 = 0x8600_04ff;
    /// BULKHEAD_TEST_CONSOLE_INPUT: W1 bytes (at most 4, packed little-endian in W2) enter the
    /// caller's own virtual PL011 as console input (only in a hypervisor built with the
    /// `test-hooks` feature; NOT_SUPPORTED otherwise).
    pub const TEST_CONSOLE_INPUT: u32 = 0x8600_04fe;
    /// Call UID query (Arm DEN0028, "Call UID Query").
    pub const CALL_UID: u32 = 0x8600_ff01;
    /// Call count query (Arm DEN0028, deprecated; Bulkhead answers NOT_SUPPORTED).
    pub const CALL_COUNT: u32 = 0x8600_ff00;
    /// Revision query (Arm DEN0028, "Revision Query").
    pub const REVISION: u32 = 0x8600_ff03;
    /// The identifier of vendor function `number` (SMC32 form).
    pub const fn id(number: u16) -> u32 {
        FEATURES | number as u32
    }
}

/// Return codes (W0/X0, sign-extended), by interface: each interface numbers its own.
pub mod error {
    /// SMCCC architecture call return codes (Arm DEN0028, "Return Codes").
    pub mod smccc {
        pub use smccc::arch::error::{INVALID_PARAMETER, NOT_REQUIRED, NOT_SUPPORTED};
    }

    /// PSCI return codes (Arm DEN0022, 5.2.2 "Return error codes").
    pub mod psci {
        pub use smccc::psci::error::{
            ALREADY_ON, DENIED, DISABLED, INTERNAL_FAILURE, INVALID_ADDRESS, INVALID_PARAMETERS,
            NOT_PRESENT, NOT_SUPPORTED, ON_PENDING,
        };
    }

    /// TRNG return codes (Arm DEN0098, 2.1 "Return codes").
    pub mod trng {
        /// NOT_SUPPORTED.
        pub const NOT_SUPPORTED: i32 = -1;
        /// INVALID_PARAMETERS.
        pub const INVALID_PARAMETERS: i32 = -2;
        /// NO_ENTROPY: no entropy right now; retry later.
        pub const NO_ENTROPY: i32 = -3;
    }

    /// Bulkhead's vendor calls: the SMCCC codes, and one of their own (`docs/guest-abi.md`).
    pub mod vendor {
        pub use super::smccc::{INVALID_PARAMETER, NOT_SUPPORTED};
        /// BULKHEAD_DOORBELL_RING: the peer partition is not running.
        pub const PEER_DOWN: i32 = -4;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_ids_are_the_specifications_values() {
        assert_eq!(psci::VERSION, 0x8400_0000);
        assert_eq!(psci::CPU_ON_64, 0xc400_0003);
        assert_eq!(psci::SYSTEM_RESET2, 0x8400_0012);
        assert_eq!(arm::SOC_ID_64, 0xc000_0002);
        assert_eq!(trng::RND64, 0xc400_0053);
    }

    #[test]
    fn vendor_ids_are_owner_6_fast_calls() {
        for id in [
            vendor::FEATURES,
            vendor::CONSOLE_READ,
            vendor::DOORBELL_INFO,
            vendor::CALL_UID,
        ] {
            assert_eq!(id >> 24, 0x86, "{id:#x}");
        }
        assert_eq!(vendor::id(*vendor::RESERVED_WATCHDOG.start()), 0x8600_0200);
    }

    #[test]
    fn error_codes_are_the_specifications_values() {
        assert_eq!(error::smccc::INVALID_PARAMETER, -3);
        assert_eq!(error::psci::INVALID_ADDRESS, -9);
        assert_eq!(error::trng::NO_ENTROPY, -3);
        assert_eq!(error::vendor::PEER_DOWN, -4);
    }
}
