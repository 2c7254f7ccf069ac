//! Host tests of the serial link: two fake drivers, one with MULTIPORT (as Linux), one without
//! (as `virtio-drivers`).

use super::control::{self, Control};
use super::*;
use crate::virtio::fake_driver::{FakeDriver, SLOT};
use crate::virtio::transport::reg;
use crate::virtio::{status, F_VERSION_1};

struct Pair {
    link: SerialLink,
    drivers: [FakeDriver; 2],
}

impl Pair {
    fn new() -> Self {
        Pair {
            link: SerialLink::new("rtos-link"),
            drivers: [FakeDriver::new(), FakeDriver::new()],
        }
    }

    fn notify(&mut self, side: usize, queue: u16) -> [bool; 2] {
        FakeDriver::write(
            &mut self.link.sides[side],
            reg::QUEUE_NOTIFY,
            u32::from(queue),
        );
        let [a, b] = &mut self.drivers;
        self.link.service(side, [&mut a.memory, &mut b.memory])
    }

    /// Side 0 as Linux: MULTIPORT, DEVICE_READY, PORT_READY, PORT_OPEN; returns the control
    /// messages it received.
    fn linux_up(&mut self) -> Vec<(Control, Vec<u8>)> {
        let t = &mut self.link.sides[0];
        let s = self.drivers[0].bring_up(t, F_VERSION_1 | F_MULTIPORT, 4);
        assert_ne!(s & status::DRIVER_OK, 0);
        let mut received = Vec::new();
        for _ in 0..4 {
            self.drivers[0].offer(CONTROL_RX, &[], 64);
        }
        self.notify(0, CONTROL_RX);
        let send = |p: &mut Pair, c: Control| {
            p.drivers[0].offer(CONTROL_TX, &c.encode(), 0);
            p.notify(0, CONTROL_TX);
            p.drivers[0].take_used(CONTROL_TX);
        };
        send(
            self,
            Control {
                id: 0xffff_ffff,
                event: control::DEVICE_READY,
                value: 1,
            },
        );
        send(
            self,
            Control {
                id: 0,
                event: control::PORT_READY,
                value: 1,
            },
        );
        send(
            self,
            Control {
                id: 0,
                event: control::PORT_OPEN,
                value: 1,
            },
        );
        for (_, bytes) in self.drivers[0].take_used(CONTROL_RX) {
            let header: [u8; 8] = bytes[..8].try_into().unwrap();
            received.push((Control::decode(header), bytes[8..].to_vec()));
        }
        received
    }

    fn rtos_up(&mut self) {
        let s = self.drivers[1].bring_up(&mut self.link.sides[1], F_VERSION_1, 2);
        assert_ne!(s & status::DRIVER_OK, 0);
    }
}

#[test]
fn a_multiport_driver_learns_the_port_and_its_name() {
    let mut p = Pair::new();
    let received = p.linux_up();
    let events: Vec<_> = received
        .iter()
        .map(|(c, _)| (c.id, c.event, c.value))
        .collect();
    assert_eq!(
        events,
        [
            (0, control::DEVICE_ADD, 0),
            (0, control::PORT_NAME, 0),
            (0, control::PORT_OPEN, 1)
        ]
    );
    assert_eq!(received[1].1, b"rtos-link");
    assert!(p.link.sides[0].backend.guest_open);
}

/// Sends `data` from `from` in buffers of `chunk` bytes while `to` offers receive buffers of
/// `room`; returns what `to` received.
fn stream(p: &mut Pair, from: usize, data: &[u8], chunk: usize, room: u32) -> Vec<u8> {
    let to = 1 - from;
    let mut got = Vec::new();
    let mut pieces = data.chunks(chunk).peekable();
    for _ in 0..10_000 {
        while pieces.peek().is_some()
            && p.drivers[from]
                .offer(TX, pieces.peek().unwrap(), 0)
                .is_some()
        {
            pieces.next();
        }
        p.notify(from, TX);
        p.drivers[from].take_used(TX);
        while p.drivers[to].offer(RX, &[], room).is_some() {}
        p.notify(to, RX);
        for (_, bytes) in p.drivers[to].take_used(RX) {
            got.extend_from_slice(&bytes);
        }
        if got.len() == data.len() {
            break;
        }
    }
    got
}

#[test]
fn bytes_cross_both_ways_in_order_with_none_lost() {
    let mut p = Pair::new();
    p.linux_up();
    p.rtos_up();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    assert_eq!(stream(&mut p, 0, &data, 4096, 100), data);
    assert_eq!(stream(&mut p, 1, &data, 333, SLOT as u32), data);
}

#[test]
fn a_peer_without_receive_buffers_holds_the_sender_back() {
    let mut p = Pair::new();
    p.linux_up();
    p.rtos_up();
    p.drivers[1].offer(TX, b"hello", 0);
    p.notify(1, TX);
    // Linux has no receive buffer: the chain is held, not given back.
    assert!(p.drivers[1].take_used(TX).is_empty());
    p.drivers[0].offer(RX, &[], 3);
    let raise = p.notify(0, RX);
    assert_eq!(raise, [true, false]);
    assert_eq!(p.drivers[0].take_used(RX)[0].1, b"hel");
    assert!(p.drivers[1].take_used(TX).is_empty());
    p.drivers[0].offer(RX, &[], 64);
    let raise = p.notify(0, RX);
    assert_eq!(raise, [true, true]);
    assert_eq!(p.drivers[0].take_used(RX)[0].1, b"lo");
    assert_eq!(p.drivers[1].take_used(TX).len(), 1);
}

#[test]
fn a_malformed_queue_resets_only_that_side() {
    let mut p = Pair::new();
    p.linux_up();
    p.rtos_up();
    // The RTOS side points a transmit buffer outside its RAM.
    p.drivers[1].set_desc(TX, 0, 0x1000, 16, 0, 0);
    p.drivers[1].publish(TX, 0);
    let raise = p.notify(1, TX);
    assert!(raise[1]);
    assert_ne!(p.link.sides[1].status() & status::DEVICE_NEEDS_RESET, 0);
    assert_eq!(p.link.sides[0].status() & status::DEVICE_NEEDS_RESET, 0);
    // Linux's side keeps working once the RTOS resets and comes back.
    p.rtos_up();
    assert_eq!(stream(&mut p, 0, b"still here", 4, 64), b"still here");
}
