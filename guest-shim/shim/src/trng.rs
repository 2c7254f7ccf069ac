//! The Arm TRNG firmware interface (Arm DEN0098): random bits from the hypervisor's (or the
//! firmware's) entropy source.

use crate::smccc::{self, Version};

pub use bulkhead_abi::trng::{
    FEATURES as TRNG_FEATURES, GET_UUID as TRNG_GET_UUID, RND32 as TRNG_RND32, RND64 as TRNG_RND64,
    VERSION as TRNG_VERSION,
};

/// A TRNG error (its codes differ from SMCCC's: -2 is INVALID_PARAMETERS, -3 NO_ENTROPY).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrngError {
    /// -1: not implemented (or no TRNG at all).
    NotSupported,
    /// -2: a bad bit count.
    InvalidParameters,
    /// -3: no entropy right now; retry later.
    NoEntropy,
    /// Any other negative value.
    Other(i32),
}

impl TrngError {
    /// Decodes W0; `None` if it is not an error.
    pub fn from_w0(x0: u64) -> Option<Self> {
        use bulkhead_abi::error::trng::{INVALID_PARAMETERS, NOT_SUPPORTED, NO_ENTROPY};
        match x0 as u32 as i32 {
            NOT_SUPPORTED => Some(TrngError::NotSupported),
            INVALID_PARAMETERS => Some(TrngError::InvalidParameters),
            NO_ENTROPY => Some(TrngError::NoEntropy),
            value if value < 0 => Some(TrngError::Other(value)),
            _ => None,
        }
    }
}

fn check(x0: u64) -> Result<u32, TrngError> {
    match TrngError::from_w0(x0) {
        Some(error) => Err(error),
        None => Ok(x0 as u32),
    }
}

/// TRNG_VERSION (1.0 or later means the interface is there).
pub fn version() -> Result<Version, TrngError> {
    check(smccc::call(TRNG_VERSION, [0; 6])[0]).map(|v| Version::from_register(u64::from(v)))
}

/// TRNG_FEATURES for `function`.
pub fn features(function: u32) -> Result<u32, TrngError> {
    check(smccc::call(TRNG_FEATURES, [u64::from(function), 0, 0, 0, 0, 0])[0])
}

/// TRNG_GET_UUID: the back end's UUID, in its text byte order.
pub fn uuid() -> Result<[u8; 16], TrngError> {
    crate::bulkhead::checked_uuid(smccc::call(TRNG_GET_UUID, [0; 6])).ok_or(TrngError::NotSupported)
}

/// TRNG_RND32: `bits` (1..=96) random bits, least significant word last (`[w1, w2, w3]`).
pub fn rnd32(bits: u32) -> Result<[u32; 3], TrngError> {
    let [x0, x1, x2, x3] = smccc::call(TRNG_RND32, [u64::from(bits), 0, 0, 0, 0, 0]);
    check(x0)?;
    Ok([x1 as u32, x2 as u32, x3 as u32])
}

/// TRNG_RND64: `bits` (1..=192) random bits, least significant word last (`[x1, x2, x3]`).
pub fn rnd64(bits: u64) -> Result<[u64; 3], TrngError> {
    let [x0, x1, x2, x3] = smccc::call(TRNG_RND64, [bits, 0, 0, 0, 0, 0]);
    check(x0)?;
    Ok([x1, x2, x3])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trng_codes_are_not_smccc_codes() {
        assert_eq!(
            TrngError::from_w0(0xffff_fffe),
            Some(TrngError::InvalidParameters)
        );
        assert_eq!(TrngError::from_w0(u64::MAX - 2), Some(TrngError::NoEntropy));
        assert_eq!(TrngError::from_w0(0x1_0000), None);
    }
}
