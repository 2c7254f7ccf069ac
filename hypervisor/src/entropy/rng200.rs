//! The Broadcom RNG200: the Raspberry Pi 4's hardware random number generator
//! (`brcm,bcm2711-rng200`, the same block as `brcm,iproc-rng200`), polled.
//!
//! There is no public datasheet. The registers, the start and the restart sequence are those
//! of Linux's `drivers/char/hw_random/iproc-rng200.c`:
//! - start: RNG_CTRL.RBGEN (bits [12:0]) = 1, the other bits (the sample-rate divider the
//!   firmware chose) kept;
//! - restart, when RNG_INT_STATUS reports a failed health test: stop, clear every status bit,
//!   put the bit generator and then the RNG into soft reset, release the RNG and then the bit
//!   generator, start;
//! - read: one 32-bit word from RNG_FIFO_DATA for each word RNG_FIFO_COUNT[7:0] announces.
//!
//! What this driver adds, so that a block that never delivers cannot hang the hypervisor:
//! - every wait is bounded, by time on a [`Clock`] and by a number of polls;
//! - a repetition test: the same word twice in a row means the output is stuck;
//! - at most one restart per request, and any failure retires the block for good: later calls
//!   fail at once without touching it, and the caller carries on without it.
//!
//! The logic is safe Rust over the [`Registers`] trait: MMIO at EL2, a fake block in tests.

use core::fmt;

/// The block's registers (offsets from its base, as Linux names them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Register {
    /// 0x00, RNG_CTRL: bits [12:0] RBGEN (1 = the generator runs); the sample-rate divider
    /// above them.
    Ctrl,
    /// 0x04, RNG_SOFT_RESET: bit 0 holds the RNG in reset.
    RngSoftReset,
    /// 0x08, RBG_SOFT_RESET: bit 0 holds the random bit generator in reset.
    RbgSoftReset,
    /// 0x18, RNG_INT_STATUS: progress and health flags; writing 1s clears them.
    IntStatus,
    /// 0x20, RNG_FIFO_DATA: each read takes one 32-bit word out of the FIFO.
    FifoData,
    /// 0x24, RNG_FIFO_COUNT: bits [7:0] count the words in the FIFO.
    FifoCount,
}

impl Register {
    /// The register's offset from the block's base.
    pub const fn offset(self) -> u64 {
        match self {
            Register::Ctrl => 0x00,
            Register::RngSoftReset => 0x04,
            Register::RbgSoftReset => 0x08,
            Register::IntStatus => 0x18,
            Register::FifoData => 0x20,
            Register::FifoCount => 0x24,
        }
    }
}

/// RNG_CTRL.RBGEN, bits [12:0].
const CTRL_RBGEN_MASK: u32 = 0x1fff;
/// RNG_CTRL.RBGEN value that runs the generator.
const CTRL_RBGEN_ENABLE: u32 = 0x1;
/// Bit 0 of RNG_SOFT_RESET and RBG_SOFT_RESET.
const SOFT_RESET: u32 = 0x1;
/// RNG_INT_STATUS.MASTER_FAIL_LOCKOUT (bit 31): the block locked itself after failures.
const INT_STATUS_MASTER_FAIL_LOCKOUT: u32 = 1 << 31;
/// RNG_INT_STATUS.NIST_FAIL (bit 5): the block's own statistical health test failed.
const INT_STATUS_NIST_FAIL: u32 = 1 << 5;
/// The status bits that mean the output must not be used until a restart.
const INT_STATUS_FAILURES: u32 = INT_STATUS_MASTER_FAIL_LOCKOUT | INT_STATUS_NIST_FAIL;
/// RNG_FIFO_COUNT.RNG_FIFO_COUNT, bits [7:0].
const FIFO_COUNT_MASK: u32 = 0xff;

/// How long the first word may take: the generator may have just been started and still be
/// warming up. Linux gives up after the same second without output.
pub const FIRST_WORD_TIMEOUT_MS: u64 = 1000;
/// How long any later word may take, once the block has delivered.
pub const WORD_TIMEOUT_MS: u64 = 10;
/// Polls per wait at most, whatever the clock says: a counter that stands still must not hang
/// the wait either. High enough that the time limit ends a normal wait first (a poll is two
/// device reads, well over 15 ns each).
const MAX_POLLS: u32 = 1 << 26;

/// Access to the block's 32-bit registers.
pub trait Registers {
    /// Reads `register` (a read of [`Register::FifoData`] takes a word out of the FIFO).
    fn read(&mut self, register: Register) -> u32;
    /// Writes `value` to `register`.
    fn write(&mut self, register: Register, value: u32);
}

/// A monotonic time source for the driver's timeouts.
pub trait Clock {
    /// The time now, in ticks.
    fn now(&self) -> u64;
    /// Ticks per second.
    fn frequency(&self) -> u64;
}

/// Why the block gave no output; it is retired after any of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rng200Error {
    /// No word arrived in time: the block does not run (or nothing answers at its address).
    Timeout {
        /// How long the driver waited, in milliseconds.
        waited_ms: u64,
    },
    /// The same word twice in a row: the output is stuck.
    Stuck {
        /// The repeated word.
        word: u32,
    },
    /// The block's own health test failed again after a restart.
    HealthTest {
        /// RNG_INT_STATUS as read.
        status: u32,
    },
}

impl fmt::Display for Rng200Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rng200Error::Timeout { waited_ms } => {
                write!(f, "no output in {waited_ms} ms (its FIFO stayed empty)")
            }
            Rng200Error::Stuck { word } => {
                write!(f, "stuck output ({word:#010x} twice in a row)")
            }
            Rng200Error::HealthTest { status } => write!(
                f,
                "its health test failed again after a restart (RNG_INT_STATUS {status:#010x})"
            ),
        }
    }
}

/// The driver: the block's registers and what it has seen of it.
pub struct Rng200<R> {
    registers: R,
    started: bool,
    /// The last word read, for the repetition test.
    last: Option<u32>,
    /// Whether any word arrived (later words get the short timeout).
    delivered: bool,
    /// Why the block was retired, once it is.
    retired: Option<Rng200Error>,
    /// [`MAX_POLLS`], lowered by tests.
    max_polls: u32,
}

impl<R: Registers> Rng200<R> {
    /// A driver for the block behind `registers`; nothing is touched until the first
    /// [`Rng200::fill`].
    pub const fn new(registers: R) -> Self {
        Rng200 {
            registers,
            started: false,
            last: None,
            delivered: false,
            retired: None,
            max_polls: MAX_POLLS,
        }
    }

    /// Why the block was retired, if it was.
    pub fn retired(&self) -> Option<Rng200Error> {
        self.retired
    }

    /// Fills `out` with the block's output, four bytes per FIFO word (little-endian), starting
    /// the generator first if this is the first request.
    ///
    /// # Errors
    /// [`Rng200Error`] if a word did not arrive in time, repeated the one before, or the health
    /// test failed again after one restart. The block is then retired: this call and every
    /// later one return that error without touching it.
    pub fn fill(&mut self, out: &mut [u8], clock: &impl Clock) -> Result<(), Rng200Error> {
        if let Some(why) = self.retired {
            return Err(why);
        }
        if !self.started {
            self.start();
        }
        let mut restarted = false;
        for chunk in out.chunks_mut(4) {
            match self.word(clock, &mut restarted) {
                Ok(word) => {
                    let bytes = word.to_le_bytes();
                    chunk.copy_from_slice(bytes.get(..chunk.len()).unwrap_or_default());
                }
                Err(why) => {
                    self.retired = Some(why);
                    return Err(why);
                }
            }
        }
        Ok(())
    }

    /// Starts the generator, unless it runs already (the firmware may have started it).
    fn start(&mut self) {
        let ctrl = self.registers.read(Register::Ctrl);
        if ctrl & CTRL_RBGEN_ENABLE == 0 {
            self.set_running(ctrl, true);
        }
        self.started = true;
    }

    /// Writes RNG_CTRL with RBGEN set for `run` (1) or cleared, the other bits of `ctrl` kept.
    fn set_running(&mut self, ctrl: u32, run: bool) {
        let rbgen = if run { CTRL_RBGEN_ENABLE } else { 0 };
        self.registers
            .write(Register::Ctrl, (ctrl & !CTRL_RBGEN_MASK) | rbgen);
    }

    /// Sets (`hold`) or clears bit 0 of a soft-reset register, keeping its other bits.
    fn soft_reset(&mut self, register: Register, hold: bool) {
        let value = self.registers.read(register) & !SOFT_RESET;
        let bit = if hold { SOFT_RESET } else { 0 };
        self.registers.write(register, value | bit);
    }

    /// Restarts the block after a failed health test: the generator and the bit generator go
    /// through a soft reset with every status bit cleared.
    fn restart(&mut self) {
        let ctrl = self.registers.read(Register::Ctrl);
        self.set_running(ctrl, false);
        self.registers.write(Register::IntStatus, u32::MAX);
        self.soft_reset(Register::RbgSoftReset, true);
        self.soft_reset(Register::RngSoftReset, true);
        self.soft_reset(Register::RngSoftReset, false);
        self.soft_reset(Register::RbgSoftReset, false);
        let ctrl = self.registers.read(Register::Ctrl);
        self.set_running(ctrl, true);
        // The restarted block warms up again.
        self.delivered = false;
    }

    /// Waits, bounded, for one word and checks it against the one before.
    fn word(&mut self, clock: &impl Clock, restarted: &mut bool) -> Result<u32, Rng200Error> {
        let frequency = clock.frequency().max(1);
        let mut start = clock.now();
        let mut polls = 0u32;
        loop {
            let status = self.registers.read(Register::IntStatus);
            if status & INT_STATUS_FAILURES != 0 {
                if *restarted {
                    return Err(Rng200Error::HealthTest { status });
                }
                self.restart();
                *restarted = true;
                start = clock.now();
                polls = 0;
                continue;
            }
            if self.registers.read(Register::FifoCount) & FIFO_COUNT_MASK != 0 {
                let word = self.registers.read(Register::FifoData);
                if self.last == Some(word) {
                    return Err(Rng200Error::Stuck { word });
                }
                self.last = Some(word);
                self.delivered = true;
                return Ok(word);
            }
            let timeout_ms = if self.delivered {
                WORD_TIMEOUT_MS
            } else {
                FIRST_WORD_TIMEOUT_MS
            };
            let waited = clock.now().wrapping_sub(start);
            polls = polls.saturating_add(1);
            if waited.saturating_mul(1000) >= timeout_ms.saturating_mul(frequency)
                || polls >= self.max_polls
            {
                return Err(Rng200Error::Timeout {
                    waited_ms: waited
                        .saturating_mul(1000)
                        .checked_div(frequency)
                        .unwrap_or(0),
                });
            }
            core::hint::spin_loop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::collections::VecDeque;
    use std::vec::Vec;

    /// A block whose FIFO holds `fifo`; every access is logged.
    #[derive(Default)]
    struct FakeBlock {
        ctrl: u32,
        int_status: u32,
        /// Status bits that come back after every restart (a block that keeps failing).
        sticky_failure: u32,
        rng_soft_reset: u32,
        rbg_soft_reset: u32,
        fifo: VecDeque<u32>,
        reads: usize,
        writes: Vec<(Register, u32)>,
    }

    impl FakeBlock {
        fn with_words(words: &[u32]) -> Self {
            FakeBlock {
                ctrl: 0x7fff,
                fifo: words.iter().copied().collect(),
                ..FakeBlock::default()
            }
        }
    }

    impl Registers for &mut FakeBlock {
        fn read(&mut self, register: Register) -> u32 {
            self.reads += 1;
            match register {
                Register::Ctrl => self.ctrl,
                Register::RngSoftReset => self.rng_soft_reset,
                Register::RbgSoftReset => self.rbg_soft_reset,
                Register::IntStatus => self.int_status,
                Register::FifoData => self.fifo.pop_front().unwrap_or(0),
                Register::FifoCount => self.fifo.len().min(0xff) as u32 | 0x200,
            }
        }

        fn write(&mut self, register: Register, value: u32) {
            self.writes.push((register, value));
            match register {
                Register::Ctrl => self.ctrl = value,
                Register::RngSoftReset => self.rng_soft_reset = value,
                Register::RbgSoftReset => {
                    self.rbg_soft_reset = value;
                    if value & SOFT_RESET == 0 {
                        self.int_status = self.sticky_failure;
                    }
                }
                Register::IntStatus => self.int_status &= !value,
                Register::FifoData | Register::FifoCount => {}
            }
        }
    }

    /// A counter at 1 MHz that advances `step` ticks each time it is read.
    struct FakeClock {
        now: Cell<u64>,
        step: u64,
    }

    impl FakeClock {
        fn stepping(step: u64) -> Self {
            FakeClock {
                now: Cell::new(0),
                step,
            }
        }
    }

    impl Clock for FakeClock {
        fn now(&self) -> u64 {
            let now = self.now.get();
            self.now.set(now + self.step);
            now
        }

        fn frequency(&self) -> u64 {
            1_000_000
        }
    }

    #[test]
    fn register_offsets_are_those_linux_uses() {
        let offsets = [
            (Register::Ctrl, 0x00),
            (Register::RngSoftReset, 0x04),
            (Register::RbgSoftReset, 0x08),
            (Register::IntStatus, 0x18),
            (Register::FifoData, 0x20),
            (Register::FifoCount, 0x24),
        ];
        for (register, offset) in offsets {
            assert_eq!(register.offset(), offset, "{register:?}");
        }
    }

    #[test]
    fn a_stopped_generator_is_started_with_its_divider_kept() {
        let mut block = FakeBlock::with_words(&[1]);
        block.ctrl = 0x3 << 13;
        Rng200::new(&mut block)
            .fill(&mut [0; 4], &FakeClock::stepping(1))
            .unwrap();
        assert_eq!(block.writes, [(Register::Ctrl, (0x3 << 13) | 1)]);
    }

    #[test]
    fn a_running_generator_is_left_alone() {
        let mut block = FakeBlock::with_words(&[1, 2]);
        {
            let mut rng = Rng200::new(&mut block);
            rng.fill(&mut [0; 4], &FakeClock::stepping(1)).unwrap();
            rng.fill(&mut [0; 4], &FakeClock::stepping(1)).unwrap();
        }
        assert_eq!(block.writes, [], "RNG_CTRL 0x7fff already runs it");
    }

    #[test]
    fn nothing_is_touched_before_the_first_request() {
        let mut block = FakeBlock::with_words(&[1]);
        let _unused = Rng200::new(&mut block);
        assert_eq!((block.reads, block.writes.len()), (0, 0));
    }

    #[test]
    fn words_come_out_little_endian_four_bytes_each() {
        let mut block = FakeBlock::with_words(&[0x0403_0201, 0x0807_0605, 0x0c0b_0a09]);
        let mut out = [0u8; 10];
        Rng200::new(&mut block)
            .fill(&mut out, &FakeClock::stepping(1))
            .unwrap();
        assert_eq!(out, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert!(
            block.fifo.is_empty(),
            "a partial last chunk still takes a word"
        );
    }

    #[test]
    fn an_empty_fifo_times_out_instead_of_spinning() {
        let mut block = FakeBlock::with_words(&[]);
        let clock = FakeClock::stepping(7);
        let result = Rng200::new(&mut block).fill(&mut [0; 4], &clock);
        assert_eq!(
            result,
            Err(Rng200Error::Timeout {
                waited_ms: FIRST_WORD_TIMEOUT_MS
            })
        );
        assert!(clock.now.get() < 1_100_000, "gave up about when due");
    }

    #[test]
    fn a_clock_that_stands_still_still_ends_the_wait() {
        let mut block = FakeBlock::with_words(&[]);
        let mut rng = Rng200::new(&mut block);
        rng.max_polls = 1000;
        let result = rng.fill(&mut [0; 4], &FakeClock::stepping(0));
        assert_eq!(result, Err(Rng200Error::Timeout { waited_ms: 0 }));
        assert!(block.reads <= 2 * 1000 + 1);
    }

    #[test]
    fn once_it_delivered_a_word_the_next_gets_the_short_timeout() {
        let mut block = FakeBlock::with_words(&[5]);
        let clock = FakeClock::stepping(100);
        let result = Rng200::new(&mut block).fill(&mut [0; 8], &clock);
        assert_eq!(
            result,
            Err(Rng200Error::Timeout {
                waited_ms: WORD_TIMEOUT_MS
            })
        );
    }

    #[test]
    fn the_same_word_twice_is_stuck_output() {
        let mut block = FakeBlock::with_words(&[0xdead_beef, 0x1234_5678, 0x1234_5678]);
        let result = Rng200::new(&mut block).fill(&mut [0; 12], &FakeClock::stepping(1));
        assert_eq!(result, Err(Rng200Error::Stuck { word: 0x1234_5678 }));
    }

    #[test]
    fn the_repetition_test_spans_requests() {
        let mut block = FakeBlock::with_words(&[9, 9]);
        let mut rng = Rng200::new(&mut block);
        rng.fill(&mut [0; 4], &FakeClock::stepping(1)).unwrap();
        assert_eq!(
            rng.fill(&mut [0; 4], &FakeClock::stepping(1)),
            Err(Rng200Error::Stuck { word: 9 })
        );
    }

    #[test]
    fn a_failed_health_test_restarts_the_block_as_linux_does() {
        let mut block = FakeBlock::with_words(&[1, 2]);
        block.int_status = INT_STATUS_NIST_FAIL;
        let mut out = [0u8; 8];
        Rng200::new(&mut block)
            .fill(&mut out, &FakeClock::stepping(1))
            .unwrap();
        assert_eq!(
            block.writes,
            [
                (Register::Ctrl, 0x7fff & !CTRL_RBGEN_MASK),
                (Register::IntStatus, u32::MAX),
                (Register::RbgSoftReset, 1),
                (Register::RngSoftReset, 1),
                (Register::RngSoftReset, 0),
                (Register::RbgSoftReset, 0),
                (Register::Ctrl, (0x7fff & !CTRL_RBGEN_MASK) | 1),
            ]
        );
        assert_eq!(out, [1, 0, 0, 0, 2, 0, 0, 0]);
    }

    #[test]
    fn a_health_test_that_fails_again_retires_the_block() {
        let mut block = FakeBlock::with_words(&[1, 2]);
        block.int_status = INT_STATUS_MASTER_FAIL_LOCKOUT;
        block.sticky_failure = INT_STATUS_MASTER_FAIL_LOCKOUT;
        let result = Rng200::new(&mut block).fill(&mut [0; 4], &FakeClock::stepping(1));
        assert_eq!(
            result,
            Err(Rng200Error::HealthTest {
                status: INT_STATUS_MASTER_FAIL_LOCKOUT
            })
        );
        assert_eq!(block.fifo.len(), 2, "no word of a failing block is used");
    }

    #[test]
    fn a_retired_block_is_never_touched_again() {
        let mut block = FakeBlock::with_words(&[]);
        let mut rng = Rng200::new(&mut block);
        let clock = FakeClock::stepping(1000);
        let first = rng.fill(&mut [0; 4], &clock);
        assert!(first.is_err());
        assert_eq!(rng.retired(), first.err());
        let reads = rng.registers.reads;
        assert_eq!(rng.fill(&mut [0; 4], &clock), first);
        assert_eq!(rng.registers.reads, reads);
    }

    #[test]
    fn errors_say_what_happened() {
        assert_eq!(
            std::format!("{}", Rng200Error::Timeout { waited_ms: 1000 }),
            "no output in 1000 ms (its FIFO stayed empty)"
        );
        assert_eq!(
            std::format!("{}", Rng200Error::Stuck { word: 0xab }),
            "stuck output (0x000000ab twice in a row)"
        );
        assert_eq!(
            std::format!("{}", Rng200Error::HealthTest { status: 1 << 31 }),
            "its health test failed again after a restart (RNG_INT_STATUS 0x80000000)"
        );
    }
}
