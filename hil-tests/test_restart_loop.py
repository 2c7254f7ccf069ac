"""Scenario `restart_loop` (issue 11, point 3): restarts leak nothing and are rate-limited.

- The RTOS partition (on-stop = "restart", no limit) faults at its first 1,000 boots and calls
  SYSTEM_RESET at the next 1,000 (its boot arguments, counted by the hypervisor's restart count
  through BULKHEAD_MGMT_SELF), while Linux (2 vCPUs) prints a heartbeat every second and a
  privileged bare-metal partition reads the hypervisor's free memory and the RTOS's restart
  count through the management calls: every restart is reported with its cause and comes back
  (the RTOS boots again) within a bound; Linux's heartbeat goes on and both its CPUs stay
  online; the free memory is the same before and after; the RTOS then runs its task set.
- A partition with max-restarts = <3 60> that faults at every boot restarts 3 times and then
  stays off with a report; an unprivileged partition's management calls are all DENIED.
"""

import re

CRASHES = 1000
RESETS = 1000
# The longest a restart may take, from the stop decision to the partition ready to enter
# (stop, scrub of its 4 MiB, image copy), in ticks of QEMU's 62.5 MHz counter: 2 s. Without
# -icount the counter follows the host's clock, so a loaded host stretches it: measured on a
# shared 2-core host, 2,000 restarts took min 11 ms, median 118 ms, p99 334 ms, max 560 ms. The
# bound catches a restart that hangs or grows with the count, not a small regression (the test
# prints the max and mean).
RESTART_BOUND_TICKS = 125_000_000
LINUX_TIMEOUT = 600


def test_restart_loop_rtos_restarts_2000_times_without_leaks(boot):
    s = boot("restart-loop")
    before = s.expect(
        r"^\[watch\] HIL:MGMT free when=before ram=(\d+) tables-free=(\d+) tables-total=(\d+)$",
        timeout=60,
    )
    s.expect(r"^\[watch\] HIL:MGMT listed Ok\(3\)$", timeout=10)
    # Linux boots while the RTOS restarts; which finishes first depends on the host.
    s.wait_all(r"^\[linux\] HIL:LINUX heartbeat 0 online=0-1$", timeout=LINUX_TIMEOUT)
    done = s.wait_all(r"^\[watch\] HIL:MGMT watch done target=rtos restarts=(\d+)$", timeout=900)[0]
    assert int(done[1]) >= CRASHES + RESETS
    after = s.wait_all(
        r"^\[watch\] HIL:MGMT free when=after ram=(\d+) tables-free=(\d+) tables-total=(\d+)$",
        timeout=10,
    )[0]
    s.wait_all(r"^\[rtos\] HIL:RTOS boot-actions done restarts=2000$", timeout=60)
    s.wait_all(r"^\[rtos\] HIL:RTOS window=\d+ ", timeout=60)
    last_beat = max(int(m[1]) for m in s.console.lines_matching(r"^\[linux\] HIL:LINUX heartbeat (\d+) "))
    s.wait_all(rf"^\[linux\] HIL:LINUX heartbeat {last_beat + 2} online=0-1$", timeout=30)
    text = s.console.text

    assert before.groups() == after.groups(), f"free memory before {before.groups()} after {after.groups()}"
    assert int(before[1]) > 0 and int(before[3]) > 0, "a measured free memory"

    restarts = re.findall(
        r"^HIL:PART rtos RESTART reason=(\S+) restarts=(\d+) took-ticks=(\d+)$", text, re.MULTILINE
    )
    assert len(restarts) == CRASHES + RESETS, f"{len(restarts)} restarts reported"
    assert [int(n) for _, n, _ in restarts] == list(range(1, CRASHES + RESETS + 1))
    reasons = [reason for reason, _, _ in restarts]
    assert reasons == ["fault"] * CRASHES + ["system-reset"] * RESETS, "each restart with its cause"
    took = [int(t) for _, _, t in restarts]
    print(f"restart time: max {max(took)} ticks, mean {sum(took) // len(took)} ticks (62.5 MHz)")
    assert max(took) < RESTART_BOUND_TICKS, f"slowest restart {max(took)} ticks"
    # Every restart came back: the RTOS booted after each (its own marker), 2,001 boots in all.
    crashed = re.findall(r"^\[rtos\] HIL:RTOS crash-at-boot restarts=(\d+)$", text, re.MULTILINE)
    reset = re.findall(r"^\[rtos\] HIL:RTOS reset-at-boot restarts=(\d+)$", text, re.MULTILINE)
    assert [int(n) for n in crashed] == list(range(CRASHES))
    assert [int(n) for n in reset] == list(range(CRASHES, CRASHES + RESETS))
    assert text.count("partition \"rtos\" (id 1) stopped:") == CRASHES, "one fault report per crash"

    beats = [int(n) for n in re.findall(r"^\[linux\] HIL:LINUX heartbeat (\d+) ", text, re.MULTILINE)]
    assert beats == list(range(len(beats))), "Linux's heartbeat has no gap"
    assert len(beats) >= 3
    first_restart = text.index("HIL:PART rtos RESTART")
    last_restart = text.rindex("HIL:PART rtos RESTART")
    during = text[first_restart:last_restart].count("[linux] HIL:LINUX heartbeat ")
    print(f"Linux heartbeats during the 2,000 restarts: {during}")
    assert "failed to come online" not in text
    assert "HIL:PANIC" not in text
    assert not re.search(r"HIL:PART (linux|watch) (STOPPED|RESTART)", text)
    assert "STOPPED reason=restart-limit" not in text, "no limit configured: never limited"


def test_restart_loop_over_its_rate_a_partition_stays_off(boot):
    s = boot("restart-limit")
    for n in range(1, 4):
        s.expect(rf"^HIL:PART limited RESTART reason=fault restarts={n} took-ticks=\d+$", timeout=60)
    s.expect(
        r"^HIL:PART limited STOPPED reason=restart-limit cause=fault restarts=3 max-restarts=3/60s$",
        timeout=60,
    )
    stopped_at = s.console.cursor
    s.expect(r"^HIL:PART bystander STOPPED reason=system-off$", timeout=60)
    s.expect(r"all partitions are off: powering off", timeout=60)
    assert s.wait_exit(timeout=30) == 0
    text = s.console.text
    assert text.count("HIL:PART limited UP") == 4, "the first boot and 3 restarts"
    assert "HIL:PART limited" not in text[stopped_at:], "it stays off"
    assert re.search(r"^\[denied\] HIL:MGMT denied-checks passed=7 failed=0$", text, re.MULTILINE)
    assert len(re.findall(r"^\[denied\] HIL:TEST mgmt-denied PASS id=0x", text, re.MULTILINE)) == 6
    beats = [int(n) for n in re.findall(r"^\[bystander\] HIL:HEARTBEAT (\d+)$", text, re.MULTILINE)]
    assert beats == list(range(20)), "the bystander's heartbeat is whole"
    assert "HIL:PANIC" not in text
