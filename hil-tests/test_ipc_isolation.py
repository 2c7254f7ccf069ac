"""Scenario `ipc_isolation` (issue 13, attacker part): an attacker feeds its own virtio-console
device (its end of serial channel `link`) malformed queues: a descriptor loop, buffers outside
its RAM (unmapped, its console's window, the device's own window, the top of the address
space), a 4 GiB length, an available index that jumps, rings outside its RAM, nested indirect
tables, then 20,000 notifications of a well-formed queue. Each malformed queue puts its device
in DEVICE_NEEDS_RESET (the status the attacker reads back) with a configuration-change
interrupt; the storm does not. Meanwhile its peer (the victim) checks a 1 MiB pattern in its
own RAM: unchanged. A third partition in no channel has no device: its store to that window
faults and stops only it (device-trees/qemu-virt/ipc-isolation.dts,
guest-shim/test-guest/src/virtio_attack.rs)."""

ATTACKS = [
    "descriptor-loop", "outside-ram", "device-window", "console-window", "high-address",
    "length-4gib", "index-jump", "rings-outside-ram", "nested-indirect",
]


def test_ipc_isolation_malformed_queues_reset_only_the_attackers_device(boot):
    s = boot("ipc-isolation")
    (summary,) = s.wait_all(r"^\[attacker\] HIL:VIRTIO-ATTACK summary needs-reset=(\d+)/9 "
                            r"storm-ok=(\w+) status-after-reset=(0x[0-9a-f]+)$", timeout=120)
    # Its serial channel gives it no doorbell to ring the victim's virtio interrupt with.
    s.wait_all(r"^\[attacker\] HIL:VIRTIO-ATTACK doorbell-0 no-such-doorbell$", timeout=10)
    for name in ATTACKS:
        (m,) = s.wait_all(rf"^\[attacker\] HIL:VIRTIO-ATTACK {name} status=(0x[0-9a-f]+) "
                          r"needs-reset=(\w+) interrupt=(0x[0-9a-f]+)$", timeout=5)
        assert m[2] == "true", f"{name}: the device went to NEEDS_RESET"
        assert int(m[1], 16) & 0x40, name
        assert int(m[3], 16) & 0x2, f"{name}: configuration-change interrupt"
    (storm,) = s.wait_all(r"^\[attacker\] HIL:VIRTIO-ATTACK notify-storm status=(0x[0-9a-f]+) "
                          r"needs-reset=(\w+)", timeout=5)
    assert storm[2] == "false" and int(storm[1], 16) == 0xF, "a storm of good notifies is fine"
    assert summary[1] == "9" and summary[2] == "true" and summary[3] == "0x0"
    # The attacker keeps running after its attacks (its heartbeat), and so does the victim.
    s.wait_all(r"^\[attacker\] HIL:HEARTBEAT 29$", timeout=60)
    (done,) = s.wait_all(r"^\[victim\] HIL:VICTIM done rounds=25 changed=(\d+)$", timeout=120)
    assert done[1] == "0", "the victim's memory pattern is unchanged"
    text = s.console.text
    assert "[victim] HIL:VICTIM check=" in text and "ok=false" not in text
    # The partition outside the channel has no device there: its store faults and stops it.
    s.expect(r'partition "outsider" \(id 3\) stopped: write outside its memory at IPA '
             r"0x000000000a003000", timeout=60)
    assert "HIL:PART attacker STOPPED reason=fault" not in text
    assert "HIL:PART victim STOPPED reason=fault" not in text
    assert "HIL:PANIC" not in text
