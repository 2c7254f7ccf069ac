//! A ChaCha20 "fast key erasure" DRBG: every request runs ChaCha20 under the current key,
//! replaces the key with the first 32 bytes of the key stream and hands out only what follows,
//! so a later compromise of the state reveals nothing about earlier output (forward secrecy).
//! Each request also mixes in caller-supplied additional input (the counter, CNTPCT) and a
//! request count, as SP 800-90A's additional input does.

use super::chacha20;

/// Domain separation for the ChaCha20 nonce (the last nonce word): seeding, generating and
/// deriving a child stream never share a key stream.
const DOMAIN_ABSORB: u32 = 0x6162_736f; // "absorb"-ish, any distinct constants do
const DOMAIN_GENERATE: u32 = 0x6765_6e65;
const DOMAIN_FORK: u32 = 0x666f_726b;

/// Requests after which [`Drbg::wants_reseed`] says fresh entropy should be mixed in (when the
/// board has a hardware source to give it).
pub const RESEED_INTERVAL: u64 = 1 << 20;

/// The generator's whole state: a 256-bit key and a request count.
pub struct Drbg {
    key: [u8; 32],
    requests: u64,
}

/// The nonce for one ChaCha20 run: 64 bits of additional input and a domain word.
fn nonce(additional: u64, domain: u32) -> [u8; 12] {
    let mut nonce = [0u8; 12];
    let (input, tag) = nonce.split_at_mut(8);
    input.copy_from_slice(&additional.to_le_bytes());
    tag.copy_from_slice(&domain.to_le_bytes());
    nonce
}

impl Drbg {
    /// A generator seeded from `seed` (any length; 32 bytes or more for a 256-bit security
    /// level) and `additional` (e.g. the boot counter).
    pub fn from_seed(seed: &[u8], additional: u64) -> Drbg {
        let mut drbg = Drbg {
            key: [0; 32],
            requests: 0,
        };
        drbg.reseed(seed, additional);
        drbg
    }

    /// Mixes `material` into the key: each 32-byte chunk is XORed into the key, which is then
    /// replaced by ChaCha20's output under it (a one-way step, so the old key cannot be
    /// recovered from the new one).
    pub fn reseed(&mut self, material: &[u8], additional: u64) {
        for (index, chunk) in material.chunks(32).enumerate() {
            for (key, byte) in self.key.iter_mut().zip(chunk) {
                *key ^= byte;
            }
            let block = chacha20::block(&self.key, index as u32, &nonce(additional, DOMAIN_ABSORB));
            self.key
                .copy_from_slice(block.get(..32).unwrap_or(&[0; 32]));
        }
        self.requests = 0;
    }

    /// Fills `out` with output; `additional` is mixed into this request only.
    pub fn generate(&mut self, out: &mut [u8], additional: u64) {
        self.run(out, additional, DOMAIN_GENERATE);
    }

    /// A new, independent generator: its key is output of this one, so neither can predict the
    /// other's output (each partition gets one).
    pub fn fork(&mut self, label: u64) -> Drbg {
        let mut key = [0u8; 32];
        self.run(&mut key, label, DOMAIN_FORK);
        Drbg { key, requests: 0 }
    }

    /// Whether enough requests have been served that fresh entropy should be mixed in.
    pub fn wants_reseed(&self) -> bool {
        self.requests >= RESEED_INTERVAL
    }

    fn run(&mut self, out: &mut [u8], additional: u64, domain: u32) {
        let nonce = nonce(additional ^ self.requests.rotate_left(32), domain);
        let first = chacha20::block(&self.key, 0, &nonce);
        let (next_key, first_output) = first.split_at(32);
        let (head, mut rest) = out.split_at_mut(out.len().min(32));
        head.copy_from_slice(first_output.get(..head.len()).unwrap_or_default());
        let mut counter = 1u32;
        while !rest.is_empty() {
            let block = chacha20::block(&self.key, counter, &nonce);
            let take = rest.len().min(block.len());
            let (chunk, tail) = core::mem::take(&mut rest).split_at_mut(take);
            chunk.copy_from_slice(block.get(..take).unwrap_or_default());
            rest = tail;
            counter = counter.wrapping_add(1);
        }
        self.key.copy_from_slice(next_key);
        self.requests = self.requests.wrapping_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_deterministic_for_a_seed_and_differs_per_request() {
        let mut a = Drbg::from_seed(&[7; 32], 1);
        let mut b = Drbg::from_seed(&[7; 32], 1);
        let (mut x, mut y) = ([0u8; 24], [0u8; 24]);
        a.generate(&mut x, 5);
        b.generate(&mut y, 5);
        assert_eq!(x, y);
        a.generate(&mut x, 5);
        assert_ne!(x, y, "the key moved on");
    }

    #[test]
    fn seed_and_additional_input_both_matter() {
        let out = |seed: &[u8], boot: u64| {
            let mut out = [0u8; 16];
            Drbg::from_seed(seed, boot).generate(&mut out, 0);
            out
        };
        assert_ne!(out(&[1; 32], 0), out(&[2; 32], 0));
        assert_ne!(out(&[1; 32], 0), out(&[1; 32], 1));
        assert_ne!(
            out(&[1; 40], 0),
            out(&[1; 32], 0),
            "bytes past 32 are absorbed"
        );
    }

    #[test]
    fn long_requests_span_blocks_without_repeating() {
        let mut drbg = Drbg::from_seed(b"a seed of at least thirty-two bytes!", 0);
        let mut out = [0u8; 200];
        drbg.generate(&mut out, 0);
        let chunks: Vec<&[u8]> = out.chunks(32).collect();
        for (i, a) in chunks.iter().enumerate() {
            for b in chunks.iter().skip(i + 1) {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn forked_streams_are_independent_of_each_other_and_the_parent() {
        let mut master = Drbg::from_seed(&[9; 32], 0);
        let mut one = master.fork(1);
        let mut two = master.fork(2);
        let (mut a, mut b, mut c) = ([0u8; 32], [0u8; 32], [0u8; 32]);
        one.generate(&mut a, 0);
        two.generate(&mut b, 0);
        master.generate(&mut c, 0);
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_ne!(b, c);
    }

    #[test]
    fn reseed_is_requested_after_the_interval() {
        let mut drbg = Drbg::from_seed(&[0; 32], 0);
        drbg.requests = RESEED_INTERVAL - 1;
        assert!(!drbg.wants_reseed());
        drbg.generate(&mut [0; 8], 0);
        assert!(drbg.wants_reseed());
        drbg.reseed(&[1; 32], 0);
        assert!(!drbg.wants_reseed());
    }
}
