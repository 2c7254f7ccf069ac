use super::*;
use crate::virtio::vsock::connection::Violation;
use crate::virtio::vsock::header::Type;

const LINUX: u64 = 3;
const RTOS: u64 = 4;
const OUTSIDER: u64 = 5;

/// Linux (endpoint 0) and the RTOS (1) share a channel; the outsider (2) is in none.
fn new_switch() -> Switch {
    let mut routes = Routes::new();
    let linux = routes.add_endpoint(LINUX).unwrap();
    let rtos = routes.add_endpoint(RTOS).unwrap();
    routes.add_endpoint(OUTSIDER).unwrap();
    routes.allow(linux, rtos).unwrap();
    Switch::new(routes)
}

const L: EndpointId = EndpointId(0);
const R: EndpointId = EndpointId(1);
const O: EndpointId = EndpointId(2);

fn client() -> Addr {
    Addr {
        cid: LINUX,
        port: 50000,
    }
}

fn server() -> Addr {
    Addr {
        cid: RTOS,
        port: 1234,
    }
}

fn packet(op: Op, src: Addr, dst: Addr, buf_alloc: u32, fwd_cnt: u32) -> Header {
    Header::control(op, src, dst, buf_alloc, fwd_cnt)
}

fn data(src: Addr, dst: Addr, len: u32, fwd_cnt: u32) -> Header {
    Header {
        len,
        ..packet(Op::Rw, src, dst, 4096, fwd_cnt)
    }
}

/// A connection from Linux to the RTOS, each advertising a 4 KiB buffer.
fn connected() -> Switch {
    let mut switch = new_switch();
    let request = packet(Op::Request, client(), server(), 4096, 0);
    assert_eq!(
        switch.from_guest(L, &request, 0),
        Verdict::Forward(Delivery {
            to: R,
            header: request
        })
    );
    let response = packet(Op::Response, server(), client(), 4096, 0);
    assert_eq!(
        switch.from_guest(R, &response, 0),
        Verdict::Forward(Delivery {
            to: L,
            header: response
        })
    );
    switch
}

fn refused_with_rst(verdict: Verdict, to: EndpointId, src: Addr, dst: Addr) -> Refusal {
    match verdict {
        Verdict::Refuse { reply, why } => {
            assert_eq!(
                reply,
                Delivery {
                    to,
                    header: Header::reset(dst, src)
                }
            );
            why
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_connection_carries_data_both_ways_and_closes_on_shutdown() {
    let mut switch = connected();
    let to_rtos = data(client(), server(), 4000, 0);
    assert_eq!(
        switch.from_guest(L, &to_rtos, 4000),
        Verdict::Forward(Delivery {
            to: R,
            header: to_rtos
        })
    );
    let to_linux = data(server(), client(), 96, 4000);
    assert!(matches!(
        switch.from_guest(R, &to_linux, 96),
        Verdict::Forward(Delivery { to: L, .. })
    ));
    let update = packet(Op::CreditUpdate, server(), client(), 4096, 4000);
    assert!(matches!(
        switch.from_guest(R, &update, 0),
        Verdict::Forward(_)
    ));
    assert_eq!(switch.open_connections(), 1);
    let shut = Header {
        flags: shutdown::BOTH | 0x80,
        ..packet(Op::Shutdown, client(), server(), 4096, 96)
    };
    let Verdict::Forward(forwarded) = switch.from_guest(L, &shut, 0) else {
        panic!()
    };
    assert_eq!(
        forwarded.header.flags,
        shutdown::BOTH,
        "unknown flag bits are cleared"
    );
    let shut_back = Header {
        flags: shutdown::BOTH,
        ..packet(Op::Shutdown, server(), client(), 4096, 4000)
    };
    assert!(matches!(
        switch.from_guest(R, &shut_back, 0),
        Verdict::Forward(_)
    ));
    assert_eq!(switch.open_connections(), 0);
    // Linux's final RST after the close passes to the reachable peer, which ignores it.
    let rst = packet(Op::Rst, client(), server(), 0, 0);
    assert!(matches!(
        switch.from_guest(L, &rst, 0),
        Verdict::Forward(Delivery { to: R, .. })
    ));
    assert_eq!(switch.stats().forwarded, 8);
}

#[test]
fn a_rst_closes_the_connection() {
    let mut switch = connected();
    let rst = packet(Op::Rst, server(), client(), 0, 0);
    assert!(matches!(
        switch.from_guest(R, &rst, 0),
        Verdict::Forward(Delivery { to: L, .. })
    ));
    assert_eq!(switch.open_connections(), 0);
    let late = data(client(), server(), 1, 0);
    let why = refused_with_rst(switch.from_guest(L, &late, 1), L, client(), server());
    assert_eq!(why, Refusal::NoConnection);
}

#[test]
fn a_partition_outside_the_channel_is_refused() {
    let mut switch = new_switch();
    let from_outsider = packet(
        Op::Request,
        Addr {
            cid: OUTSIDER,
            port: 7,
        },
        server(),
        4096,
        0,
    );
    let why = refused_with_rst(
        switch.from_guest(O, &from_outsider, 0),
        O,
        from_outsider.src(),
        server(),
    );
    assert_eq!(why, Refusal::NoRoute(RTOS));
    let to_outsider = packet(
        Op::Request,
        client(),
        Addr {
            cid: OUTSIDER,
            port: 7,
        },
        4096,
        0,
    );
    refused_with_rst(
        switch.from_guest(L, &to_outsider, 0),
        L,
        client(),
        to_outsider.dst(),
    );
    assert_eq!(switch.open_connections(), 0);
}

#[test]
fn reserved_unknown_and_own_cids_reach_nobody() {
    let mut switch = new_switch();
    for cid in [0, 1, 2, LINUX, 99, u64::MAX] {
        let request = packet(Op::Request, client(), Addr { cid, port: 1 }, 4096, 0);
        let why = refused_with_rst(
            switch.from_guest(L, &request, 0),
            L,
            client(),
            request.dst(),
        );
        assert_eq!(why, Refusal::NoRoute(cid));
    }
    // An RST to nobody is not answered.
    let rst = packet(Op::Rst, client(), Addr { cid: 2, port: 1 }, 0, 0);
    assert_eq!(
        switch.from_guest(L, &rst, 0),
        Verdict::Drop(Refusal::NoRoute(2))
    );
}

#[test]
fn a_spoofed_source_is_dropped_without_an_answer() {
    let mut switch = connected();
    // The outsider pretends to be Linux, to reset or feed Linux's connection.
    for op in [Op::Rst, Op::Rw, Op::Request] {
        let spoof = Header {
            len: 0,
            ..packet(op, client(), server(), 4096, 0)
        };
        assert_eq!(
            switch.from_guest(O, &spoof, 0),
            Verdict::Drop(Refusal::SpoofedSource(LINUX))
        );
    }
    let garbage = Header {
        op: 999,
        ..packet(Op::Rst, client(), server(), 0, 0)
    };
    assert_eq!(
        switch.from_guest(O, &garbage, 0),
        Verdict::Drop(Refusal::SpoofedSource(LINUX))
    );
    assert_eq!(switch.open_connections(), 1);
}

#[test]
fn data_beyond_the_credit_resets_both_ends() {
    let mut switch = connected();
    let first = data(client(), server(), 4000, 0);
    assert!(matches!(
        switch.from_guest(L, &first, 4000),
        Verdict::Forward(_)
    ));
    let second = data(client(), server(), 97, 0);
    let verdict = switch.from_guest(L, &second, 97);
    assert_eq!(
        verdict,
        Verdict::Reset {
            to_sender: Delivery {
                to: L,
                header: Header::reset(server(), client())
            },
            to_peer: Delivery {
                to: R,
                header: Header::reset(client(), server())
            },
            why: Refusal::Protocol(Violation::NoCredit { len: 97, free: 96 }),
        }
    );
    assert_eq!(switch.open_connections(), 0);
    assert_eq!(switch.stats().reset, 1);
}

#[test]
fn credit_returns_as_the_receiver_consumes() {
    let mut switch = connected();
    for round in 0..100u32 {
        let packet = data(client(), server(), 4096, 0);
        assert!(
            matches!(switch.from_guest(L, &packet, 4096), Verdict::Forward(_)),
            "round {round}"
        );
        // The RTOS consumed it all and says so.
        let fwd_cnt = (round + 1) * 4096;
        let update = packet_from_rtos(fwd_cnt);
        assert!(matches!(
            switch.from_guest(R, &update, 0),
            Verdict::Forward(_)
        ));
    }
}

fn packet_from_rtos(fwd_cnt: u32) -> Header {
    packet(Op::CreditUpdate, server(), client(), 4096, fwd_cnt)
}

#[test]
fn data_before_the_response_is_a_violation() {
    let mut switch = new_switch();
    let request = packet(Op::Request, client(), server(), 4096, 0);
    assert!(matches!(
        switch.from_guest(L, &request, 0),
        Verdict::Forward(_)
    ));
    let early = data(client(), server(), 1, 0);
    let Verdict::Reset { why, .. } = switch.from_guest(L, &early, 1) else {
        panic!()
    };
    assert_eq!(why, Refusal::Protocol(Violation::OutOfOrder(Op::Rw)));
    // The initiator cannot answer its own request either.
    assert!(matches!(
        switch.from_guest(L, &request, 0),
        Verdict::Forward(_)
    ));
    let fake = packet(Op::Response, client(), server(), 4096, 0);
    let Verdict::Reset { why, .. } = switch.from_guest(L, &fake, 0) else {
        panic!()
    };
    assert_eq!(why, Refusal::Protocol(Violation::OutOfOrder(Op::Response)));
}

#[test]
fn a_second_request_on_an_open_connection_resets_it() {
    let mut switch = connected();
    let again = packet(Op::Request, client(), server(), 4096, 0);
    let Verdict::Reset { why, .. } = switch.from_guest(L, &again, 0) else {
        panic!()
    };
    assert_eq!(why, Refusal::Protocol(Violation::OutOfOrder(Op::Request)));
}

#[test]
fn data_after_the_senders_shutdown_is_a_violation() {
    let mut switch = connected();
    let shut = Header {
        flags: shutdown::SEND,
        ..packet(Op::Shutdown, client(), server(), 4096, 0)
    };
    assert!(matches!(
        switch.from_guest(L, &shut, 0),
        Verdict::Forward(_)
    ));
    // The RTOS may still send.
    assert!(matches!(
        switch.from_guest(R, &data(server(), client(), 10, 0), 10),
        Verdict::Forward(_)
    ));
    let Verdict::Reset { why, .. } = switch.from_guest(L, &data(client(), server(), 1, 0), 1)
    else {
        panic!()
    };
    assert_eq!(why, Refusal::Protocol(Violation::SentAfterShutdown));
}

#[test]
fn lengths_are_checked_against_the_chain_and_the_limit() {
    let mut switch = connected();
    let long = data(client(), server(), 100, 0);
    let Verdict::Reset { why, .. } = switch.from_guest(L, &long, 99) else {
        panic!()
    };
    assert_eq!(
        why,
        Refusal::BadLength {
            len: 100,
            present: 99
        }
    );

    let mut switch = connected();
    let huge = data(client(), server(), u32::MAX, 0);
    let Verdict::Reset { why, .. } = switch.from_guest(L, &huge, u32::MAX) else {
        panic!()
    };
    assert_eq!(
        why,
        Refusal::BadLength {
            len: u32::MAX,
            present: u32::MAX
        }
    );

    let mut switch = new_switch();
    let request = Header {
        len: 8,
        ..packet(Op::Request, client(), server(), 4096, 0)
    };
    let why = refused_with_rst(switch.from_guest(L, &request, 8), L, client(), server());
    assert_eq!(why, Refusal::LengthOnControl(8));
}

#[test]
fn only_streams_with_known_ops_pass() {
    let mut switch = new_switch();
    let seqpacket = Header {
        kind: 2,
        ..packet(Op::Request, client(), server(), 4096, 0)
    };
    let why = refused_with_rst(switch.from_guest(L, &seqpacket, 0), L, client(), server());
    assert_eq!(why, Refusal::UnsupportedType(2));
    let unknown = Header {
        op: 42,
        ..packet(Op::Request, client(), server(), 4096, 0)
    };
    let why = refused_with_rst(switch.from_guest(L, &unknown, 0), L, client(), server());
    assert_eq!(why, Refusal::UnknownOp(42));
    assert_eq!(Type::Stream as u16, 1);
}

#[test]
fn the_table_is_bounded() {
    let mut switch = new_switch();
    for port in 0..MAX_CONNECTIONS as u32 {
        let request = packet(Op::Request, Addr { cid: LINUX, port }, server(), 4096, 0);
        assert!(matches!(
            switch.from_guest(L, &request, 0),
            Verdict::Forward(_)
        ));
    }
    let one_more = packet(
        Op::Request,
        Addr {
            cid: LINUX,
            port: 9999,
        },
        server(),
        4096,
        0,
    );
    let why = refused_with_rst(
        switch.from_guest(L, &one_more, 0),
        L,
        one_more.src(),
        server(),
    );
    assert_eq!(why, Refusal::TableFull);
}

#[test]
fn detaching_an_endpoint_resets_its_peers() {
    let mut switch = connected();
    let other = packet(
        Op::Request,
        server(),
        Addr {
            cid: LINUX,
            port: 22,
        },
        4096,
        0,
    );
    assert!(matches!(
        switch.from_guest(R, &other, 0),
        Verdict::Forward(_)
    ));
    let resets = switch.detach(L);
    assert_eq!(resets.len(), 2);
    assert!(resets
        .iter()
        .all(|d| d.to == R && d.header.op == Op::Rst as u16));
    assert!(resets.contains(&Delivery {
        to: R,
        header: Header::reset(client(), server())
    }));
    assert_eq!(switch.open_connections(), 0);
}
