//! UUIDs as SMCCC returns them (Call UID queries, TRNG_GET_UUID).

/// A UUID in its RFC 4122 byte order (the order of its text form).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    /// The UUID in W0..W3 as Arm DEN0028 ("Call UID Query") encodes it: bytes 0..3 in W0, byte 0
    /// in its least significant byte, and so on.
    pub fn to_registers(self) -> [u64; 4] {
        let mut words = [0u64; 4];
        for (word, bytes) in words.iter_mut().zip(self.0.chunks_exact(4)) {
            let mut le = [0u8; 4];
            le.copy_from_slice(bytes);
            *word = u64::from(u32::from_le_bytes(le));
        }
        words
    }
}

/// Bulkhead's vendor-specific hypervisor service UID: `8dbd16a7-85f8-4878-a681-58b6ff612fa9`
/// (generated at random once; never changes).
pub const BULKHEAD_UID: Uuid = Uuid([
    0x8d, 0xbd, 0x16, 0xa7, 0x85, 0xf8, 0x48, 0x78, 0xa6, 0x81, 0x58, 0xb6, 0xff, 0x61, 0x2f, 0xa9,
]);

/// TRNG_GET_UUID when the back end is Bulkhead's ChaCha20 DRBG:
/// `7020cec6-d350-4c1c-bf6d-46db58e8183b`.
pub const TRNG_DRBG_UUID: Uuid = Uuid([
    0x70, 0x20, 0xce, 0xc6, 0xd3, 0x50, 0x4c, 0x1c, 0xbf, 0x6d, 0x46, 0xdb, 0x58, 0xe8, 0x18, 0x3b,
]);

/// TRNG_GET_UUID when the back end is the CPU's RNDR (FEAT_RNG):
/// `54769dc3-08e4-409e-9b1d-678121e11ac9`.
pub const TRNG_RNDR_UUID: Uuid = Uuid([
    0x54, 0x76, 0x9d, 0xc3, 0x08, 0xe4, 0x40, 0x9e, 0x9b, 0x1d, 0x67, 0x81, 0x21, 0xe1, 0x1a, 0xc9,
]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kvm_uid_encodes_like_linux_expects() {
        // Linux include/linux/arm-smccc.h: ARM_SMCCC_VENDOR_HYP_UID_KVM_REG_0..3 for
        // 28b46fb6-2ec5-11e9-a9ca-4b564d003a74.
        let kvm = Uuid([
            0x28, 0xb4, 0x6f, 0xb6, 0x2e, 0xc5, 0x11, 0xe9, 0xa9, 0xca, 0x4b, 0x56, 0x4d, 0x00,
            0x3a, 0x74,
        ]);
        assert_eq!(
            kvm.to_registers(),
            [0xb66f_b428, 0xe911_c52e, 0x564b_caa9, 0x743a_004d]
        );
    }

    #[test]
    fn no_uid_looks_like_not_supported() {
        for uuid in [BULKHEAD_UID, TRNG_DRBG_UUID, TRNG_RNDR_UUID] {
            assert_ne!(uuid.to_registers()[0], 0xffff_ffff);
        }
    }
}
