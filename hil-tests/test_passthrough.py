"""Scenario `passthrough`: a PL011 passed through to one partition is driven by that partition
directly (no hypervisor on its path), and the hypervisor's own UART stays unreachable."""

import time


def test_a_passed_through_uart_belongs_to_one_partition(boot, tmp_path):
    uart1 = tmp_path / "uart1.log"
    s = boot("passthrough", extra=["-serial", f"file:{uart1}"])
    s.expect(r'partition "beta" \(id 2\): 16 MiB at PA 0x[0-9a-f]+, 1 device\(s\)', timeout=30)
    # beta's own UART: its heartbeats arrive on the second serial port, unprefixed.
    report = s.expect(
        r'partition "beta" \(id 2\) stopped: write outside its memory at IPA 0x0000000009000000',
        timeout=60,
    )
    assert report, "the hypervisor's UART is not part of beta's address space"
    s.expect(r"HIL:PART beta STOPPED reason=fault", timeout=30)
    deadline = time.monotonic() + 10
    while "HIL:HEARTBEAT 4" not in (uart1.read_text() if uart1.exists() else "") and time.monotonic() < deadline:
        time.sleep(0.2)
    text = uart1.read_text()
    assert [f"HIL:HEARTBEAT {n}" in text for n in range(5)] == [True] * 5, text
    assert "[beta]" not in s.console.text, "beta never printed through the hypervisor"
    # alpha, on the hypervisor's console, keeps going.
    last = s.heartbeats("alpha")[-1]
    s.wait_all(rf"^\[alpha\] HIL:HEARTBEAT {last + 2}$", timeout=30)
