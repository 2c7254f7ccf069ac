//! The hub over two or three fake partitions, each with a driver that programs its vsock
//! device's queues through the transport's registers, as Linux's virtio_mmio does.

use super::*;
use crate::devices::{perform, AccessWidth, DeviceAccess, DeviceEffects};
use crate::virtio::guest_memory::FakeMemory;
use crate::virtio::queue::{DESC_F_NEXT, DESC_F_WRITE};
use crate::virtio::transport::reg;
use crate::virtio::vsock::header::{shutdown, Addr, Op};
use crate::virtio::vsock::routes::Routes;
use crate::virtio::{status, F_VERSION_1};
use std::vec::Vec;

const BASE: u64 = 0x4000_0000;
const SIZE: u16 = 16;
/// Each rx buffer: a header and 1 KiB, so a 4 KiB packet arrives in pieces.
const RX_BUF: u32 = HEADER_LEN as u32 + 1024;

fn desc_table(q: u16) -> u64 {
    BASE + u64::from(q) * 0x3000
}
fn avail(q: u16) -> u64 {
    desc_table(q) + 0x1000
}
fn used(q: u16) -> u64 {
    desc_table(q) + 0x2000
}
/// Buffer of descriptor `i` of queue `q` (64 KiB + a header each).
fn buffer(q: u16, i: u16) -> u64 {
    BASE + 0x10_0000 + (u64::from(q) * u64::from(SIZE) + u64::from(i)) * 0x1_1000
}

/// One partition: memory, its device and the driver's bookkeeping.
struct Guest {
    memory: FakeMemory,
    transport: Transport<VsockDevice>,
    avail_idx: [u16; 3],
    used_seen: [u16; 3],
    free_tx: Vec<u16>,
}

fn wr(t: &mut Transport<VsockDevice>, offset: u64, value: u64) {
    let access = DeviceAccess {
        offset,
        width: AccessWidth::Word,
        vcpu: 0,
    };
    perform(t, access, Some(value), &mut DeviceEffects::new()).unwrap();
}

fn rd(t: &mut Transport<VsockDevice>, offset: u64) -> u64 {
    let access = DeviceAccess {
        offset,
        width: AccessWidth::Word,
        vcpu: 0,
    };
    perform(t, access, None, &mut DeviceEffects::new()).unwrap()
}

impl Guest {
    fn new(cid: u64) -> Self {
        let mut guest = Guest {
            memory: FakeMemory::new(BASE, 0x50_0000),
            transport: Transport::new(VsockDevice::new(cid)),
            avail_idx: [0; 3],
            used_seen: [0; 3],
            free_tx: (0..SIZE / 2).collect(),
        };
        let t = &mut guest.transport;
        wr(
            t,
            reg::STATUS,
            u64::from(status::ACKNOWLEDGE | status::DRIVER),
        );
        wr(t, reg::DRIVER_FEATURES_SEL, 1);
        wr(t, reg::DRIVER_FEATURES, F_VERSION_1 >> 32);
        wr(
            t,
            reg::STATUS,
            u64::from(status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK),
        );
        for q in 0..3 {
            wr(t, reg::QUEUE_SEL, u64::from(q));
            wr(t, reg::QUEUE_NUM, u64::from(SIZE));
            wr(t, reg::QUEUE_DESC_LOW, desc_table(q));
            wr(t, reg::QUEUE_DRIVER_LOW, avail(q));
            wr(t, reg::QUEUE_DEVICE_LOW, used(q));
            wr(t, reg::QUEUE_READY, 1);
        }
        let ok = status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK | status::DRIVER_OK;
        wr(t, reg::STATUS, u64::from(ok));
        assert_eq!(rd(t, reg::STATUS) as u32, ok);
        assert_eq!(rd(t, reg::DEVICE_ID), 19);
        assert_eq!(rd(t, reg::CONFIG), cid & 0xffff_ffff);
        guest
    }

    fn desc(&mut self, q: u16, i: u16, addr: u64, len: u32, flags: u16, next: u16) {
        let mut raw = [0u8; 16];
        raw[..8].copy_from_slice(&addr.to_le_bytes());
        raw[8..12].copy_from_slice(&len.to_le_bytes());
        raw[12..14].copy_from_slice(&flags.to_le_bytes());
        raw[14..].copy_from_slice(&next.to_le_bytes());
        self.memory
            .write(desc_table(q) + 16 * u64::from(i), &raw)
            .unwrap();
    }

    fn publish(&mut self, q: u16, head: u16) {
        let idx = &mut self.avail_idx[usize::from(q)];
        let slot = u64::from(*idx % SIZE);
        self.memory
            .write_u16(avail(q) + 4 + 2 * slot, head)
            .unwrap();
        *idx = idx.wrapping_add(1);
        let idx = *idx;
        self.memory.write_u16(avail(q) + 2, idx).unwrap();
    }

    fn notify(&mut self, q: u16) {
        wr(&mut self.transport, reg::QUEUE_NOTIFY, u64::from(q));
        self.transport.service(&mut self.memory);
    }

    /// Posts rx buffers in descriptors `0..count`.
    fn post_rx(&mut self, count: u16) {
        for i in 0..count {
            self.desc(RX, i, buffer(RX, i), RX_BUF, DESC_F_WRITE, 0);
            self.publish(RX, i);
        }
        self.notify(RX);
    }

    /// Sends one packet: a header descriptor chained to a payload descriptor.
    fn send(&mut self, header: Header, payload: &[u8]) {
        let head = self.free_tx.pop().expect("a free tx slot");
        let body = head + SIZE / 2;
        self.memory
            .write(buffer(TX, head), &header.encode())
            .unwrap();
        self.memory.write(buffer(TX, body), payload).unwrap();
        if payload.is_empty() {
            self.desc(TX, head, buffer(TX, head), HEADER_LEN as u32, 0, 0);
        } else {
            self.desc(
                TX,
                head,
                buffer(TX, head),
                HEADER_LEN as u32,
                DESC_F_NEXT,
                body,
            );
            self.desc(TX, body, buffer(TX, body), payload.len() as u32, 0, 0);
        }
        self.publish(TX, head);
        self.notify(TX);
    }

    fn used_entries(&mut self, q: u16) -> Vec<(u16, u32)> {
        let now = self.memory.read_u16(used(q) + 2).unwrap();
        let mut out = Vec::new();
        while self.used_seen[usize::from(q)] != now {
            let slot = u64::from(self.used_seen[usize::from(q)] % SIZE);
            let mut raw = [0u8; 8];
            self.memory.read(used(q) + 4 + 8 * slot, &mut raw).unwrap();
            let id = u32::from_le_bytes(raw[..4].try_into().unwrap()) as u16;
            out.push((id, u32::from_le_bytes(raw[4..].try_into().unwrap())));
            self.used_seen[usize::from(q)] = self.used_seen[usize::from(q)].wrapping_add(1);
        }
        out
    }

    /// Takes the packets the device wrote and re-posts their buffers; tx slots come back.
    fn receive(&mut self) -> Vec<(Header, Vec<u8>)> {
        for (head, _) in self.used_entries(TX) {
            self.free_tx.push(head);
        }
        let mut packets = Vec::new();
        for (head, written) in self.used_entries(RX) {
            let mut bytes = std::vec![0u8; written as usize];
            self.memory.read(buffer(RX, head), &mut bytes).unwrap();
            let header = Header::decode_prefix(&bytes).unwrap();
            assert_eq!(header.len as usize, bytes.len() - HEADER_LEN);
            packets.push((header, bytes[HEADER_LEN..].to_vec()));
            self.publish(RX, head);
        }
        packets
    }
}

/// Linux (CID 3) and the RTOS (CID 4) share a channel; the outsider (CID 5) is in none.
fn world() -> (Hub, Vec<Guest>) {
    let mut routes = Routes::new();
    let linux = routes.add_endpoint(3).unwrap();
    let rtos = routes.add_endpoint(4).unwrap();
    routes.add_endpoint(5).unwrap();
    routes.allow(linux, rtos).unwrap();
    (
        Hub::new(Switch::new(routes)),
        std::vec![Guest::new(3), Guest::new(4), Guest::new(5)],
    )
}

fn pump(hub: &mut Hub, guests: &mut [Guest]) -> u32 {
    let mut endpoints: Vec<Endpoint<'_>> = guests
        .iter_mut()
        .map(|g| Endpoint {
            transport: &mut g.transport,
            memory: &mut g.memory,
        })
        .collect();
    hub.pump(&mut endpoints)
}

const CLIENT: Addr = Addr {
    cid: 3,
    port: 40000,
};
const SERVER: Addr = Addr { cid: 4, port: 1234 };

fn connect(hub: &mut Hub, guests: &mut [Guest]) {
    guests[0].send(Header::control(Op::Request, CLIENT, SERVER, 65536, 0), &[]);
    pump(hub, guests);
    let got = guests[1].receive();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0.op, Op::Request as u16);
    guests[1].send(Header::control(Op::Response, SERVER, CLIENT, 65536, 0), &[]);
    pump(hub, guests);
    let got = guests[0].receive();
    assert_eq!(got[0].0.op, Op::Response as u16);
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[test]
fn a_stream_crosses_between_partitions_in_order_split_over_small_buffers() {
    let (mut hub, mut guests) = world();
    for guest in &mut guests {
        guest.post_rx(SIZE);
    }
    connect(&mut hub, &mut guests);
    let mut expected = Vec::new();
    let mut arrived = Vec::new();
    let mut fwd_cnt = 0u32;
    for (n, len) in [1usize, 4096, 100, 3000, 1025].into_iter().enumerate() {
        let payload = pattern(len, n as u8);
        expected.extend_from_slice(&payload);
        let header = Header {
            len: len as u32,
            ..Header::control(Op::Rw, CLIENT, SERVER, 65536, 0)
        };
        guests[0].send(
            Header {
                op: Op::Rw as u16,
                ..header
            },
            &payload,
        );
        let raise = pump(&mut hub, &mut guests);
        assert_ne!(raise & 0b10, 0, "the RTOS is interrupted");
        for (header, data) in guests[1].receive() {
            assert_eq!(header.op, Op::Rw as u16);
            assert_eq!(header.src(), CLIENT);
            assert!(data.len() <= 1024);
            fwd_cnt += data.len() as u32;
            arrived.extend_from_slice(&data);
        }
        // The RTOS returns its credit.
        guests[1].send(
            Header::control(Op::CreditUpdate, SERVER, CLIENT, 65536, fwd_cnt),
            &[],
        );
        pump(&mut hub, &mut guests);
        assert!(guests[0]
            .receive()
            .iter()
            .all(|(h, _)| h.op == Op::CreditUpdate as u16));
    }
    assert_eq!(arrived, expected);
    // The other way.
    let reply = pattern(2048, 9);
    guests[1].send(
        Header {
            len: 2048,
            ..Header::control(Op::Rw, SERVER, CLIENT, 65536, fwd_cnt)
        },
        &reply,
    );
    pump(&mut hub, &mut guests);
    let back: Vec<u8> = guests[0]
        .receive()
        .into_iter()
        .flat_map(|(_, d)| d)
        .collect();
    assert_eq!(back, reply);
    assert!(guests[2].receive().is_empty(), "the outsider sees nothing");
    assert_eq!(
        hub.stats().bytes,
        (1 + 4096 + 100 + 3000 + 1025 + 2048) as u64
    );
}

#[test]
fn a_partition_outside_the_channel_gets_connection_refused() {
    let (mut hub, mut guests) = world();
    for guest in &mut guests {
        guest.post_rx(4);
    }
    let outsider = Addr { cid: 5, port: 777 };
    guests[2].send(
        Header::control(Op::Request, outsider, SERVER, 65536, 0),
        &[],
    );
    pump(&mut hub, &mut guests);
    let got = guests[2].receive();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, Header::reset(SERVER, outsider));
    assert!(guests[1].receive().is_empty());
    assert_eq!(hub.switch().stats().refused, 1);
}

#[test]
fn a_packet_waits_for_the_receivers_buffers() {
    let (mut hub, mut guests) = world();
    guests[0].post_rx(SIZE);
    guests[1].post_rx(1);
    connect(&mut hub, &mut guests);
    // The RTOS's only buffer went to the REQUEST and was not re-posted... until receive().
    let payload = pattern(3000, 1);
    guests[0].send(
        Header {
            len: 3000,
            ..Header::control(Op::Rw, CLIENT, SERVER, 65536, 0)
        },
        &payload,
    );
    pump(&mut hub, &mut guests);
    let mut arrived = Vec::new();
    for _ in 0..4 {
        for (_, data) in guests[1].receive() {
            arrived.extend_from_slice(&data);
        }
        guests[1].notify(RX);
        pump(&mut hub, &mut guests);
    }
    assert_eq!(arrived, payload);
    assert_eq!(guests[0].receive().len(), 0);
    assert_eq!(
        guests[0].free_tx.len(),
        usize::from(SIZE / 2),
        "every tx chain came back"
    );
}

#[test]
fn a_reset_device_ends_its_connections_with_rst_to_the_peer() {
    let (mut hub, mut guests) = world();
    for guest in &mut guests {
        guest.post_rx(4);
    }
    connect(&mut hub, &mut guests);
    wr(&mut guests[0].transport, reg::STATUS, 0);
    pump(&mut hub, &mut guests);
    let got = guests[1].receive();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, Header::reset(CLIENT, SERVER));
    assert_eq!(hub.switch().open_connections(), 0);
}

#[test]
fn credit_overrun_resets_both_ends_and_nothing_crosses() {
    let (mut hub, mut guests) = world();
    for guest in &mut guests {
        guest.post_rx(SIZE);
    }
    guests[0].send(Header::control(Op::Request, CLIENT, SERVER, 65536, 0), &[]);
    pump(&mut hub, &mut guests);
    guests[1].receive();
    // The RTOS offers only 100 bytes of buffer.
    guests[1].send(Header::control(Op::Response, SERVER, CLIENT, 100, 0), &[]);
    pump(&mut hub, &mut guests);
    guests[0].receive();
    guests[0].send(
        Header {
            len: 101,
            ..Header::control(Op::Rw, CLIENT, SERVER, 65536, 0)
        },
        &[7; 101],
    );
    pump(&mut hub, &mut guests);
    assert_eq!(guests[0].receive()[0].0, Header::reset(SERVER, CLIENT));
    let at_rtos = guests[1].receive();
    assert_eq!(at_rtos.len(), 1);
    assert_eq!(at_rtos[0].0, Header::reset(CLIENT, SERVER));
    let _ = shutdown::BOTH;
}
