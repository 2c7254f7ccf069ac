//! One stream connection through the switch and its state machine (virtio 1.2 §5.10.6.4-6).
//!
//! ```text
//!   (none) --REQUEST a->b--> Requested --RESPONSE b->a--> Established
//!   Requested:   RST from either end closes; anything else is a protocol violation
//!   Established: RW (within credit, not after the sender's SHUTDOWN SEND), CREDIT_UPDATE,
//!                CREDIT_REQUEST, SHUTDOWN (flags accumulate per end) pass; RST closes, and
//!                so does the second end's full shutdown; REQUEST and RESPONSE are violations
//! ```
//!
//! End 0 is the initiator (it sent the REQUEST), end 1 the listener. Every header an end
//! sends advertises its receive credit, which the books of the other direction record.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use super::credit::Credit;
use super::header::{shutdown, Addr, Header, Op};
use super::routes::EndpointId;

/// Where a connection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// The initiator's REQUEST went through; the listener has not answered.
    Requested,
    /// The listener sent RESPONSE.
    Established,
}

/// A protocol violation by the sending end: the switch resets the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Violation {
    /// An op not allowed in the connection's state (a second REQUEST, data before RESPONSE).
    OutOfOrder(Op),
    /// Data beyond the receiver's credit: the bytes offered and the credit there was.
    NoCredit {
        /// `len` of the packet.
        len: u32,
        /// `peer_free` at the time.
        free: u32,
    },
    /// Data after the sender's own SHUTDOWN with the SEND flag.
    SentAfterShutdown,
}

/// What the packet does to the connection, when it is allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Forward it; the connection stays.
    Forward,
    /// Forward it; the connection is over (RST, or both ends fully shut down).
    Close,
}

/// One connection: its two ends, its state, each end's shutdown flags and each direction's
/// credit books.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Connection {
    /// The endpoints and addresses of end 0 (initiator) and end 1 (listener).
    ends: [(EndpointId, Addr); 2],
    state: State,
    /// Shutdown flags each end has sent.
    shut: [u32; 2],
    /// `credit[i]`: the books of data from end `i` to the other end.
    credit: [Credit; 2],
}

impl Connection {
    /// A connection opened by `request`, sent by `initiator` to `listener`.
    pub fn requested(initiator: EndpointId, listener: EndpointId, request: &Header) -> Self {
        Self {
            ends: [(initiator, request.src()), (listener, request.dst())],
            state: State::Requested,
            shut: [0; 2],
            // The listener's data to the initiator may use what the REQUEST advertised.
            credit: [
                Credit::default(),
                Credit::new(request.buf_alloc, request.fwd_cnt),
            ],
        }
    }

    /// Which end sends a packet from `src` to `dst`, if it belongs to this connection.
    pub fn end_of(&self, src: Addr, dst: Addr) -> Option<usize> {
        let [(_, a), (_, b)] = self.ends;
        if src == a && dst == b {
            Some(0)
        } else if src == b && dst == a {
            Some(1)
        } else {
            None
        }
    }

    /// Whether endpoint `id` is one of the ends.
    pub fn involves(&self, id: EndpointId) -> bool {
        self.ends.iter().any(|(end, _)| *end == id)
    }

    /// End `end`'s endpoint and address (`end` is 0 or 1; anything else reads as 1).
    pub fn end(&self, end: usize) -> (EndpointId, Addr) {
        let [a, b] = self.ends;
        if end == 0 {
            a
        } else {
            b
        }
    }

    /// The connection's state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The books of data from end `end` (0 or 1).
    pub fn credit(&self, end: usize) -> Credit {
        let [a, b] = self.credit;
        if end == 0 {
            a
        } else {
            b
        }
    }

    /// Applies packet `header` (op `op`, already checked for type, length and addresses) sent
    /// by end `from` (0 or 1).
    pub fn on_packet(&mut self, from: usize, op: Op, header: &Header) -> Result<Step, Violation> {
        let from = usize::from(from != 0);
        let to = from ^ 1;
        let step = match (self.state, op) {
            (_, Op::Rst) => Step::Close,
            (State::Requested, Op::Response) if from == 1 => {
                self.state = State::Established;
                // The initiator's data may use what the RESPONSE advertises.
                if let Some(books) = self.credit.get_mut(0) {
                    *books = Credit::new(header.buf_alloc, header.fwd_cnt);
                }
                return Ok(Step::Forward);
            }
            (State::Established, Op::Rw) => {
                if self
                    .shut
                    .get(from)
                    .is_some_and(|flags| flags & shutdown::SEND != 0)
                {
                    return Err(Violation::SentAfterShutdown);
                }
                if let Some(books) = self.credit.get_mut(from) {
                    books.take(header.len).map_err(|free| Violation::NoCredit {
                        len: header.len,
                        free,
                    })?;
                }
                Step::Forward
            }
            (State::Established, Op::CreditUpdate | Op::CreditRequest) => Step::Forward,
            (State::Established, Op::Shutdown) => {
                if let Some(flags) = self.shut.get_mut(from) {
                    *flags |= header.flags & shutdown::BOTH;
                }
                if self.shut == [shutdown::BOTH; 2] {
                    Step::Close
                } else {
                    Step::Forward
                }
            }
            (_, op) => return Err(Violation::OutOfOrder(op)),
        };
        // Every header advertises the sender's receive credit to the other direction's books.
        if let Some(books) = self.credit.get_mut(to) {
            books.advertise(header.buf_alloc, header.fwd_cnt);
        }
        Ok(step)
    }
}
