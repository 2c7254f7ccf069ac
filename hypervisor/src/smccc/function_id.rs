//! SMCCC function identifiers (Arm DEN0028, "Function Identifier").

/// Call type bit: 1 = fast call.
const FAST_CALL: u32 = 1 << 31;
/// Calling convention bit: 1 = SMC64/HVC64.
const SMC64: u32 = 1 << 30;
const OWNER_SHIFT: u32 = 24;
const OWNER_MASK: u32 = 0x3f;
/// Bits [23:17] must be zero in a fast call; bit 16 is the SVE live-state hint (v1.3).
const RESERVED_MASK: u32 = 0x00fe_0000;

/// Service owners (Arm DEN0028, table "Allocation of values").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// Arm architecture calls (SMCCC_VERSION, ...).
    Arm,
    /// CPU service calls.
    Cpu,
    /// SiP (silicon provider) service calls.
    Sip,
    /// OEM service calls.
    Oem,
    /// Standard secure service calls (PSCI, TRNG, ...).
    StandardSecure,
    /// Standard hypervisor service calls.
    StandardHypervisor,
    /// Vendor-specific hypervisor service calls (Bulkhead's own).
    VendorHypervisor,
    /// Trusted application and OS calls (48..=63) and reserved owners.
    Other(u8),
}

/// A decoded 32-bit function identifier (the guest's W0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FunctionId(pub u32);

impl FunctionId {
    /// Fast call (as opposed to a yielding call).
    pub fn is_fast(self) -> bool {
        self.0 & FAST_CALL != 0
    }

    /// Uses the SMC64/HVC64 convention.
    pub fn is_64bit(self) -> bool {
        self.0 & SMC64 != 0
    }

    /// Reserved bits are set (an invalid fast call).
    pub fn has_reserved_bits(self) -> bool {
        self.0 & RESERVED_MASK != 0
    }

    /// The owning service.
    pub fn owner(self) -> Owner {
        match ((self.0 >> OWNER_SHIFT) & OWNER_MASK) as u8 {
            0 => Owner::Arm,
            1 => Owner::Cpu,
            2 => Owner::Sip,
            3 => Owner::Oem,
            4 => Owner::StandardSecure,
            5 => Owner::StandardHypervisor,
            6 => Owner::VendorHypervisor,
            other => Owner::Other(other),
        }
    }

    /// The function number within its owner (bits [15:0]).
    pub fn number(self) -> u16 {
        self.0 as u16
    }

    /// The identifier with the SMC64 bit cleared, so 32- and 64-bit forms compare equal.
    pub fn as_32bit(self) -> u32 {
        self.0 & !SMC64
    }

    /// The identifier with the SMC64 bit set: the 64-bit form of a 32-bit identifier.
    pub fn as_64bit(self) -> u32 {
        self.0 | SMC64
    }
}

/// Arm architecture calls (owner 0; Arm DEN0028 "Arm Architecture Calls").
pub mod arm {
    /// SMCCC_VERSION.
    pub const VERSION: u32 = 0x8000_0000;
    /// SMCCC_ARCH_FEATURES.
    pub const ARCH_FEATURES: u32 = 0x8000_0001;
    /// SMCCC_ARCH_SOC_ID (SMC32: SoC version and revision).
    pub const SOC_ID: u32 = 0x8000_0002;
    /// SMCCC_ARCH_SOC_ID, SMC64 form (SoC name, SMCCC v1.5).
    pub const SOC_ID_64: u32 = 0xc000_0002;
    /// SMCCC_ARCH_WORKAROUND_1 (CVE-2017-5715, branch predictor invalidation).
    pub const WORKAROUND_1: u32 = 0x8000_8000;
    /// SMCCC_ARCH_WORKAROUND_2 (CVE-2018-3639, speculative store bypass).
    pub const WORKAROUND_2: u32 = 0x8000_7fff;
    /// SMCCC_ARCH_WORKAROUND_3 (CVE-2017-5715 and CVE-2022-23960, branch history).
    pub const WORKAROUND_3: u32 = 0x8000_3fff;
}

/// PSCI calls (Arm DEN0022), 32-bit forms; 64-bit forms add `1 << 30`.
pub mod psci {
    /// PSCI_VERSION.
    pub const VERSION: u32 = 0x8400_0000;
    /// CPU_SUSPEND.
    pub const CPU_SUSPEND: u32 = 0x8400_0001;
    /// CPU_OFF.
    pub const CPU_OFF: u32 = 0x8400_0002;
    /// CPU_ON.
    pub const CPU_ON: u32 = 0x8400_0003;
    /// AFFINITY_INFO.
    pub const AFFINITY_INFO: u32 = 0x8400_0004;
    /// MIGRATE_INFO_TYPE.
    pub const MIGRATE_INFO_TYPE: u32 = 0x8400_0006;
    /// SYSTEM_OFF.
    pub const SYSTEM_OFF: u32 = 0x8400_0008;
    /// SYSTEM_RESET.
    pub const SYSTEM_RESET: u32 = 0x8400_0009;
    /// PSCI_FEATURES.
    pub const FEATURES: u32 = 0x8400_000a;
    /// SYSTEM_RESET2 (PSCI 1.1).
    pub const SYSTEM_RESET2: u32 = 0x8400_0012;
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
    pub const RND64: u32 = 0xc400_0053;
    /// The first function number of the TRNG range within owner 4.
    pub const FIRST_NUMBER: u16 = 0x50;
    /// The last function number of the TRNG range within owner 4.
    pub const LAST_NUMBER: u16 = 0x5f;
}

/// Bulkhead's vendor-specific hypervisor service (owner 6), SMC32 forms; SMC64 forms (where
/// listed in `docs/guest-abi.md`) add `1 << 30`.
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
    /// Call UID query (Arm DEN0028, "Call UID Query").
    pub const CALL_UID: u32 = 0x8600_ff01;
    /// Revision query (Arm DEN0028, "Revision Query").
    pub const REVISION: u32 = 0x8600_ff03;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psci_cpu_on_64_decodes() {
        let id = FunctionId(0xc400_0003);
        assert!(id.is_fast() && id.is_64bit() && !id.has_reserved_bits());
        assert_eq!(id.owner(), Owner::StandardSecure);
        assert_eq!(id.number(), 3);
        assert_eq!(id.as_32bit(), psci::CPU_ON);
    }

    #[test]
    fn owners_decode() {
        assert_eq!(FunctionId(0x8000_0000).owner(), Owner::Arm);
        assert_eq!(FunctionId(0x8600_0000).owner(), Owner::VendorHypervisor);
        assert_eq!(FunctionId(0xb000_0000).owner(), Owner::Other(48));
        assert!(FunctionId(0x8001_0000 | 1 << 17).has_reserved_bits());
        assert!(
            !FunctionId(0x8001_0000).has_reserved_bits(),
            "bit 16 is the SVE hint"
        );
    }
}
