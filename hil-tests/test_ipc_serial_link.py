"""Scenario `ipc_serial_link` (issue 13): a serial channel joins a virtio-console port in
Linux (Debian's stock virtio_mmio + virtio_console, /dev/virtio-ports/rtos-link) to one in a
bare-metal partition (guest-shim's port over the virtio-drivers crate). The partition sends
1 MiB of a known pattern; Linux reads it from the port, prints its md5sum and writes it back;
the partition checks every byte it gets back against the pattern (none lost, none reordered)
(device-trees/qemu-virt/ipc-serial-link.dts, guest-shim/test-guest/src/serial_link.rs,
the serial block of guest-shim/linux/init)."""

import hashlib

BYTES = 1 << 20


def pattern(n: int) -> bytes:
    return bytes(((i * 131) ^ (i >> 11)) & 0xFF for i in range(n))


def fnv1a(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def test_ipc_serial_link_moves_1_mib_each_way_between_linux_and_a_virtio_drivers_port(boot):
    s = boot("ipc-serial-link")
    data = pattern(BYTES)
    s.wait_all(r"^\[peer\] HIL:SERIAL up status=0xf bytes=1048576$", timeout=60)
    s.expect(r"^\[linux\] HIL:SERIAL insmod virtio_mmio ok$", timeout=120)
    s.expect(r"^\[linux\] HIL:SERIAL insmod virtio_console ok$", timeout=30)
    s.expect(r"^\[linux\] HIL:SERIAL port /dev/virtio-ports/rtos-link -> vport\d+p0$",
             timeout=30)
    (m,) = s.wait_all(r"^\[linux\] HIL:SERIAL linux received=(\d+) md5=([0-9a-f]{32})$",
                      timeout=240)
    assert int(m[1]) == BYTES
    assert m[2] == hashlib.md5(data).hexdigest(), "Linux got the pattern, in order"
    (m,) = s.wait_all(r"^\[peer\] HIL:SERIAL sent=(\d+) fnv=(0x[0-9a-f]{8})$", timeout=30)
    assert int(m[1]) == BYTES and int(m[2], 16) == fnv1a(data)
    s.wait_all(r"^\[linux\] HIL:SERIAL linux sent=1048576$", timeout=240)
    (m,) = s.wait_all(r"^\[peer\] HIL:SERIAL received=(\d+) fnv=(0x[0-9a-f]{8}) "
                      r"mismatches=(\d+) first-bad=(\S+) ok=(\w+)$", timeout=240)
    assert int(m[1]) == BYTES
    assert int(m[2], 16) == fnv1a(data), "the peer got back exactly what it sent"
    assert (m[3], m[4], m[5]) == ("0", "None", "true")
    text = s.console.text
    assert "HIL:SERIAL FAIL" not in text
    assert "HIL:PANIC" not in text
    assert "STOPPED reason=fault" not in text
