//! The vsock switch: decides, for each packet a partition's driver puts on its tx queue, what
//! reaches whom.
//!
//! The hypervisor is the virtio-vsock *device* of every partition that has one; a stream
//! between two partitions is two driver-to-device links joined here. For each packet the
//! backend gives [`Switch::from_guest`] the sender, the header it copied out of guest memory
//! and how many payload bytes followed it in the chain; the switch answers with a
//! [`Verdict`]: forward it (header re-encoded from the checked fields, `header.len` payload
//! bytes to copy), refuse it with an RST to the sender, reset the connection at both ends, or
//! drop it. The switch never touches guest memory.
//!
//! Checks, in order (every header field is an allegation):
//! 1. `src_cid` is the sender's own CID (otherwise dropped: a spoofer gets no answer);
//! 2. `op` is one the specification defines, `type` is STREAM;
//! 3. `len` is 0 except for RW, at most [`MAX_PAYLOAD`] and at most the bytes present;
//! 4. the 4-tuple names a connection the switch knows, or is a REQUEST to a CID a configured
//!    channel lets the sender reach (otherwise: RST, connection refused);
//! 5. the connection's state machine and credit ([`super::connection`]) allow it.
//!
//! A sender is never answered an RST for its own RST (virtio 1.2 §5.10.6.4).
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use heapless::Vec;

use super::connection::{Connection, Step, Violation};
use super::header::{shutdown, Addr, Header, Op, Type, MAX_PAYLOAD};
use super::routes::{EndpointId, Routes};

/// The most connections open through the switch at once; a REQUEST beyond them is refused.
pub const MAX_CONNECTIONS: usize = 64;

/// A packet for a partition's rx queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The receiving endpoint.
    pub to: EndpointId,
    /// The header to write.
    pub header: Header,
}

/// Why a packet was not forwarded as it came.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `op` is not one the specification defines.
    UnknownOp(u16),
    /// `type` is not STREAM.
    UnsupportedType(u16),
    /// `src_cid` is not the sender's CID.
    SpoofedSource(u64),
    /// `len` on a packet that carries no data.
    LengthOnControl(u32),
    /// `len` over [`MAX_PAYLOAD`] or over the bytes in the chain.
    BadLength {
        /// The alleged length.
        len: u32,
        /// The payload bytes the chain held.
        present: u32,
    },
    /// No channel lets the sender reach the destination CID (or it is nobody's).
    NoRoute(u64),
    /// A packet other than REQUEST for a connection the switch does not know.
    NoConnection,
    /// [`MAX_CONNECTIONS`] are open.
    TableFull,
    /// The connection's state machine refused it.
    Protocol(Violation),
}

/// What to do with one packet from a driver's tx queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Deliver `header` and the first `header.len` payload bytes after the sender's header.
    Forward(Delivery),
    /// Do not forward; answer the sender with this RST (connection refused).
    Refuse {
        /// The RST for the sender.
        reply: Delivery,
        /// Why.
        why: Refusal,
    },
    /// The connection is torn down: an RST to each end.
    Reset {
        /// The RST for the sender.
        to_sender: Delivery,
        /// The RST for the peer.
        to_peer: Delivery,
        /// Why.
        why: Refusal,
    },
    /// Do not forward and do not answer.
    Drop(Refusal),
}

/// Packet counts since boot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Packets forwarded.
    pub forwarded: u64,
    /// Packets answered with an RST (connection refused).
    pub refused: u64,
    /// Connections reset for a violation.
    pub reset: u64,
    /// Packets dropped without an answer.
    pub dropped: u64,
}

/// The switch: the routing table and the open connections.
#[derive(Clone, Debug, Default)]
pub struct Switch {
    routes: Routes,
    connections: Vec<Connection, MAX_CONNECTIONS>,
    stats: Stats,
}

impl Switch {
    /// A switch over `routes` with no connections.
    pub fn new(routes: Routes) -> Self {
        Self {
            routes,
            connections: Vec::new(),
            stats: Stats::default(),
        }
    }

    /// The routing table.
    pub fn routes(&self) -> &Routes {
        &self.routes
    }

    /// Packet counts.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The number of open connections.
    pub fn open_connections(&self) -> usize {
        self.connections.len()
    }

    /// Decides packet `header` from endpoint `from`, whose chain held `present` payload bytes
    /// after the header.
    pub fn from_guest(&mut self, from: EndpointId, header: &Header, present: u32) -> Verdict {
        let verdict = self.decide(from, header, present);
        let count = match verdict {
            Verdict::Forward(_) => &mut self.stats.forwarded,
            Verdict::Refuse { .. } => &mut self.stats.refused,
            Verdict::Reset { .. } => &mut self.stats.reset,
            Verdict::Drop(_) => &mut self.stats.dropped,
        };
        *count = count.saturating_add(1);
        verdict
    }

    /// Every connection of endpoint `id` ends (its driver reset the device, or its partition
    /// stopped): an RST for each peer.
    pub fn detach(&mut self, id: EndpointId) -> Vec<Delivery, MAX_CONNECTIONS> {
        let mut resets = Vec::new();
        for connection in self.connections.iter().filter(|c| c.involves(id)) {
            let (near, far) = if connection.end(0).0 == id {
                (0, 1)
            } else {
                (1, 0)
            };
            let (_, near_addr) = connection.end(near);
            let (peer, peer_addr) = connection.end(far);
            if peer != id {
                let _ = resets.push(Delivery {
                    to: peer,
                    header: Header::reset(near_addr, peer_addr),
                });
            }
        }
        self.connections.retain(|c| !c.involves(id));
        resets
    }

    fn decide(&mut self, from: EndpointId, header: &Header, present: u32) -> Verdict {
        if self.routes.cid_of(from) != Some(header.src_cid) {
            return Verdict::Drop(Refusal::SpoofedSource(header.src_cid));
        }
        let Some(op) = header.op() else {
            return self.refuse_or_reset(from, header, Refusal::UnknownOp(header.op));
        };
        if header.kind != Type::Stream as u16 {
            return self.refuse_or_reset(from, header, Refusal::UnsupportedType(header.kind));
        }
        if op == Op::Rw {
            if header.len > MAX_PAYLOAD || header.len > present {
                let why = Refusal::BadLength {
                    len: header.len,
                    present,
                };
                return self.refuse_or_reset(from, header, why);
            }
        } else if header.len != 0 {
            return self.refuse_or_reset(from, header, Refusal::LengthOnControl(header.len));
        }
        let forward = |to: EndpointId| {
            Verdict::Forward(Delivery {
                to,
                header: checked(header, op),
            })
        };
        let Some(index) = self.find(header.src(), header.dst()) else {
            return self.open(from, header, op);
        };
        let Some(connection) = self.connections.get_mut(index) else {
            return Verdict::Drop(Refusal::NoConnection);
        };
        let Some(end) = connection.end_of(header.src(), header.dst()) else {
            return Verdict::Drop(Refusal::NoConnection);
        };
        let (peer, _) = connection.end(end ^ 1);
        match connection.on_packet(end, op, header) {
            Ok(Step::Forward) => forward(peer),
            Ok(Step::Close) => {
                self.connections.swap_remove(index);
                forward(peer)
            }
            Err(violation) => {
                self.connections.swap_remove(index);
                Verdict::Reset {
                    to_sender: Delivery {
                        to: from,
                        header: Header::reset(header.dst(), header.src()),
                    },
                    to_peer: Delivery {
                        to: peer,
                        header: Header::reset(header.src(), header.dst()),
                    },
                    why: Refusal::Protocol(violation),
                }
            }
        }
    }

    /// A packet for no known connection: a REQUEST opens one if a channel allows it; a stray
    /// RST passes to a reachable peer (which ignores it) or is dropped; anything else is refused.
    fn open(&mut self, from: EndpointId, header: &Header, op: Op) -> Verdict {
        let to = self
            .routes
            .endpoint_of(header.dst_cid)
            .filter(|&to| self.routes.allows(from, to));
        let Some(to) = to else {
            return self.refuse_or_reset(from, header, Refusal::NoRoute(header.dst_cid));
        };
        match op {
            Op::Request => {
                let connection = Connection::requested(from, to, header);
                if self.connections.push(connection).is_err() {
                    return self.refuse_or_reset(from, header, Refusal::TableFull);
                }
                Verdict::Forward(Delivery {
                    to,
                    header: checked(header, op),
                })
            }
            Op::Rst => Verdict::Forward(Delivery {
                to,
                header: checked(header, op),
            }),
            _ => self.refuse_or_reset(from, header, Refusal::NoConnection),
        }
    }

    /// Refuses a packet with an RST to its sender, tearing down the connection it names if
    /// there is one (an RST is never answered: it is dropped).
    fn refuse_or_reset(&mut self, from: EndpointId, header: &Header, why: Refusal) -> Verdict {
        let reply = Delivery {
            to: from,
            header: Header::reset(header.dst(), header.src()),
        };
        if let Some(index) = self.find(header.src(), header.dst()) {
            if let Some(connection) = self.connections.get(index) {
                let end = connection.end_of(header.src(), header.dst()).unwrap_or(0);
                let (peer, _) = connection.end(end ^ 1);
                self.connections.swap_remove(index);
                let to_peer = Delivery {
                    to: peer,
                    header: Header::reset(header.src(), header.dst()),
                };
                return Verdict::Reset {
                    to_sender: reply,
                    to_peer,
                    why,
                };
            }
        }
        if header.op == Op::Rst as u16 {
            return Verdict::Drop(why);
        }
        Verdict::Refuse { reply, why }
    }

    fn find(&self, src: Addr, dst: Addr) -> Option<usize> {
        self.connections
            .iter()
            .position(|c| c.end_of(src, dst).is_some())
    }
}

/// The header the switch forwards: the checked fields re-encoded, unknown flag bits cleared.
fn checked(header: &Header, op: Op) -> Header {
    let flags = if op == Op::Shutdown {
        header.flags & shutdown::BOTH
    } else {
        0
    };
    Header {
        kind: Type::Stream as u16,
        op: op as u16,
        flags,
        ..*header
    }
}

#[cfg(test)]
#[path = "switch_tests.rs"]
mod tests;
