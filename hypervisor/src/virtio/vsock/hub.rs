//! The hub: moves packets between the partitions' virtio-vsock devices as the [`Switch`]
//! decides.
//!
//! After any vsock device is notified, the caller runs [`Hub::pump`] over every endpoint's
//! transport and memory (endpoint `i` at index `i`). For each endpoint the hub takes tx chains,
//! copies the 44-byte header out once and asks the switch; a forwarded packet is copied into
//! the receiver's rx buffers (split over several when they are smaller, each with its own
//! header, as a stream allows), the refusals and resets the switch makes go to per-endpoint
//! outboxes delivered before any data. A packet whose receiver has no rx buffer waits, holding
//! its tx chain, until the receiver posts one (the sender's later packets wait behind it, so
//! nothing is reordered). The payload goes through a bounce buffer of [`BOUNCE`] bytes: no
//! partition's memory is ever mapped into another's view.
//!
//! Work per call is bounded ([`MAX_STEPS`] rounds, each at most [`BOUNCE`] bytes per endpoint)
//! so a notify storm or a 64 KiB packet cannot hold the lock, and the CPU, for long. What is
//! left moves on the next access: each round that gives buffers back raises the driver's
//! interrupt, and the driver's InterruptACK store pumps again.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use heapless::Deque;

use super::device::{VsockDevice, RX, TX};
use super::header::{Header, HEADER_LEN};
use super::routes::{EndpointId, MAX_ENDPOINTS};
use super::switch::{Delivery, Switch, Verdict};
use crate::virtio::guest_memory::GuestMemory;
use crate::virtio::queue::Chain;
use crate::virtio::Transport;

/// The bounce buffer's size: the most payload moved in one step.
pub const BOUNCE: usize = 4096;
/// Control packets waiting for one endpoint's rx queue; more are dropped (and counted).
pub const OUTBOX: usize = 16;
/// The most packet steps one [`Hub::pump`] does.
pub const MAX_STEPS: usize = 64;

/// One endpoint as the hub reaches it: its device's transport and its partition's memory.
pub struct Endpoint<'a> {
    /// The partition's vsock transport.
    pub transport: &'a mut Transport<VsockDevice>,
    /// The partition's RAM through its stage-2 view.
    pub memory: &'a mut dyn GuestMemory,
}

/// A forwarded packet waiting to be copied: the sender's tx chain and how far it got.
#[derive(Clone, Debug)]
struct Held {
    chain: Chain,
    delivery: Delivery,
    sent: u32,
}

/// Hub counters since boot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HubStats {
    /// tx chains shorter than a header (given back unread).
    pub short_chains: u64,
    /// rx chains with no room for a header (given back empty).
    pub small_rx: u64,
    /// Control packets dropped because an outbox was full.
    pub outbox_overflow: u64,
    /// Payload bytes copied.
    pub bytes: u64,
}

/// The switch and the packets in flight.
pub struct Hub {
    switch: Switch,
    held: [Option<Held>; MAX_ENDPOINTS],
    outbox: [Deque<Header, OUTBOX>; MAX_ENDPOINTS],
    bounce: [u8; BOUNCE],
    stats: HubStats,
}

impl Hub {
    /// A hub over `switch`.
    pub fn new(switch: Switch) -> Self {
        Self {
            switch,
            held: Default::default(),
            outbox: Default::default(),
            bounce: [0; BOUNCE],
            stats: HubStats::default(),
        }
    }

    /// The switch (its routes and counters).
    pub fn switch(&self) -> &Switch {
        &self.switch
    }

    /// Hub counters.
    pub fn stats(&self) -> HubStats {
        self.stats
    }

    /// Moves what can move now. Returns a mask of the endpoints whose interrupt to raise.
    pub fn pump(&mut self, endpoints: &mut [Endpoint<'_>]) -> u32 {
        let mut raise = 0u32;
        self.notice_resets(endpoints, &mut raise);
        for _ in 0..MAX_STEPS {
            let mut progress = false;
            for index in 0..endpoints.len().min(MAX_ENDPOINTS) {
                let id = EndpointId(u8::try_from(index).unwrap_or(u8::MAX));
                progress |= self.flush_outbox(id, endpoints, &mut raise);
                progress |= self.step_tx(id, endpoints, &mut raise);
            }
            if !progress {
                break;
            }
        }
        raise
    }

    /// Endpoints whose driver reset the device: their connections end (RSTs to the peers),
    /// their held packet and outbox go, and packets held for them are given back.
    fn notice_resets(&mut self, endpoints: &mut [Endpoint<'_>], raise: &mut u32) {
        for index in 0..endpoints.len().min(MAX_ENDPOINTS) {
            let Some(endpoint) = endpoints.get_mut(index) else {
                continue;
            };
            if !core::mem::take(&mut endpoint.transport.backend.reset_seen) {
                continue;
            }
            let id = EndpointId(u8::try_from(index).unwrap_or(u8::MAX));
            if let Some(slot) = self.held.get_mut(index) {
                *slot = None;
            }
            if let Some(outbox) = self.outbox.get_mut(index) {
                outbox.clear();
            }
            for reset in self.switch.detach(id) {
                self.post(reset);
            }
            for sender in 0..MAX_ENDPOINTS {
                let waiting_for_it = self
                    .held
                    .get(sender)
                    .is_some_and(|h| h.as_ref().is_some_and(|h| h.delivery.to == id));
                if waiting_for_it {
                    if let Some(held) = self.held.get_mut(sender).and_then(Option::take) {
                        let done = retire(endpoints, sender, &held.chain);
                        mark(raise, sender, done);
                    }
                }
            }
        }
    }

    fn post(&mut self, delivery: Delivery) {
        let queued = self
            .outbox
            .get_mut(usize::from(delivery.to.0))
            .map(|outbox| outbox.push_back(delivery.header).is_ok());
        if queued != Some(true) {
            self.stats.outbox_overflow = self.stats.outbox_overflow.saturating_add(1);
        }
    }

    /// Delivers `id`'s first waiting control packet if it has an rx buffer.
    fn flush_outbox(
        &mut self,
        id: EndpointId,
        endpoints: &mut [Endpoint<'_>],
        raise: &mut u32,
    ) -> bool {
        let index = usize::from(id.0);
        let Some(header) = self.outbox.get(index).and_then(|o| o.front().copied()) else {
            return false;
        };
        let Some(endpoint) = endpoints.get_mut(index) else {
            return false;
        };
        let mut delivered = false;
        let stats = &mut self.stats;
        let interrupt = endpoint
            .transport
            .with_queues(endpoint.memory, |_, access| {
                while let Some(chain) = access.pop(RX)? {
                    if chain.writable_len() < HEADER_LEN as u64 {
                        stats.small_rx = stats.small_rx.saturating_add(1);
                        access.push_used(RX, &chain, 0)?;
                        continue;
                    }
                    access.write(&chain, 0, &header.encode());
                    access.push_used(RX, &chain, HEADER_LEN as u32)?;
                    delivered = true;
                    break;
                }
                Ok(())
            });
        mark(raise, index, interrupt);
        if delivered {
            if let Some(outbox) = self.outbox.get_mut(index) {
                outbox.pop_front();
            }
        }
        delivered
    }

    /// One step of `id`'s transmit side: take a packet and decide it, or move a piece of the
    /// held one. Whether anything moved.
    fn step_tx(&mut self, id: EndpointId, endpoints: &mut [Endpoint<'_>], raise: &mut u32) -> bool {
        let index = usize::from(id.0);
        if self.held.get(index).is_some_and(Option::is_none) {
            return self.take_tx(id, endpoints, raise);
        }
        self.copy_held(index, endpoints, raise)
    }

    fn take_tx(&mut self, id: EndpointId, endpoints: &mut [Endpoint<'_>], raise: &mut u32) -> bool {
        let index = usize::from(id.0);
        // Refusals go to the sender's outbox: stop taking while it is nearly full.
        if self.outbox.get(index).is_none_or(|o| o.len() >= OUTBOX / 2) {
            return false;
        }
        let Some(endpoint) = endpoints.get_mut(index) else {
            return false;
        };
        let mut taken = None;
        let stats = &mut self.stats;
        let interrupt = endpoint
            .transport
            .with_queues(endpoint.memory, |_, access| {
                while let Some(chain) = access.pop(TX)? {
                    let mut bytes = [0u8; HEADER_LEN];
                    if access.read(&chain, 0, &mut bytes) < HEADER_LEN {
                        stats.short_chains = stats.short_chains.saturating_add(1);
                        access.push_used(TX, &chain, 0)?;
                        continue;
                    }
                    taken = Some((chain, Header::decode(&bytes)));
                    break;
                }
                Ok(())
            });
        mark(raise, index, interrupt);
        let Some((chain, header)) = taken else {
            return false;
        };
        let present = u32::try_from(chain.readable_len().saturating_sub(HEADER_LEN as u64))
            .unwrap_or(u32::MAX);
        match self.switch.from_guest(id, &header, present) {
            Verdict::Forward(delivery) => {
                if let Some(slot) = self.held.get_mut(index) {
                    *slot = Some(Held {
                        chain,
                        delivery,
                        sent: 0,
                    });
                }
                return true;
            }
            Verdict::Refuse { reply, .. } => self.post(reply),
            Verdict::Reset {
                to_sender, to_peer, ..
            } => {
                self.post(to_sender);
                self.post(to_peer);
            }
            Verdict::Drop(_) => {}
        }
        let done = retire(endpoints, index, &chain);
        mark(raise, index, done);
        true
    }

    /// Copies the next piece of endpoint `index`'s held packet into one rx chain of its
    /// receiver; retires the tx chain when all of it is across.
    fn copy_held(&mut self, index: usize, endpoints: &mut [Endpoint<'_>], raise: &mut u32) -> bool {
        let Some(Some(held)) = self.held.get(index) else {
            return false;
        };
        let (to, header, sent, tx_chain) = (
            usize::from(held.delivery.to.0),
            held.delivery.header,
            held.sent,
            held.chain.clone(),
        );
        // The receiver's control packets (an RST for this very connection, say) go first.
        if self.outbox.get(to).is_some_and(|o| !o.is_empty()) {
            return false;
        }
        let Some(receiver) = endpoints.get_mut(to) else {
            return false;
        };
        let mut rx = None;
        let stats = &mut self.stats;
        let interrupt = receiver
            .transport
            .with_queues(receiver.memory, |_, access| {
                while let Some(chain) = access.pop(RX)? {
                    if chain.writable_len() < HEADER_LEN as u64 {
                        stats.small_rx = stats.small_rx.saturating_add(1);
                        access.push_used(RX, &chain, 0)?;
                        continue;
                    }
                    rx = Some(chain);
                    break;
                }
                Ok(())
            });
        mark(raise, to, interrupt);
        let Some(rx) = rx else { return false };
        let room = rx.writable_len().saturating_sub(HEADER_LEN as u64);
        let left = header.len.saturating_sub(sent);
        let chunk = u32::try_from(room.min(u64::from(left)).min(BOUNCE as u64)).unwrap_or(0);
        if chunk == 0 && left > 0 {
            // Room for a header only: no use for data.
            self.stats.small_rx = self.stats.small_rx.saturating_add(1);
            let interrupt = receiver_give_back(endpoints, to, &rx);
            mark(raise, to, interrupt);
            return true;
        }
        let Some(bounce) = self.bounce.get_mut(..chunk as usize) else {
            return false;
        };
        // Read the piece from the sender's chain, then write it to the receiver's.
        if let Some(sender) = endpoints.get_mut(index) {
            let from = (HEADER_LEN as u64).saturating_add(u64::from(sent));
            sender.transport.with_queues(sender.memory, |_, access| {
                access.read(&tx_chain, from, bounce);
                Ok(())
            });
        }
        let piece = Header {
            len: chunk,
            ..header
        };
        if let Some(receiver) = endpoints.get_mut(to) {
            let written = chunk.saturating_add(HEADER_LEN as u32);
            let interrupt = receiver
                .transport
                .with_queues(receiver.memory, |_, access| {
                    access.write(&rx, 0, &piece.encode());
                    access.write(&rx, HEADER_LEN as u64, bounce);
                    access.push_used(RX, &rx, written)
                });
            mark(raise, to, interrupt);
        }
        self.stats.bytes = self.stats.bytes.saturating_add(u64::from(chunk));
        let sent = sent.saturating_add(chunk);
        if sent >= header.len {
            if let Some(slot) = self.held.get_mut(index) {
                *slot = None;
            }
            let done = retire(endpoints, index, &tx_chain);
            mark(raise, index, done);
        } else if let Some(Some(held)) = self.held.get_mut(index) {
            held.sent = sent;
        }
        true
    }
}

/// Gives endpoint `index`'s tx chain back (nothing written). Whether to interrupt it.
fn retire(endpoints: &mut [Endpoint<'_>], index: usize, chain: &Chain) -> bool {
    endpoints.get_mut(index).is_some_and(|endpoint| {
        endpoint
            .transport
            .with_queues(endpoint.memory, |_, access| access.push_used(TX, chain, 0))
    })
}

/// Gives endpoint `index`'s rx chain back empty. Whether to interrupt it.
fn receiver_give_back(endpoints: &mut [Endpoint<'_>], index: usize, chain: &Chain) -> bool {
    endpoints.get_mut(index).is_some_and(|endpoint| {
        endpoint
            .transport
            .with_queues(endpoint.memory, |_, access| access.push_used(RX, chain, 0))
    })
}

fn mark(raise: &mut u32, index: usize, interrupt: bool) {
    if interrupt && index < 32 {
        *raise |= 1u32 << index;
    }
}

#[cfg(test)]
#[path = "hub_tests.rs"]
mod tests;
