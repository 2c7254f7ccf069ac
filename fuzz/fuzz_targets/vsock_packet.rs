//! The vsock switch (`bulkhead::virtio::vsock`) under random packets from three partitions
//! (two joined by a channel, one outside any): the header codec round-trips; the switch never
//! panics; a forwarded packet goes only along a configured route, carries its sender's own
//! CID, a length within the chain and 64 KiB, a known op and type STREAM; a refusal answers
//! only its sender, and never an RST; and no RW is forwarded beyond the receiver's credit as
//! the receiver last advertised it (virtio 1.2 §5.10.6.3), recomputed here from what passed.
#![no_main]

use std::collections::HashMap;

use arbitrary::Arbitrary;
use bulkhead::virtio::vsock::header::{Addr, Header, Op, Type, HEADER_LEN, MAX_PAYLOAD};
use bulkhead::virtio::vsock::{EndpointId, Routes, Switch, Verdict};
use libfuzzer_sys::fuzz_target;

const CIDS: [u64; 3] = [3, 4, 5];

#[derive(Arbitrary, Debug)]
struct Packet {
    from: u8,
    /// Index into a small set of CIDs (so connections happen), or a raw one.
    src_cid: Result<u8, u64>,
    dst_cid: Result<u8, u64>,
    src_port: u8,
    dst_port: u8,
    len: Result<u16, u32>,
    kind: Option<u16>,
    op: u16,
    flags: u32,
    buf_alloc: Result<u16, u32>,
    fwd_cnt: u32,
    /// Payload bytes the chain holds beyond `len` (or short of it when negative).
    slack: i16,
}

fn cid(choice: Result<u8, u64>) -> u64 {
    match choice {
        Ok(i) => CIDS[usize::from(i) % CIDS.len()],
        Err(raw) => raw,
    }
}

/// What the fuzz target knows of one direction: bytes forwarded and the receiver's last credit.
#[derive(Default, Clone, Copy)]
struct Books {
    tx: u32,
    peer: Option<(u32, u32)>,
}

fuzz_target!(|packets: Vec<Packet>| {
    let mut routes = Routes::new();
    let ids: Vec<EndpointId> = CIDS
        .iter()
        .map(|&c| routes.add_endpoint(c).unwrap())
        .collect();
    routes.allow(ids[0], ids[1]).unwrap();
    let mut switch = Switch::new(routes.clone());
    let mut books: HashMap<(Addr, Addr), Books> = HashMap::new();

    for p in packets.iter().take(1024) {
        let from = EndpointId(p.from % 3);
        let header = Header {
            src_cid: cid(p.src_cid),
            dst_cid: cid(p.dst_cid),
            src_port: u32::from(p.src_port % 4),
            dst_port: u32::from(p.dst_port % 4),
            len: p.len.map_or_else(|raw| raw, u32::from),
            kind: p.kind.unwrap_or(Type::Stream as u16),
            op: if p.op < 0x100 { p.op % 9 } else { p.op },
            flags: p.flags,
            buf_alloc: p.buf_alloc.map_or_else(|raw| raw, u32::from),
            fwd_cnt: p.fwd_cnt,
        };
        assert_eq!(Header::decode(&header.encode()), header);
        assert_eq!(header.encode().len(), HEADER_LEN);
        let present = (i64::from(header.len) + i64::from(p.slack)).clamp(0, u32::MAX.into()) as u32;
        let verdict = switch.from_guest(from, &header, present);
        match verdict {
            Verdict::Forward(d) => {
                let op = Op::from_raw(d.header.op).expect("a known op");
                assert!(routes.allows(from, d.to), "{from:?} -> {:?}", d.to);
                assert_eq!(Some(d.header.src_cid), routes.cid_of(from));
                assert_eq!(Some(d.header.dst_cid), routes.cid_of(d.to));
                assert_eq!(d.header.kind, Type::Stream as u16);
                assert!(d.header.len <= present && d.header.len <= MAX_PAYLOAD);
                assert!(op == Op::Rw || d.header.len == 0);
                let (src, dst) = (d.header.src(), d.header.dst());
                if op == Op::Request {
                    books.insert((src, dst), Books::default());
                    let back = Books {
                        tx: 0,
                        peer: Some((d.header.buf_alloc, d.header.fwd_cnt)),
                    };
                    books.insert((dst, src), back);
                    continue;
                }
                if op == Op::Rw {
                    let b = books
                        .get_mut(&(src, dst))
                        .expect("data on a requested connection");
                    let (buf_alloc, fwd_cnt) = b.peer.expect("data after the peer's credit");
                    b.tx = b.tx.wrapping_add(d.header.len);
                    assert!(b.tx.wrapping_sub(fwd_cnt) <= buf_alloc, "credit overrun");
                }
                books.entry((dst, src)).or_default().peer =
                    Some((d.header.buf_alloc, d.header.fwd_cnt));
            }
            Verdict::Refuse { reply, .. } => {
                assert_eq!(reply.to, from);
                assert_ne!(header.op, Op::Rst as u16, "an RST is never answered");
                assert_eq!(reply.header.op, Op::Rst as u16);
            }
            Verdict::Reset {
                to_sender, to_peer, ..
            } => {
                assert_eq!(to_sender.to, from);
                assert!(routes.allows(from, to_peer.to));
                assert_eq!(to_peer.header.op, Op::Rst as u16);
            }
            Verdict::Drop(_) => {}
        }
        assert!(switch.open_connections() <= bulkhead::virtio::vsock::switch::MAX_CONNECTIONS);
    }
    for id in ids {
        for reset in switch.detach(id) {
            assert!(routes.allows(id, reset.to));
        }
    }
    assert_eq!(switch.open_connections(), 0);
});
