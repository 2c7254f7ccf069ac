"""Scenario `partition_watchdog`: every partition has an emulated SBSA generic watchdog
(docs/guest-abi.md, "SBSA generic watchdog") and on-stop = "restart".

- `linux`: Debian's stock `sbsa_gwdt` module binds the `arm,sbsa-gwdt` node and /dev/watchdog
  appears; userspace pets it three times, then closes it without the magic 'V' and stops. The
  watchdog's second signal (WS1) must restart the partition one timeout (4 s) after the last pet.
- `rtos-stuck`: the RTOS refreshes its watchdog from a task 20 times, then stops: restarted
  1 s (two WOR of 500 ms) after its last refresh, at every boot.
- `rtos`: the same RTOS refreshes its watchdog for ever: never restarted.

Timing matters, so the run is under `-icount` with a 1 GHz counter: guest time is counted in
instructions, and the hypervisor's WS1 report gives the counter ticks since the last refresh.
"""

import re

ICOUNT = ["-icount", "shift=0,sleep=off", "-global", "cortex-a72-arm-cpu.cntfrq=1000000000"]
HZ = 1_000_000_000
LINUX_TIMEOUT_S = 4  # timeout-sec in device-trees/qemu-virt/guests/linux-guest-watchdog.dts
RTOS_WOR_S = 0.5  # watchdog-ms in rtos-guest-watchdog-*.dts
# WS1 is noticed by the EL2 timer's interrupt: a few microseconds late at most under -icount.
LATENESS_TICKS = HZ // 1000
WS1 = re.compile(
    r"^HIL:WATCHDOG partition=(?P<name>[\w-]+) ws1 counter=(?P<counter>\d+) "
    r"since-refresh=(?P<since>\d+) wor=(?P<wor>\d+) on-stop=restart$"
)


def ws1_reports(s, name: str) -> list[re.Match]:
    return [m for m in (WS1.match(line) for line in s.console.text.splitlines()) if m and m["name"] == name]


def assert_restarted_one_timeout_after_the_last_refresh(report: re.Match, timeout_ticks: int) -> None:
    since, wor = int(report["since"]), int(report["wor"])
    assert wor * 2 == timeout_ticks, f"WOR is half the timeout (two stages): {report.group(0)}"
    assert timeout_ticks <= since <= timeout_ticks + LATENESS_TICKS, report.group(0)


def test_partition_watchdog_restarts_partitions_that_stop_petting_and_only_those(boot):
    s = boot("partition-watchdog", extra=ICOUNT)
    s.expect(r"HIL:BOOT Bulkhead \S+ el=2 .* gic=v3 ", timeout=30)

    # Linux: the stock driver binds the emulated device.
    s.expect(r"^\[linux\] \[\s*[\d.]+\] sbsa-gwdt a440000\.watchdog: Initialized with 4s timeout @ 1000000000 Hz, action=0\.", timeout=180)
    s.expect(r"^\[linux\] HIL:LINUX watchdog insmod sbsa_gwdt ok$", timeout=30)
    s.expect(r"^\[linux\] HIL:LINUX watchdog /dev/watchdog identity=SBSA_Generic_Watchdog timeout=4$", timeout=30)
    s.expect(r"^\[linux\] HIL:LINUX watchdog pet 3$", timeout=60)
    s.expect(r"^\[linux\] HIL:LINUX watchdog stops petting", timeout=30)
    s.expect(r"^\[linux\] \[\s*[\d.]+\] watchdog: watchdog0: watchdog did not stop!", timeout=30)
    s.expect(r"^HIL:WATCHDOG partition=linux ws1 ", timeout=60)
    s.expect(r"^HIL:PART linux RESTART reason=watchdog\b", timeout=10)
    [linux_ws1] = ws1_reports(s, "linux")
    assert_restarted_one_timeout_after_the_last_refresh(linux_ws1, LINUX_TIMEOUT_S * HZ)
    # ... and it comes back: a second boot to userspace, where the driver binds again.
    s.expect(r"^\[linux\] HIL:LINUX userspace cpus=2 ", timeout=180)
    s.expect(r"^\[linux\] HIL:LINUX watchdog insmod sbsa_gwdt ok$", timeout=60)

    # The petting RTOS ran a whole 10 s window (guest time) through all of this.
    s.expect(r"^\[rtos\] HIL:RTOS window=0 end ", timeout=120)
    text = s.console.text

    # The stuck RTOS: restarted at every boot, each time one timeout after its last refresh.
    stuck = ws1_reports(s, "rtos-stuck")
    assert len(stuck) >= 3, "rtos-stuck restarted at every boot"
    for report in stuck:
        assert_restarted_one_timeout_after_the_last_refresh(report, int(2 * RTOS_WOR_S * HZ))
    assert text.count("HIL:PART rtos-stuck RESTART reason=watchdog") == len(stuck)
    assert text.count("[rtos-stuck] HIL:RTOS watchdog stops petting pets=20 ") >= len(stuck)
    assert text.count("[rtos-stuck] HIL:RTOS start ") == len(stuck) + 1, "every restart booted it again"

    # The RTOS that keeps petting: never restarted, never stopped.
    assert "[rtos] HIL:RTOS watchdog started revision=1 wor-ms=500 pets=0" in text
    assert not ws1_reports(s, "rtos")
    assert "HIL:PART rtos RESTART" not in text and "HIL:PART rtos STOPPED" not in text
    assert text.count("[rtos] HIL:RTOS start ") == 1
    assert "HIL:PANIC" not in text
