"""Scenario `doorbell`: two partitions on different CPUs ring each other's doorbells through
Bulkhead (BULKHEAD_DOORBELL_RING / BULKHEAD_DOORBELL_INFO, docs/guest-abi.md); a third partition
without a channel gets INVALID_PARAMETER and never sees their interrupts; a stopped peer is
PEER_DOWN (device-trees/qemu-virt/doorbell.dts, guest code in
guest-shim/test-guest/src/doorbell.rs)."""

import re

ROUNDS = 1000


def passes(s, name: str) -> set[str]:
    return {m[1] for m in s.console.lines_matching(rf"^\[{name}\] HIL:TEST (\S+) PASS")}


def failures(s, name: str) -> list[str]:
    return [m[0] for m in s.console.lines_matching(rf"^\[{name}\] HIL:TEST \S+ FAIL.*")]


def no_failures(s, name: str) -> None:
    (m,) = s.wait_all(rf"^\[{name}\] HIL:CHECKS passed=(\d+) failed=(\d+)$")
    assert int(m[2]) == 0, "\n".join(failures(s, name))


def test_two_partitions_ping_pong_doorbells_and_a_stopped_peer_is_down(boot):
    s = boot("doorbell", gic=3)
    s.expect(r'channel "ping": partition "ping" receives INTID 48, partition "pong" INTID 49')
    # Each discovers its doorbell instead of hard-coding it: the peer's id and its own INTID.
    s.wait_all(r"^\[ping\] HIL:DOORBELL info id=1 peer=2 intid=48 count=1$")
    s.wait_all(r"^\[pong\] HIL:DOORBELL info id=2 peer=1 intid=49 count=1$")
    s.wait_all(rf"^\[pong\] HIL:DOORBELL pong received={ROUNDS} sent={ROUNDS}$", timeout=120)
    s.wait_all(rf"^\[ping\] HIL:DOORBELL ping sent={ROUNDS} received={ROUNDS}$", timeout=120)
    s.expect(r"HIL:PART pong STOPPED reason=system-off")
    s.wait_all(r"^\[ping\] HIL:DOORBELL peer-down after=\d+$")
    for name in ("ping", "pong"):
        no_failures(s, name)
        assert {"doorbell-info", "doorbell-bad-index", "doorbell-ready",
                "doorbell-round-trips"} <= passes(s, name)
    # A ring while the receiver keeps its doorbell disabled stays pending until it enables it,
    # and is delivered once then.
    assert {"doorbell-latched-while-disabled", "doorbell-delivered-on-enable"} <= passes(s, "pong")
    assert {"doorbell-ring-while-disabled", "doorbell-peer-down",
            "doorbell-info-peer-down"} <= passes(s, "ping")
    assert "HIL:PANIC" not in s.console.text


def test_a_partition_without_channels_has_no_doorbells_and_sees_nothing(boot):
    s = boot("doorbell", gic=3)
    no_failures(s, "bystander")
    assert {"doorbell-none", "doorbell-features"} <= passes(s, "bystander")
    s.wait_all(rf"^\[ping\] HIL:DOORBELL ping sent={ROUNDS} received={ROUNDS}$", timeout=120)
    s.wait_all(r"^\[ping\] HIL:DOORBELL peer-down after=\d+$")
    # Two full reports after the last ring: the bystander's window covered the whole exchange.
    s.expect(r"\[ping\] HIL:DOORBELL peer-down")
    s.expect(r"^\[bystander\] HIL:DOORBELL bystander seen=\d+$")
    s.expect(r"^\[bystander\] HIL:DOORBELL bystander seen=\d+$")
    seen = [int(m[1]) for m in s.console.lines_matching(r"^\[bystander\] HIL:DOORBELL bystander seen=(\d+)$")]
    assert seen and all(count == 0 for count in seen), seen
    assert not re.search(r"HIL:PART bystander (STOPPED|RESTART)", s.console.text)
