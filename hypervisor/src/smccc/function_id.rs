//! SMCCC function identifiers (Arm DEN0028, "Function Identifier"): decoding a guest's W0.

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

/// The identifiers themselves: one definition, shared with the guest shim (`bulkhead-abi`,
/// which takes the standard SMCCC and PSCI ones from the `smccc` crate).
pub use bulkhead_abi::{arm, psci, trng, vendor};

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
