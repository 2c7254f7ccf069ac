//! The Arm True Random Number Generator firmware interface (Arm DEN0098) v1.0.
//!
//! Served from the board's entropy source (see `crate::entropy`): the CPU's RNDR, or a
//! ChaCha20 DRBG seeded at boot (from the Raspberry Pi 4's RNG200 and/or `/chosen/rng-seed`),
//! with one independent stream per partition. Without any source
//! every TRNG call is NOT_SUPPORTED, so discovery (TRNG_VERSION) fails and guests do not bind a
//! generator that has nothing behind it.

use super::caller::Caller;
use super::dispatch::Action;
use super::error::TrngError;
use super::function_id::{trng, FunctionId};
use super::uuid::{TRNG_DRBG_UUID, TRNG_RNDR_UUID};
use crate::entropy::EntropySource;

/// TRNG_VERSION: 1.0 (major in bits [30:16], minor in [15:0]).
pub const TRNG_VERSION: u32 = 0x0001_0000;
/// TRNG_RND32 returns at most 96 bits (W1..W3).
const RND32_MAX_BITS: u64 = 96;
/// TRNG_RND64 returns at most 192 bits (X1..X3).
const RND64_MAX_BITS: u64 = 192;

/// Whether Bulkhead implements TRNG function `function` (exact ID) for `caller`.
pub fn implements(function: u32, caller: &dyn Caller) -> bool {
    caller.entropy_source().is_some()
        && matches!(
            function,
            trng::VERSION | trng::FEATURES | trng::GET_UUID | trng::RND32 | trng::RND64
        )
}

/// Handles a TRNG call.
pub fn call(id: FunctionId, args: &[u64; 6], caller: &dyn Caller) -> Action {
    let Some(source) = caller.entropy_source() else {
        return error(TrngError::NotSupported);
    };
    let x1 = args.first().copied().unwrap_or(0);
    match id.0 {
        trng::VERSION => Action::ok(u64::from(TRNG_VERSION)),
        trng::FEATURES => {
            if implements(x1 as u32, caller) {
                Action::ok(0)
            } else {
                error(TrngError::NotSupported)
            }
        }
        trng::GET_UUID => Action::Return(match source {
            EntropySource::Rndr => TRNG_RNDR_UUID.to_registers(),
            EntropySource::Drbg => TRNG_DRBG_UUID.to_registers(),
        }),
        trng::RND32 => random(u64::from(x1 as u32), RND32_MAX_BITS, 32, caller),
        trng::RND64 => random(x1, RND64_MAX_BITS, 64, caller),
        _ => error(TrngError::NotSupported),
    }
}

fn error(code: TrngError) -> Action {
    Action::error(code.to_register())
}

/// TRNG_RND32/64: `bits` random bits, right-aligned across X1..X3 (X3 holds the least
/// significant `word` bits), every bit above them zero.
fn random(bits: u64, max_bits: u64, word: u32, caller: &dyn Caller) -> Action {
    if bits == 0 || bits > max_bits {
        return error(TrngError::InvalidParameters);
    }
    let mut bytes = [0u8; 24];
    if caller.fill_random(&mut bytes).is_err() {
        return error(TrngError::NoEntropy);
    }
    let mut result = [0u64; 4];
    let mut remaining = bits;
    // X3, then X2, then X1.
    for (slot, chunk) in result.iter_mut().skip(1).rev().zip(bytes.chunks_exact(8)) {
        let mut raw = [0u8; 8];
        raw.copy_from_slice(chunk);
        let take = remaining.min(u64::from(word));
        *slot = low_bits(u64::from_le_bytes(raw), take);
        remaining = remaining.saturating_sub(take);
    }
    Action::Return(result)
}

/// The low `bits` bits of `value` (`bits` at most 64).
fn low_bits(value: u64, bits: u64) -> u64 {
    match bits {
        0 => 0,
        64.. => value,
        _ => value & (u64::MAX >> (64u64.saturating_sub(bits))),
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::smccc::caller::FakeCaller;

    const NOT_SUPPORTED: u64 = u64::MAX;
    const INVALID_PARAMETERS: u64 = -2i64 as u64;
    const NO_ENTROPY: u64 = -3i64 as u64;

    fn trng_call(function: u32, x1: u64, caller: &FakeCaller) -> Action {
        call(FunctionId(function), &[x1, 0, 0, 0, 0, 0], caller)
    }

    fn registers(action: Action) -> [u64; 4] {
        match action {
            Action::Return(values) => values,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn version_is_1_0_and_features_are_exact() {
        let caller = FakeCaller::default();
        assert_eq!(trng_call(trng::VERSION, 0, &caller), Action::ok(0x1_0000));
        for id in [
            trng::VERSION,
            trng::FEATURES,
            trng::GET_UUID,
            trng::RND32,
            trng::RND64,
        ] {
            assert_eq!(
                trng_call(trng::FEATURES, u64::from(id), &caller),
                Action::ok(0)
            );
        }
        for id in [
            trng::GET_UUID | 1 << 30,
            trng::VERSION | 1 << 30,
            0x8400_0054,
        ] {
            assert_eq!(
                trng_call(trng::FEATURES, u64::from(id), &caller),
                Action::ok(NOT_SUPPORTED),
                "{id:#x}"
            );
        }
    }

    #[test]
    fn uuid_names_the_back_end() {
        let drbg = FakeCaller::default();
        assert_eq!(
            registers(trng_call(trng::GET_UUID, 0, &drbg)),
            TRNG_DRBG_UUID.to_registers()
        );
        let rndr = FakeCaller {
            entropy: Some(EntropySource::Rndr),
            ..FakeCaller::default()
        };
        assert_eq!(
            registers(trng_call(trng::GET_UUID, 0, &rndr)),
            TRNG_RNDR_UUID.to_registers()
        );
    }

    #[test]
    fn rnd64_right_aligns_the_requested_bits() {
        let caller = FakeCaller::default();
        let [x0, x1, x2, x3] = registers(trng_call(trng::RND64, 192, &caller));
        assert_eq!(x0, 0);
        assert_eq!(x3, u64::from_le_bytes([1, 2, 3, 4, 5, 6, 7, 8]));
        assert_eq!(x2, u64::from_le_bytes([9, 10, 11, 12, 13, 14, 15, 16]));
        assert_eq!(x1, u64::from_le_bytes([17, 18, 19, 20, 21, 22, 23, 24]));
        let [_, x1, x2, x3] = registers(trng_call(trng::RND64, 70, &caller));
        assert_eq!(x1, 0);
        assert_eq!(x2 >> 6, 0, "only 6 bits in X2");
        assert_ne!(x3, 0);
    }

    #[test]
    fn rnd32_fills_only_the_low_words() {
        let caller = FakeCaller::default();
        let [x0, x1, x2, x3] = registers(trng_call(trng::RND32, 96, &caller));
        assert_eq!(x0, 0);
        for x in [x1, x2, x3] {
            assert_eq!(x >> 32, 0);
            assert_ne!(x, 0);
        }
        let [_, x1, x2, x3] = registers(trng_call(trng::RND32, 33, &caller));
        assert_eq!((x1, x2 >> 1), (0, 0));
        assert_ne!(x3, 0);
        assert_eq!(
            trng_call(trng::RND32, 0x1_0000_0020, &FakeCaller::default()),
            trng_call(trng::RND32, 0x20, &FakeCaller::default()),
            "W1 only"
        );
    }

    #[test]
    fn bad_bit_counts_are_invalid_parameters() {
        let caller = FakeCaller::default();
        for (id, bits) in [
            (trng::RND32, 0),
            (trng::RND32, 97),
            (trng::RND64, 0),
            (trng::RND64, 193),
            (trng::RND64, u64::MAX),
        ] {
            assert_eq!(
                trng_call(id, bits, &caller),
                Action::ok(INVALID_PARAMETERS),
                "{id:#x} {bits}"
            );
        }
    }

    #[test]
    fn an_empty_source_is_no_entropy() {
        let caller = FakeCaller {
            random_fails: true,
            ..FakeCaller::default()
        };
        assert_eq!(trng_call(trng::RND64, 64, &caller), Action::ok(NO_ENTROPY));
    }

    #[test]
    fn without_a_source_nothing_is_supported() {
        let caller = FakeCaller {
            entropy: None,
            ..FakeCaller::default()
        };
        for id in [trng::VERSION, trng::FEATURES, trng::GET_UUID, trng::RND64] {
            assert_eq!(trng_call(id, 64, &caller), Action::ok(NOT_SUPPORTED));
        }
    }
}
