//! Credit-based flow control for one direction of a connection (virtio 1.2 §5.10.6.3).
//!
//! The specification's rule, from the sender's side:
//! `peer_free = peer_buf_alloc - (tx_cnt - peer_fwd_cnt)`, and a sender must not put more
//! payload bytes on the wire than `peer_free`. `tx_cnt` counts the bytes the sender sent,
//! `peer_buf_alloc` and `peer_fwd_cnt` are the receiver's latest advertisement (every header
//! the receiver sends carries both). Counters are free-running 32-bit values that wrap.
//!
//! The switch keeps the same books for each direction, from the headers it forwards, and
//! refuses data a sender has no credit for: the guest drivers do the accounting, the switch
//! checks it. Its view of the receiver's advertisement is never older than the sender's
//! (it sees each header before the sender does), so an honest sender is never refused.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

/// The books of one direction: sender to receiver.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Credit {
    /// Payload bytes the sender has sent (wrapping).
    tx_cnt: u32,
    /// The receiver's advertised buffer size.
    peer_buf_alloc: u32,
    /// The receiver's advertised consumed count (wrapping).
    peer_fwd_cnt: u32,
}

impl Credit {
    /// Books that start from the receiver's first advertisement (in its REQUEST or RESPONSE);
    /// the sender has sent nothing yet (`tx_cnt` starts at 0, as the driver's does).
    pub fn new(peer_buf_alloc: u32, peer_fwd_cnt: u32) -> Self {
        Self {
            tx_cnt: 0,
            peer_buf_alloc,
            peer_fwd_cnt,
        }
    }

    /// Records the receiver's latest advertisement (from any header it sends).
    pub fn advertise(&mut self, buf_alloc: u32, fwd_cnt: u32) {
        self.peer_buf_alloc = buf_alloc;
        self.peer_fwd_cnt = fwd_cnt;
    }

    /// Bytes in flight: sent but not yet consumed by the receiver, as far as it says.
    pub fn in_flight(&self) -> u32 {
        self.tx_cnt.wrapping_sub(self.peer_fwd_cnt)
    }

    /// `peer_free`: how many more bytes the sender may send now. A receiver that shrinks its
    /// buffer (or claims to have consumed more than it was sent) leaves no credit rather than
    /// a wrapped-around huge one.
    pub fn peer_free(&self) -> u32 {
        self.peer_buf_alloc.saturating_sub(self.in_flight())
    }

    /// Takes `len` bytes of credit for a data packet, or `Err` with the credit there was if
    /// the sender oversteps it (nothing is taken then).
    pub fn take(&mut self, len: u32) -> Result<(), u32> {
        let free = self.peer_free();
        if len > free {
            return Err(free);
        }
        self.tx_cnt = self.tx_cnt.wrapping_add(len);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_is_the_buffer_less_what_is_in_flight() {
        let mut credit = Credit::new(1000, 0);
        assert_eq!(credit.peer_free(), 1000);
        credit.take(600).unwrap();
        assert_eq!(credit.peer_free(), 400);
        assert_eq!(credit.take(401), Err(400));
        credit.take(400).unwrap();
        assert_eq!(credit.peer_free(), 0);
        // The receiver consumes 700 bytes.
        credit.advertise(1000, 700);
        assert_eq!(credit.peer_free(), 700);
    }

    #[test]
    fn counters_wrap_as_the_specification_says() {
        let mut credit = Credit::new(65536, 0);
        let mut fwd_cnt = 0u32;
        // 4 GiB and a bit through the connection: both counters wrap past u32::MAX.
        for _ in 0..(1u32 << 16) + 3 {
            credit.take(65536).unwrap();
            assert_eq!(credit.take(1), Err(0));
            fwd_cnt = fwd_cnt.wrapping_add(65536);
            credit.advertise(65536, fwd_cnt);
            assert_eq!(credit.peer_free(), 65536);
        }
        assert_eq!(fwd_cnt, 3 * 65536);
    }

    #[test]
    fn a_shrunken_or_lying_receiver_leaves_no_credit() {
        let mut credit = Credit::new(1000, 0);
        credit.take(800).unwrap();
        credit.advertise(500, 0);
        assert_eq!(credit.peer_free(), 0);
        // A receiver claiming to have consumed bytes never sent: "in flight" wraps huge.
        credit.advertise(1000, 5000);
        assert_eq!(credit.peer_free(), 0);
        assert_eq!(credit.take(1), Err(0));
    }
}
