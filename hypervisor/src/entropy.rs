//! Where TRNG output comes from: the board's entropy source, one stream per partition.
//!
//! Sources, in order of preference (chosen once at boot, printed in the boot log):
//! 1. [`EntropySource::Rndr`]: the CPU's FEAT_RNG (`RNDR`), when ID_AA64ISAR0_EL1.RNDR says it
//!    exists. Every request reads it afresh.
//! 2. [`EntropySource::Drbg`]: a ChaCha20 fast-key-erasure DRBG seeded from the host device
//!    tree's `/chosen/rng-seed` (QEMU `virt` and U-Boot put 32+ bytes there) mixed with the
//!    boot counter. Each partition gets its own stream, forked from the master generator the
//!    first time it asks, so no partition can predict another's output; every request erases
//!    the key it used (forward secrecy) and mixes in the counter.
//! 3. Nothing: no RNDR and no usable seed. TRNG calls are then NOT_SUPPORTED rather than served
//!    from something guessable.
//!
//! A board with its own RNG block (the Raspberry Pi 4's, with its issue) plugs in through
//! [`Pool::reseed`]: feed it fresh hardware entropy at boot and whenever a stream asks.

mod chacha20;
mod drbg;

use core::fmt;

use drbg::Drbg;

/// The smallest `/chosen/rng-seed` accepted (128 bits); QEMU gives 32 bytes.
pub const MIN_SEED_BYTES: usize = 16;

/// What serves random numbers to guests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntropySource {
    /// The CPU's RNDR instruction (FEAT_RNG).
    Rndr,
    /// Bulkhead's ChaCha20 DRBG seeded from `/chosen/rng-seed`.
    Drbg,
}

impl fmt::Display for EntropySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntropySource::Rndr => write!(f, "rndr (FEAT_RNG)"),
            EntropySource::Drbg => write!(f, "chacha20-drbg (seeded from /chosen/rng-seed)"),
        }
    }
}

/// The source had nothing to give (RNDR failed repeatedly, or there is no source).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoEntropy;

/// The boot-time choice of source and the generators' state.
pub struct Pool {
    source: spin::Once<Option<EntropySource>>,
    master: spin::Mutex<Option<Drbg>>,
    streams: [spin::Mutex<Option<Drbg>>; bulkhead_config::MAX_PARTITIONS],
}

impl Default for Pool {
    fn default() -> Self {
        Self::new()
    }
}

impl Pool {
    /// An empty pool: no source until [`Pool::init`].
    pub const fn new() -> Self {
        Pool {
            source: spin::Once::new(),
            master: spin::Mutex::new(None),
            streams: [const { spin::Mutex::new(None) }; bulkhead_config::MAX_PARTITIONS],
        }
    }

    /// Chooses the source once: RNDR if `rndr`, else the DRBG if `seed` has at least
    /// [`MIN_SEED_BYTES`], else none. `counter` is mixed into the seed. Later calls return the
    /// first choice.
    pub fn init(&self, seed: Option<&[u8]>, counter: u64, rndr: bool) -> Option<EntropySource> {
        *self.source.call_once(|| {
            if rndr {
                return Some(EntropySource::Rndr);
            }
            let seed = seed.filter(|s| s.len() >= MIN_SEED_BYTES)?;
            *self.master.lock() = Some(Drbg::from_seed(seed, counter));
            Some(EntropySource::Drbg)
        })
    }

    /// The source chosen at boot, if any.
    pub fn source(&self) -> Option<EntropySource> {
        self.source.get().copied().flatten()
    }

    /// Mixes fresh hardware entropy into the master generator (the hook for board RNG blocks);
    /// streams forked later start from the new state.
    pub fn reseed(&self, material: &[u8], counter: u64) {
        if let Some(master) = self.master.lock().as_mut() {
            master.reseed(material, counter);
        }
    }

    /// Fills `out` from partition `partition`'s own DRBG stream (1-based id), forking it from
    /// the master generator on first use. `counter` is this request's additional input.
    ///
    /// # Errors
    /// [`NoEntropy`] if the DRBG was never seeded or `partition` is out of range.
    pub fn fill(&self, partition: usize, out: &mut [u8], counter: u64) -> Result<(), NoEntropy> {
        let slot = partition
            .checked_sub(1)
            .and_then(|index| self.streams.get(index))
            .ok_or(NoEntropy)?;
        let mut stream = slot.lock();
        // A new stream, or one that served its reseed interval, is (re)keyed from the master
        // generator, which itself takes in any fresh hardware entropy through `reseed`.
        if stream.as_ref().is_none_or(Drbg::wants_reseed) {
            let mut master = self.master.lock();
            let master = master.as_mut().ok_or(NoEntropy)?;
            *stream = Some(master.fork(partition as u64));
        }
        let stream = stream.as_mut().ok_or(NoEntropy)?;
        stream.generate(out, counter);
        Ok(())
    }
}

/// The hypervisor's pool.
pub static POOL: Pool = Pool::new();

/// Chooses the entropy source from what the host offers and says which in the boot log.
#[cfg(target_os = "none")]
pub fn init_from_host(host: &crate::host_dt::HostInfo<'_>) {
    let source = POOL.init(
        host.rng_seed,
        crate::arch::counter(),
        crate::arch::rng::available(),
    );
    match source {
        Some(source) => crate::println!("HIL:ENTROPY source={source}"),
        None => crate::println!(
            "HIL:ENTROPY source=none (no FEAT_RNG, no /chosen/rng-seed): TRNG calls are NOT_SUPPORTED"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: [u8; 32] = [0x5a; 32];

    #[test]
    fn rndr_wins_over_the_seed() {
        let pool = Pool::new();
        assert_eq!(pool.init(Some(&SEED), 0, true), Some(EntropySource::Rndr));
        assert_eq!(pool.source(), Some(EntropySource::Rndr));
    }

    #[test]
    fn a_seed_gives_the_drbg_and_a_short_or_missing_one_nothing() {
        assert_eq!(
            Pool::new().init(Some(&SEED), 0, false),
            Some(EntropySource::Drbg)
        );
        assert_eq!(Pool::new().init(Some(&SEED[..15]), 0, false), None);
        let pool = Pool::new();
        assert_eq!(pool.init(None, 0, false), None);
        assert_eq!(pool.fill(1, &mut [0; 8], 0), Err(NoEntropy));
    }

    #[test]
    fn the_first_choice_sticks() {
        let pool = Pool::new();
        pool.init(None, 0, false);
        assert_eq!(pool.init(Some(&SEED), 0, true), None);
    }

    #[test]
    fn partitions_get_different_streams() {
        let pool = Pool::new();
        pool.init(Some(&SEED), 0, false);
        let (mut a, mut b) = ([0u8; 24], [0u8; 24]);
        pool.fill(1, &mut a, 7).unwrap();
        pool.fill(2, &mut b, 7).unwrap();
        assert_ne!(a, b);
        let mut again = [0u8; 24];
        pool.fill(1, &mut again, 7).unwrap();
        assert_ne!(a, again, "a stream never repeats itself");
    }

    #[test]
    fn a_partitions_stream_does_not_depend_on_others_use() {
        // Once forked, partition 2's stream is the same whether or not partition 1 draws in
        // between: streams are keyed at fork time and never shared.
        let draw = |first_draw_by_one: bool| {
            let pool = Pool::new();
            pool.init(Some(&SEED), 0, false);
            let mut out = [0u8; 16];
            if first_draw_by_one {
                pool.fill(2, &mut out, 0).unwrap();
                pool.fill(1, &mut [0; 16], 0).unwrap();
                pool.fill(1, &mut [0; 16], 0).unwrap();
            } else {
                pool.fill(2, &mut out, 0).unwrap();
            }
            let mut next = [0u8; 16];
            pool.fill(2, &mut next, 0).unwrap();
            next
        };
        assert_eq!(draw(true), draw(false));
    }

    #[test]
    fn bad_partition_ids_get_no_entropy() {
        let pool = Pool::new();
        pool.init(Some(&SEED), 0, false);
        assert_eq!(pool.fill(0, &mut [0; 8], 0), Err(NoEntropy));
        assert_eq!(
            pool.fill(bulkhead_config::MAX_PARTITIONS + 1, &mut [0; 8], 0),
            Err(NoEntropy)
        );
    }

    #[test]
    fn reseeding_changes_future_streams() {
        let first = |reseed: bool| {
            let pool = Pool::new();
            pool.init(Some(&SEED), 0, false);
            if reseed {
                pool.reseed(&[1; 32], 0);
            }
            let mut out = [0u8; 16];
            pool.fill(1, &mut out, 0).unwrap();
            out
        };
        assert_ne!(first(true), first(false));
    }
}
