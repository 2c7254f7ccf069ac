"""Scenario `management_calls` (issue 11, point 6): a privileged partition manages another.

A privileged bare-metal partition ("manager") stops the RTOS while it is busy in its task set,
starts it, restarts it, and is refused a stop of itself (management acts on other partitions;
a partition stops itself with PSCI), checking the RTOS's state through the list call after each
step; the RTOS's own markers stop and start again. An unprivileged partition ("denied") gets
DENIED from every privileged management call, and nothing is written to its buffer.

The second test runs `bulkheadctl` in a privileged Linux (its management window, over
/dev/mem) against the RTOS; an unprivileged partition cannot have a window (the configuration
rejects it: config/src/validate/management.rs).
"""

import re
import time


def wait_after(s, pattern: str, position: int, timeout: float) -> None:
    """Waits until `pattern` appears in the console after `position` (the cursor stays)."""
    deadline = time.monotonic() + timeout
    while not re.search(pattern, s.console.text[position:], re.MULTILINE):
        assert time.monotonic() < deadline, f"{pattern!r} not seen after {position} in {timeout}s"
        time.sleep(0.5)


def rtos_lines(text: str) -> int:
    return len(re.findall(r"^\[rtos\] ", text, re.MULTILINE))


def test_management_calls_a_privileged_partition_stops_starts_and_restarts_the_rtos(boot):
    s = boot("management-calls")
    rtos_start = r"\[rtos\] HIL:RTOS start host=bulkhead partition=1 "
    rtos_window = r"^\[rtos\] HIL:RTOS window=\d+ start "
    s.wait_all(rtos_start, timeout=60)
    s.wait_all(rtos_window, timeout=60)
    # The manager's lines and the hypervisor's reports of its calls come in this order; the
    # RTOS's own lines are counted (its vCPU runs beside the manager's).
    s.expect(r"^\[manager\] HIL:MGMT drive stopping rtos id=1$", timeout=60)
    s.expect(r"^HIL:PART rtos STOPPED reason=management$", timeout=30)
    stopped_at = s.console.cursor
    s.expect(r"^\[manager\] HIL:MGMT drive stop Ok\(\(\)\) state=Some\(1\)$", timeout=10)
    s.expect(r"^\[manager\] HIL:MGMT drive stop-again Err\(Other\(-6\)\)$", timeout=10)
    s.expect(r"^HIL:PART rtos START reason=management$", timeout=30)
    started_at = s.console.cursor
    s.expect(r"^\[manager\] HIL:MGMT drive start Ok\(\(\)\) state=Some\(0\)$", timeout=10)
    wait_after(s, rtos_start, started_at, 60)
    wait_after(s, rtos_window, started_at, 60)
    s.expect(r"^HIL:PART rtos RESTART reason=management restarts=1 took-ticks=\d+$", timeout=30)
    restarted_at = s.console.cursor
    s.expect(r"^\[manager\] HIL:MGMT drive restart Ok\(\(\)\) state=Some\(0\)$", timeout=10)
    s.expect(r"^\[manager\] HIL:MGMT drive stop-self Err\(InvalidParameter\)$", timeout=10)
    s.expect(r"^\[manager\] HIL:MGMT drive done ok=true$", timeout=10)
    wait_after(s, rtos_start, restarted_at, 60)
    wait_after(s, rtos_window, restarted_at, 60)
    text = s.console.text

    # While stopped, the RTOS printed nothing: its vCPU was out of its guest.
    assert rtos_lines(text[stopped_at:started_at]) == 0, "the RTOS stayed stopped"
    assert text.count("HIL:RTOS start host=bulkhead") == 3, "booted, started, restarted"
    assert re.search(r"^\[denied\] HIL:MGMT denied-checks passed=7 failed=0$", text, re.MULTILINE)
    assert len(re.findall(r"^\[denied\] HIL:TEST mgmt-denied PASS id=0x", text, re.MULTILINE)) == 6
    assert "HIL:PANIC" not in text
    assert not re.search(r"HIL:PART manager (STOPPED|RESTART)", text)
    assert "HIL:PART rtos STOPPED reason=fault" not in text


def test_management_calls_bulkheadctl_in_linux_stops_starts_and_restarts_the_rtos(boot):
    """Linux (privileged, with a management window) runs bulkheadctl from its initramfs."""
    s = boot("management-linux")
    rtos_start = r"\[rtos\] HIL:RTOS start host=bulkhead partition=\d+ "
    rtos_window = r"^\[rtos\] HIL:RTOS window=\d+ start "
    s.wait_all(rtos_start, timeout=60)
    s.expect(r"^\[linux\] HIL:CTL run list$", timeout=120)
    s.expect(r"^\[linux\] HIL:CTL partition linux id=1 state=running vcpus=2 cpus=0x3 "
             r"restarts=0 privileged$", timeout=20)
    s.expect(r"^\[linux\] HIL:CTL partition rtos id=2 state=running vcpus=1 cpus=0x4 "
             r"restarts=0$", timeout=20)
    s.expect(r"^\[linux\] HIL:CTL run stop rtos$", timeout=20)
    s.expect(r"^HIL:PART rtos STOPPED reason=management$", timeout=30)
    stopped_at = s.console.cursor
    s.expect(r"^\[linux\] HIL:CTL stop rtos: ok$", timeout=20)
    s.expect(r"^\[linux\] HIL:CTL partition rtos id=2 state=stopped ", timeout=20)
    s.expect(r"^\[linux\] HIL:CTL run start rtos$", timeout=20)
    s.expect(r"^HIL:PART rtos START reason=management$", timeout=30)
    started_at = s.console.cursor
    s.expect(r"^\[linux\] HIL:CTL start rtos: ok$", timeout=20)
    wait_after(s, rtos_start, started_at, 60)
    wait_after(s, rtos_window, started_at, 60)
    s.expect(r"^HIL:PART rtos RESTART reason=management restarts=1 took-ticks=\d+$", timeout=30)
    restarted_at = s.console.cursor
    s.expect(r"^\[linux\] HIL:CTL restart rtos: ok$", timeout=20)
    s.expect(r"^\[linux\] HIL:CTL partition rtos id=2 state=running vcpus=1 cpus=0x4 "
             r"restarts=1$", timeout=30)
    s.expect(r"^\[linux\] HIL:CTL bulkheadctl: error: stop: no partition called \"nosuch\"$",
             timeout=20)
    s.expect(r"^\[linux\] HIL:CTL done$", timeout=20)
    wait_after(s, rtos_start, restarted_at, 60)
    text = s.console.text
    assert rtos_lines(text[stopped_at:started_at]) == 0, "the RTOS stayed stopped"
    assert len(re.findall(r"HIL:RTOS start host=bulkhead", text)) == 3, "booted, started, restarted"
    assert "HIL:PANIC" not in text
    assert not re.search(r"HIL:PART linux (STOPPED|RESTART)", text)
