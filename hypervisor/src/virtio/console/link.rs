//! A null-modem cable between two virtio-console ports: what one side transmits arrives in
//! the other's receive buffers, in order, and nothing is dropped. A transmit chain is held,
//! not given back, until the peer has taken all of it (back-pressure: the driver runs out of
//! transmit buffers, its writes block).

use super::device::{ConsoleDevice, Held};
use super::{RX, TX};
use crate::virtio::backend::QueueAccess;
use crate::virtio::guest_memory::GuestMemory;
use crate::virtio::queue::QueueError;
use crate::virtio::transport::Transport;

/// The most chains one pump moves per direction (bounds the time a notify spends at EL2;
/// whatever is left moves at the next notify of either side).
const MAX_CHAINS_PER_PUMP: usize = 512;
/// The bounce buffer's size.
const CHUNK: usize = 512;

/// Two partitions' console devices, joined.
#[derive(Debug)]
pub struct SerialLink {
    /// The devices, in the order of the channel's `partitions`.
    pub sides: [Transport<ConsoleDevice>; 2],
}

impl SerialLink {
    /// A link whose ports are both called `name`.
    pub fn new(name: &str) -> Self {
        SerialLink {
            sides: [
                Transport::new(ConsoleDevice::new(name)),
                Transport::new(ConsoleDevice::new(name)),
            ],
        }
    }

    /// Serves side `side`'s notifications, then moves data both ways. `memory` holds each
    /// side's guest memory. Returns, per side, whether its interrupt must be raised.
    pub fn service(&mut self, side: usize, memory: [&mut dyn GuestMemory; 2]) -> [bool; 2] {
        let [m0, m1] = memory;
        let mut raise = [false; 2];
        if let Some(transport) = self.sides.get_mut(side) {
            let own: &mut dyn GuestMemory = if side == 0 { &mut *m0 } else { &mut *m1 };
            if let Some(flag) = raise.get_mut(side) {
                *flag |= transport.service(own);
            }
        }
        let [a, b] = &mut self.sides;
        let (ab_from, ab_to) = pump(a, b, &mut *m0, &mut *m1);
        let (ba_from, ba_to) = pump(b, a, &mut *m1, &mut *m0);
        let [r0, r1] = &mut raise;
        *r0 |= ab_from | ba_to;
        *r1 |= ab_to | ba_from;
        raise
    }
}

/// Moves `from`'s transmitted bytes into `to`'s receive buffers. Returns whether each side's
/// interrupt must be raised.
fn pump(
    from: &mut Transport<ConsoleDevice>,
    to: &mut Transport<ConsoleDevice>,
    from_memory: &mut dyn GuestMemory,
    to_memory: &mut dyn GuestMemory,
) -> (bool, bool) {
    if !to.is_live() || !to.backend.guest_open {
        return (false, false);
    }
    let mut raise_to = false;
    let raise_from = from.with_queues(from_memory, |device, from_q| {
        for _ in 0..MAX_CHAINS_PER_PUMP {
            if !device.guest_open {
                return Ok(());
            }
            let mut held = match device.held.take() {
                Some(held) => held,
                None => match from_q.pop(TX)? {
                    Some(chain) => Held { chain, sent: 0 },
                    None => return Ok(()),
                },
            };
            if held.sent >= held.chain.readable_len() {
                from_q.push_used(TX, &held.chain, 0)?;
                continue;
            }
            let mut moved = false;
            raise_to |= to.with_queues(to_memory, |_, to_q| {
                deliver(from_q, &mut held, to_q).map(|m| moved = m)
            });
            if !moved {
                // The peer has no receive buffer (or broke): keep the chain for later.
                device.held = Some(held);
                return Ok(());
            }
            device.held = Some(held);
        }
        Ok(())
    });
    (raise_from, raise_to)
}

/// Fills one receive chain of the peer from `held`; false if the peer had none.
fn deliver(
    from_q: &QueueAccess<'_>,
    held: &mut Held,
    to_q: &mut QueueAccess<'_>,
) -> Result<bool, QueueError> {
    let Some(rx) = to_q.pop(RX)? else {
        return Ok(false);
    };
    let room = rx.writable_len();
    let mut written = 0u64;
    let mut chunk = [0u8; CHUNK];
    while written < room {
        let want = usize::try_from((room - written).min(CHUNK as u64)).unwrap_or(CHUNK);
        let Some(buf) = chunk.get_mut(..want) else {
            break;
        };
        let got = from_q.read(&held.chain, held.sent, buf);
        if got == 0 {
            break;
        }
        let put = to_q.write(&rx, written, buf.get(..got).unwrap_or_default());
        written += put as u64;
        held.sent += put as u64;
        if put < got {
            break;
        }
    }
    to_q.push_used(RX, &rx, u32::try_from(written).unwrap_or(u32::MAX))?;
    Ok(true)
}
