//! Which SMCCC function IDs a partition's `smc-allow` may list: fast calls of
//! the owners whose services live in the platform firmware and nowhere else.
//!
//! The hypervisor serves the Arm architecture calls, the standard secure
//! services (PSCI, TRNG, ...) and both hypervisor owners itself, whatever the
//! conduit; forwarding one of them would let a partition act on the whole
//! machine (PSCI SYSTEM_OFF) or bypass what the hypervisor decides. Numbers
//! are from Arm DEN0028 (SMCCC v1.5), "Function Identifier" and table
//! "Allocation of values".

/// Bit 31: 1 = fast call, 0 = yielding call.
const FAST_CALL: u32 = 1 << 31;
/// Bits [23:17]: must be zero in a fast call (bit 16 is the SVE live-state
/// hint of SMCCC v1.3, and may be set).
const RESERVED_MASK: u32 = 0x00fe_0000;
/// Bits [29:24]: the owning entity number.
const OWNER_SHIFT: u32 = 24;
const OWNER_MASK: u32 = 0x3f;

/// Owner 0: Arm architecture calls.
const OWNER_ARM: u32 = 0;
/// Owners 1 to 3: CPU, SiP and OEM service calls.
const OWNERS_CPU_SIP_OEM: core::ops::RangeInclusive<u32> = 1..=3;
/// Owner 4: standard secure service calls.
const OWNER_STANDARD_SECURE: u32 = 4;
/// Owner 5: standard hypervisor service calls.
const OWNER_STANDARD_HYPERVISOR: u32 = 5;
/// Owner 6: vendor-specific hypervisor service calls.
const OWNER_VENDOR_HYPERVISOR: u32 = 6;
/// Owners 48 to 63: trusted application and trusted OS calls.
const OWNERS_TRUSTED: core::ops::RangeInclusive<u32> = 48..=63;

/// Checks that calls to `function` (an exact W0 value) may be forwarded to
/// the platform firmware.
///
/// # Errors
/// Why not, as the reason of an [`crate::ErrorKind::BadSmc`]: a yielding
/// call, reserved bits set, or an owner the hypervisor serves itself or SMCCC
/// reserves (7..=47).
pub(super) fn check_forwardable(function: u32) -> Result<(), &'static str> {
    if function & FAST_CALL == 0 {
        return Err("it is a yielding call (bit 31 clear)");
    }
    if function & RESERVED_MASK != 0 {
        return Err("reserved bits [23:17] are set");
    }
    let owner = (function >> OWNER_SHIFT) & OWNER_MASK;
    match owner {
        OWNER_ARM => Err("owner 0 (Arm architecture calls) is served by Bulkhead itself"),
        OWNER_STANDARD_SECURE => {
            Err("owner 4 (standard secure services: PSCI, TRNG, ...) is served by Bulkhead itself")
        }
        OWNER_STANDARD_HYPERVISOR => {
            Err("owner 5 (standard hypervisor services) is served by Bulkhead itself")
        }
        OWNER_VENDOR_HYPERVISOR => {
            Err("owner 6 (vendor hypervisor services) is Bulkhead's own service")
        }
        _ if OWNERS_CPU_SIP_OEM.contains(&owner) || OWNERS_TRUSTED.contains(&owner) => Ok(()),
        _ => Err("owners 7..=47 are reserved by SMCCC"),
    }
}

#[cfg(test)]
mod tests {
    use super::check_forwardable;

    #[test]
    fn sip_oem_cpu_and_trusted_os_calls_may_be_forwarded() {
        for function in [
            0x8100_0000, // CPU service, SMC32
            0x8200_ff01, // SiP Call UID
            0xc200_0001, // SiP, SMC64
            0x8300_0000, // OEM
            0xb000_0000, // trusted application (owner 48)
            0xbf00_ff01, // trusted OS Call UID (owner 63)
            0xf200_0000, // trusted OS, SMC64 (owner 50)
            0x8201_0000, // SiP with the SVE live-state hint (bit 16)
        ] {
            assert_eq!(check_forwardable(function), Ok(()), "{function:#x}");
        }
    }

    #[test]
    fn yielding_calls_are_refused() {
        assert_eq!(
            check_forwardable(0x0200_ff01),
            Err("it is a yielding call (bit 31 clear)")
        );
        assert!(
            check_forwardable(0x3200_0000).is_err(),
            "yielding trusted OS"
        );
    }

    #[test]
    fn reserved_bits_are_refused() {
        for function in [0x8202_0000, 0x8280_0000, 0x82fe_ff01] {
            assert_eq!(
                check_forwardable(function),
                Err("reserved bits [23:17] are set"),
                "{function:#x}"
            );
        }
    }

    #[test]
    fn owners_bulkhead_serves_itself_are_refused() {
        for (function, owner) in [
            (0x8000_0000, "owner 0 "), // SMCCC_VERSION
            (0x8000_8000, "owner 0 "), // SMCCC_ARCH_WORKAROUND_1
            (0x8400_0008, "owner 4 "), // PSCI SYSTEM_OFF
            (0xc400_0003, "owner 4 "), // PSCI CPU_ON, SMC64
            (0x8400_0050, "owner 4 "), // TRNG_VERSION
            (0x8400_0100, "owner 4 "), // outside PSCI and TRNG, still owner 4
            (0x8500_0000, "owner 5 "),
            (0x8600_ff01, "owner 6 "), // Bulkhead's Call UID
        ] {
            let why = check_forwardable(function).expect_err("refused");
            assert!(why.starts_with(owner), "{function:#x}: {why}");
        }
    }

    #[test]
    fn reserved_owners_are_refused() {
        for function in [0x8700_0000, 0x9000_0001, 0xaf00_0000, 0xc700_0000] {
            assert_eq!(
                check_forwardable(function),
                Err("owners 7..=47 are reserved by SMCCC"),
                "{function:#x}"
            );
        }
    }
}
