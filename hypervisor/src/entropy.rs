//! Where TRNG output comes from: the board's entropy source, one stream per partition.
//!
//! Sources, in order of preference (chosen once at boot, printed in the boot log):
//! 1. [`EntropySource::Rndr`]: the CPU's FEAT_RNG (`RNDR`), when ID_AA64ISAR0_EL1.RNDR says it
//!    exists. Every request reads it afresh.
//! 2. [`EntropySource::Drbg`]: a ChaCha20 fast-key-erasure DRBG, seeded at boot from the
//!    board's hardware RNG block ([`HardwareEntropy`]: the Raspberry Pi 4's [`rng200`]) and/or
//!    the host device tree's `/chosen/rng-seed` (QEMU `virt` and U-Boot put 32+ bytes there),
//!    mixed with the boot counter. Each partition gets its own stream, forked from the master
//!    generator the first time it asks and again every [`drbg::RESEED_INTERVAL`] requests; with
//!    a hardware block, the master takes in fresh hardware output before every fork. So no
//!    partition can predict another's output, partitions never wait for each other on the
//!    block, and a block that fails later only stops the reseeding. Every request erases the
//!    key it used (forward secrecy) and mixes in the counter.
//! 3. Nothing: no RNDR, no working block and no usable seed. TRNG calls are then NOT_SUPPORTED
//!    rather than served from something guessable.
//!
//! No `unsafe` here: the RNG200's registers are claimed from `arch`.
// Panic guards: guest input (TRNG requests) reaches this module.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]
#![forbid(unsafe_code)]

mod chacha20;
mod drbg;
pub mod rng200;
#[cfg(target_os = "none")]
mod rng200_mmio;

use core::fmt;

use drbg::Drbg;

/// The smallest `/chosen/rng-seed` accepted (128 bits); QEMU gives 32 bytes.
pub const MIN_SEED_BYTES: usize = 16;
/// Hardware output the DRBG is seeded with at boot: twice its 256-bit key, since how much
/// entropy each raw bit of the block carries is not documented.
pub const HARDWARE_SEED_BYTES: usize = 64;
/// Hardware output mixed into the master generator before each stream is (re)forked.
pub const HARDWARE_RESEED_BYTES: usize = 64;

/// What serves random numbers to guests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntropySource {
    /// The CPU's RNDR instruction (FEAT_RNG).
    Rndr,
    /// Bulkhead's ChaCha20 DRBG, seeded from the hardware block and/or `/chosen/rng-seed`.
    Drbg,
}

/// The source had nothing to give (RNDR failed repeatedly, or there is no source).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoEntropy;

/// A board's hardware RNG block, which seeds the DRBG at boot and reseeds it.
pub trait HardwareEntropy: Sync {
    /// Fills `out` with fresh output of the block.
    ///
    /// # Errors
    /// [`NoEntropy`] if the block did not deliver (in bounded time).
    fn collect(&self, out: &mut [u8]) -> Result<(), NoEntropy>;
}

/// The board's hardware RNG block as the host device tree describes it.
#[derive(Clone, Copy)]
pub struct HardwareOffer {
    /// The block's physical base address (for the boot log).
    pub base: u64,
    /// The block's driver.
    pub source: &'static dyn HardwareEntropy,
}

/// What the board offers to draw random numbers from, found at boot.
#[derive(Clone, Copy)]
pub struct Offer<'a> {
    /// The CPU implements RNDR.
    pub rndr: bool,
    /// The RNG200 the host device tree describes, if any.
    pub hardware: Option<HardwareOffer>,
    /// `/chosen/rng-seed`, if the boot loader put one there.
    pub host_seed: Option<&'a [u8]>,
    /// The counter at boot, mixed into the seed.
    pub counter: u64,
}

/// What became of the board's RNG200 at boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HardwareState {
    /// The host device tree describes none (with status "okay").
    Absent,
    /// Not asked: RNDR serves every request.
    NotNeeded {
        /// The block's base address.
        base: u64,
    },
    /// It delivered the boot seed and reseeds the DRBG.
    InUse {
        /// The block's base address.
        base: u64,
    },
    /// It did not deliver the boot seed and is not used; its driver says why when it fails.
    Failed {
        /// The block's base address.
        base: u64,
    },
}

/// The boot-time choice of source and what seeded it. `Display` gives the boot log's line after
/// `HIL:ENTROPY `.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    /// What serves TRNG calls, if anything.
    pub source: Option<EntropySource>,
    /// What became of the hardware block.
    pub hardware: HardwareState,
    /// Whether `/chosen/rng-seed` went into the DRBG's seed.
    pub host_seed: bool,
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use HardwareState::{Failed, InUse};
        match self.source {
            Some(EntropySource::Rndr) => write!(f, "source=rndr (FEAT_RNG)"),
            Some(EntropySource::Drbg) => match (self.hardware, self.host_seed) {
                (InUse { base }, true) => write!(
                    f,
                    "source=chacha20-drbg (seeded from the rng200 at {base:#x} and \
                     /chosen/rng-seed, reseeded from the rng200)"
                ),
                (InUse { base }, false) => write!(
                    f,
                    "source=chacha20-drbg (seeded and reseeded from the rng200 at {base:#x})"
                ),
                (Failed { base }, _) => write!(
                    f,
                    "source=chacha20-drbg (seeded from /chosen/rng-seed; the rng200 at \
                     {base:#x} failed)"
                ),
                _ => write!(f, "source=chacha20-drbg (seeded from /chosen/rng-seed)"),
            },
            None => {
                write!(f, "source=none (no FEAT_RNG, ")?;
                match self.hardware {
                    Failed { base } => write!(f, "the rng200 at {base:#x} failed")?,
                    _ => write!(f, "no rng200 in the host device tree")?,
                }
                write!(f, ", no /chosen/rng-seed): TRNG calls are NOT_SUPPORTED")
            }
        }
    }
}

/// The boot-time choice of source and the generators' state.
pub struct Pool {
    choice: spin::Once<Choice>,
    /// The hardware block that reseeds the master generator, once it passed its boot seed.
    hardware: spin::Once<&'static dyn HardwareEntropy>,
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
            choice: spin::Once::new(),
            hardware: spin::Once::new(),
            master: spin::Mutex::new(None),
            streams: [const { spin::Mutex::new(None) }; bulkhead_config::MAX_PARTITIONS],
        }
    }

    /// Chooses the source once: RNDR if the CPU has it (the block is then never touched);
    /// else the DRBG, seeded from the hardware block (if it delivers its boot seed) and from
    /// `/chosen/rng-seed` (if it has at least [`MIN_SEED_BYTES`]), with the counter mixed in;
    /// else none. Later calls return the first choice.
    pub fn init(&self, offer: Offer<'_>) -> Choice {
        *self.choice.call_once(|| self.choose(&offer))
    }

    fn choose(&self, offer: &Offer<'_>) -> Choice {
        let host_seed = offer.host_seed.filter(|s| s.len() >= MIN_SEED_BYTES);
        if offer.rndr {
            return Choice {
                source: Some(EntropySource::Rndr),
                hardware: offer.hardware.map_or(HardwareState::Absent, |h| {
                    HardwareState::NotNeeded { base: h.base }
                }),
                host_seed: false,
            };
        }
        let mut drbg = None;
        let mut hardware = HardwareState::Absent;
        if let Some(offered) = offer.hardware {
            let mut material = [0u8; HARDWARE_SEED_BYTES];
            hardware = if offered.source.collect(&mut material).is_ok() {
                drbg = Some(Drbg::from_seed(&material, offer.counter));
                self.hardware.call_once(|| offered.source);
                HardwareState::InUse { base: offered.base }
            } else {
                HardwareState::Failed { base: offered.base }
            };
            material.fill(0);
        }
        if let Some(seed) = host_seed {
            match drbg.as_mut() {
                Some(drbg) => drbg.reseed(seed, offer.counter),
                None => drbg = Some(Drbg::from_seed(seed, offer.counter)),
            }
        }
        let source = drbg.map(|drbg| {
            *self.master.lock() = Some(drbg);
            EntropySource::Drbg
        });
        Choice {
            source,
            hardware,
            host_seed: source.is_some() && host_seed.is_some(),
        }
    }

    /// The source chosen at boot, if any.
    pub fn source(&self) -> Option<EntropySource> {
        self.choice.get().and_then(|choice| choice.source)
    }

    /// Fills `out` from partition `partition`'s own DRBG stream (1-based id), forking it from
    /// the master generator on first use and after every reseed interval; with a hardware
    /// block, the master first takes in fresh output of it. `counter` is this request's
    /// additional input.
    ///
    /// # Errors
    /// [`NoEntropy`] if the DRBG was never seeded or `partition` is out of range. A hardware
    /// block that fails here is not an error: the master generator goes on from its state.
    pub fn fill(&self, partition: usize, out: &mut [u8], counter: u64) -> Result<(), NoEntropy> {
        let slot = partition
            .checked_sub(1)
            .and_then(|index| self.streams.get(index))
            .ok_or(NoEntropy)?;
        let mut stream = slot.lock();
        if stream.as_ref().is_none_or(Drbg::wants_reseed) {
            let mut master = self.master.lock();
            let master = master.as_mut().ok_or(NoEntropy)?;
            if let Some(hardware) = self.hardware.get() {
                let mut fresh = [0u8; HARDWARE_RESEED_BYTES];
                if hardware.collect(&mut fresh).is_ok() {
                    master.reseed(&fresh, counter);
                }
                fresh.fill(0);
            }
            *stream = Some(master.fork(partition as u64));
        }
        let stream = stream.as_mut().ok_or(NoEntropy)?;
        stream.generate(out, counter);
        Ok(())
    }
}

/// The hypervisor's pool.
pub static POOL: Pool = Pool::new();

/// Chooses the entropy source from what the host offers (starting the RNG200 the device tree
/// describes, unless the CPU has RNDR) and says which in the boot log.
#[cfg(target_os = "none")]
pub fn init_from_host(host: &crate::host_dt::HostInfo<'_>) {
    let choice = POOL.init(Offer {
        rndr: crate::arch::rng::available(),
        // The device tree names this RNG200 (status "okay"); `arch` checks that the EL2 map
        // covers it as device memory, and the configuration's validation keeps it from
        // partitions.
        hardware: host.rng200.and_then(|range| {
            Some(HardwareOffer {
                base: range.start,
                source: rng200_mmio::claim(range.start)?,
            })
        }),
        host_seed: host.rng_seed,
        counter: crate::arch::counter(),
    });
    crate::println!("HIL:ENTROPY {choice}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
    use std::sync::Mutex;

    const SEED: [u8; 32] = [0x5a; 32];
    const BASE: u64 = 0xfe10_4000;

    /// A hardware block that fails after `works_for` requests; counts and logs what it gives.
    struct FakeHardware {
        works_for: usize,
        calls: AtomicUsize,
        next: AtomicU32,
        given: Mutex<std::vec::Vec<std::vec::Vec<u8>>>,
    }

    impl FakeHardware {
        fn leaked(works_for: usize) -> &'static FakeHardware {
            std::boxed::Box::leak(std::boxed::Box::new(FakeHardware {
                works_for,
                calls: AtomicUsize::new(0),
                next: AtomicU32::new(1),
                given: Mutex::new(std::vec::Vec::new()),
            }))
        }

        fn offer(&'static self) -> Option<HardwareOffer> {
            Some(HardwareOffer {
                base: BASE,
                source: self,
            })
        }
    }

    impl HardwareEntropy for FakeHardware {
        fn collect(&self, out: &mut [u8]) -> Result<(), NoEntropy> {
            if self.calls.fetch_add(1, Ordering::SeqCst) >= self.works_for {
                return Err(NoEntropy);
            }
            for chunk in out.chunks_mut(4) {
                let word = self.next.fetch_add(1, Ordering::SeqCst).to_le_bytes();
                chunk.copy_from_slice(&word[..chunk.len()]);
            }
            self.given.lock().unwrap().push(out.to_vec());
            Ok(())
        }
    }

    fn offer(rndr: bool, hardware: Option<HardwareOffer>, seed: Option<&[u8]>) -> Offer<'_> {
        Offer {
            rndr,
            hardware,
            host_seed: seed,
            counter: 0,
        }
    }

    fn seeded_pool() -> Pool {
        let pool = Pool::new();
        pool.init(offer(false, None, Some(&SEED)));
        pool
    }

    #[test]
    fn rndr_wins_and_leaves_the_block_alone() {
        let hardware = FakeHardware::leaked(usize::MAX);
        let pool = Pool::new();
        let choice = pool.init(offer(true, hardware.offer(), Some(&SEED)));
        assert_eq!(choice.source, Some(EntropySource::Rndr));
        assert_eq!(choice.hardware, HardwareState::NotNeeded { base: BASE });
        assert_eq!(pool.source(), Some(EntropySource::Rndr));
        assert_eq!(hardware.calls.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_seed_gives_the_drbg_and_a_short_or_missing_one_nothing() {
        let choice = Pool::new().init(offer(false, None, Some(&SEED)));
        assert_eq!(choice.source, Some(EntropySource::Drbg));
        assert!(choice.host_seed);
        assert_eq!(
            Pool::new()
                .init(offer(false, None, Some(&SEED[..15])))
                .source,
            None
        );
        let pool = Pool::new();
        assert_eq!(pool.init(offer(false, None, None)).source, None);
        assert_eq!(pool.fill(1, &mut [0; 8], 0), Err(NoEntropy));
    }

    #[test]
    fn a_working_block_seeds_the_drbg_without_any_host_seed() {
        let hardware = FakeHardware::leaked(usize::MAX);
        let pool = Pool::new();
        let choice = pool.init(offer(false, hardware.offer(), None));
        assert_eq!(
            choice,
            Choice {
                source: Some(EntropySource::Drbg),
                hardware: HardwareState::InUse { base: BASE },
                host_seed: false,
            }
        );
        assert_eq!(hardware.given.lock().unwrap()[0].len(), HARDWARE_SEED_BYTES);
        pool.fill(1, &mut [0; 8], 0).unwrap();
    }

    #[test]
    fn the_seed_depends_on_both_the_block_and_the_host_seed() {
        let first = |seed: Option<&[u8]>| {
            let pool = Pool::new();
            pool.init(offer(false, FakeHardware::leaked(usize::MAX).offer(), seed));
            let mut out = [0u8; 16];
            pool.fill(1, &mut out, 0).unwrap();
            out
        };
        assert_ne!(first(Some(&SEED)), first(None));
        assert_ne!(first(Some(&SEED)), first(Some(&[0x5b; 32])));
    }

    #[test]
    fn a_failing_block_falls_back_to_the_host_seed_and_is_not_asked_again() {
        let hardware = FakeHardware::leaked(0);
        let pool = Pool::new();
        let choice = pool.init(offer(false, hardware.offer(), Some(&SEED)));
        assert_eq!(choice.source, Some(EntropySource::Drbg));
        assert_eq!(choice.hardware, HardwareState::Failed { base: BASE });
        pool.fill(1, &mut [0; 8], 0).unwrap();
        pool.fill(2, &mut [0; 8], 0).unwrap();
        assert_eq!(
            hardware.calls.load(Ordering::SeqCst),
            1,
            "only the boot seed"
        );
    }

    #[test]
    fn a_failing_block_and_no_host_seed_mean_no_source() {
        let pool = Pool::new();
        let choice = pool.init(offer(false, FakeHardware::leaked(0).offer(), None));
        assert_eq!(choice.source, None);
        assert_eq!(pool.fill(1, &mut [0; 8], 0), Err(NoEntropy));
    }

    #[test]
    fn every_new_stream_is_forked_after_a_hardware_reseed() {
        let hardware = FakeHardware::leaked(usize::MAX);
        let pool = Pool::new();
        pool.init(offer(false, hardware.offer(), None));
        pool.fill(1, &mut [0; 8], 0).unwrap();
        pool.fill(1, &mut [0; 8], 0).unwrap();
        pool.fill(2, &mut [0; 8], 0).unwrap();
        let given = hardware.given.lock().unwrap();
        assert_eq!(
            given.len(),
            3,
            "the boot seed, then one reseed per new stream"
        );
        assert!(given[1..].iter().all(|g| g.len() == HARDWARE_RESEED_BYTES));
    }

    #[test]
    fn a_block_that_fails_later_only_stops_the_reseeding() {
        let hardware = FakeHardware::leaked(1);
        let pool = Pool::new();
        pool.init(offer(false, hardware.offer(), None));
        let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
        pool.fill(1, &mut a, 0).unwrap();
        pool.fill(2, &mut b, 0).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn hardware_output_changes_future_streams() {
        let first = |works_for: usize| {
            let pool = Pool::new();
            let hardware = FakeHardware::leaked(works_for);
            pool.init(offer(false, hardware.offer(), None));
            let mut out = [0u8; 16];
            pool.fill(1, &mut out, 0).unwrap();
            out
        };
        assert_ne!(
            first(2),
            first(1),
            "the reseed went into partition 1's stream"
        );
    }

    #[test]
    fn the_first_choice_sticks() {
        let pool = Pool::new();
        pool.init(offer(false, None, None));
        assert_eq!(pool.init(offer(true, None, Some(&SEED))).source, None);
    }

    #[test]
    fn partitions_get_different_streams() {
        let pool = seeded_pool();
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
            let pool = seeded_pool();
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
        let pool = seeded_pool();
        assert_eq!(pool.fill(0, &mut [0; 8], 0), Err(NoEntropy));
        assert_eq!(
            pool.fill(bulkhead_config::MAX_PARTITIONS + 1, &mut [0; 8], 0),
            Err(NoEntropy)
        );
    }

    #[test]
    fn the_boot_line_says_where_the_bits_come_from() {
        use HardwareState::*;
        let line = |source, hardware, host_seed| {
            std::format!(
                "{}",
                Choice {
                    source,
                    hardware,
                    host_seed
                }
            )
        };
        let drbg = Some(EntropySource::Drbg);
        let cases = [
            (
                line(Some(EntropySource::Rndr), NotNeeded { base: BASE }, false),
                "source=rndr (FEAT_RNG)",
            ),
            (
                line(drbg, InUse { base: BASE }, false),
                "source=chacha20-drbg (seeded and reseeded from the rng200 at 0xfe104000)",
            ),
            (
                line(drbg, InUse { base: BASE }, true),
                "source=chacha20-drbg (seeded from the rng200 at 0xfe104000 and \
                 /chosen/rng-seed, reseeded from the rng200)",
            ),
            (
                line(drbg, Absent, true),
                "source=chacha20-drbg (seeded from /chosen/rng-seed)",
            ),
            (
                line(drbg, Failed { base: BASE }, true),
                "source=chacha20-drbg (seeded from /chosen/rng-seed; the rng200 at 0xfe104000 \
                 failed)",
            ),
            (
                line(None, Absent, false),
                "source=none (no FEAT_RNG, no rng200 in the host device tree, no \
                 /chosen/rng-seed): TRNG calls are NOT_SUPPORTED",
            ),
            (
                line(None, Failed { base: BASE }, false),
                "source=none (no FEAT_RNG, the rng200 at 0xfe104000 failed, no \
                 /chosen/rng-seed): TRNG calls are NOT_SUPPORTED",
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
    }
}
