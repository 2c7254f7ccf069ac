//! The wire's speed: how many bytes a UART at a given baud rate can take by now. With it, the
//! multiplexer drains partitions at the rate of a real serial line even where the UART itself
//! is infinitely fast (QEMU), so a flood is dropped in the hypervisor's buffers as it would be on
//! a board, not passed on to the host at the speed of emulation.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

/// Bytes a wire may take at once after a long idle time (a UART's FIFO's worth).
const BURST: u64 = 32;

/// Credit for bytes, earned with time.
#[derive(Clone, Copy, Debug, Default)]
pub struct Pacer {
    /// Bytes per second (baud / 10: 8 data bits, start and stop); 0: no limit.
    bytes_per_second: u64,
    /// Counter ticks per second.
    frequency: u64,
    /// Credit, in byte-ticks (bytes × frequency), so no rounding is lost.
    credit: u64,
    /// When credit was last added.
    last: u64,
}

impl Pacer {
    /// A pacer for `baud` (0: unlimited) on a counter of `frequency` Hz.
    pub fn new(baud: u32, frequency: u64) -> Self {
        Pacer {
            bytes_per_second: u64::from(baud) / 10,
            frequency: frequency.max(1),
            credit: 0,
            last: 0,
        }
    }

    /// A pacer that never limits.
    pub const fn new_unlimited() -> Self {
        Pacer {
            bytes_per_second: 0,
            frequency: 1,
            credit: 0,
            last: 0,
        }
    }

    /// Whether there is a limit.
    pub fn is_limited(&self) -> bool {
        self.bytes_per_second > 0
    }

    /// Bytes that may be written at time `now`.
    pub fn room(&mut self, now: u64) -> usize {
        if !self.is_limited() {
            return usize::MAX;
        }
        let elapsed = now.saturating_sub(self.last);
        self.last = self.last.max(now);
        let cap = BURST.saturating_mul(self.frequency);
        self.credit = self
            .credit
            .saturating_add(elapsed.saturating_mul(self.bytes_per_second))
            .min(cap);
        usize::try_from(self.credit / self.frequency).unwrap_or(usize::MAX)
    }

    /// Spends one byte's credit.
    pub fn spend(&mut self) {
        self.credit = self.credit.saturating_sub(self.frequency);
    }

    /// Ticks until `bytes` more bytes of credit are earned.
    pub fn ticks_for(&self, bytes: u64) -> u64 {
        if !self.is_limited() {
            return 0;
        }
        bytes
            .saturating_mul(self.frequency)
            .div_ceil(self.bytes_per_second)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_follows_the_baud_rate() {
        // 115200 baud = 11520 bytes/s; a 1 MHz counter.
        let mut pacer = Pacer::new(115_200, 1_000_000);
        assert_eq!(pacer.room(0), 0);
        assert_eq!(pacer.room(1_000), 11, "11.52 bytes in a millisecond");
        for _ in 0..11 {
            pacer.spend();
        }
        assert_eq!(pacer.room(1_000), 0);
        assert_eq!(pacer.room(2_000), 23 - 11, "the fraction was kept");
        assert_eq!(pacer.ticks_for(16), 1389);
    }

    #[test]
    fn idle_time_earns_only_a_fifo_burst() {
        let mut pacer = Pacer::new(115_200, 1_000_000);
        assert_eq!(pacer.room(10_000_000), BURST as usize);
    }

    #[test]
    fn no_baud_rate_means_no_limit() {
        let mut pacer = Pacer::new(0, 1_000_000);
        assert_eq!(pacer.room(0), usize::MAX);
    }
}
