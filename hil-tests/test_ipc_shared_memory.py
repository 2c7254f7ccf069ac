"""Scenario `ipc_shared_memory`: two bare-metal partitions stream 1 GiB through a
`bulkhead-ipc-ring` in a channel's shared memory, with doorbells only when one side waits,
every word checked and checksummed on both sides; then the consumer writes a window its stage-2
maps read-only and is stopped alone, while the producer keeps running and says so
(device-trees/qemu-virt/ipc-shared-memory.dts, guest code in guest-shim/test-guest/src/ipc.rs,
protocol in docs/ipc.md)."""

GIB = 1 << 30


def test_ipc_shared_memory(boot):
    s = boot("ipc-shared-memory", gic=3)
    s.expect(r'channel "stream": shared memory 0x1000000 bytes at PA 0x60000000: '
             r'"producer" at IPA 0x50000000 rw, "consumer" at IPA 0x50000000 rw')
    s.expect(r'channel "window": shared memory 0x1000 bytes at PA 0x61000000: '
             r'"producer" at IPA 0x51000000 rw, "consumer" at IPA 0x51000000 ro')
    (sent,) = s.wait_all(r"^\[producer\] HIL:IPC SENT bytes=(\d+) records=(\d+) "
                         r"checksum=(0x[0-9a-f]+) full-waits=(\d+) doorbells=(\d+) ticks=(\d+)$",
                         timeout=240)
    (received,) = s.wait_all(r"^\[consumer\] HIL:IPC RECEIVED bytes=(\d+) records=(\d+) "
                             r"checksum=(0x[0-9a-f]+) mismatches=(\d+) empty-waits=(\d+)$",
                             timeout=60)
    assert int(sent[1]) == GIB and int(received[1]) == GIB, (sent[0], received[0])
    assert sent[2] == received[2], "every record arrived once, in order"
    assert sent[3] == received[3], "the same checksum on both sides"
    assert int(received[4]) == 0, "every word is the one the producer wrote"
    assert int(sent[3], 16) != 0
    # Few doorbells: only when one side waits, far fewer than records.
    assert int(sent[5]) < int(sent[2]) // 4, sent[0]
    # The window: the consumer reads the producer's word, then its write faults.
    s.wait_all(r"^\[consumer\] HIL:IPC WINDOW read=0xfeedf00d00000001$")
    s.expect(r"^\[consumer\] HIL:IPC WRITING the read-only window$")
    s.expect(r"HIL:PART consumer STOPPED")
    s.wait_all(r"^\[producer\] HIL:IPC PEER-DOWN the consumer stopped; the producer keeps running$",
               timeout=60)
    s.wait_all(r"^\[producer\] HIL:IPC ALIVE 3$")
    text = s.console.text
    assert "it should have faulted" not in text
    assert "HIL:PART producer STOPPED" not in text
    assert "HIL:IPC error" not in text
    assert "HIL:PANIC" not in text
