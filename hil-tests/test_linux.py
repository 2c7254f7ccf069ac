"""Scenario `linux-gicv3` (and `linux-gicv2`): Debian's stock arm64 kernel boots to userspace in
a 2-vCPU partition beside a bare-metal partition whose heartbeat never stops."""

import pytest

LINUX_BOOT_TIMEOUT = 240


@pytest.mark.parametrize("config,gic", [("linux-gicv3", 3), ("linux-gicv2", 2)])
def test_linux_boots_to_userspace_beside_a_bare_metal_partition(boot, config, gic):
    s = boot(config, gic=gic)
    s.expect(rf"HIL:BOOT Bulkhead \S+ el=2 .* gic=v{gic} ", timeout=30)
    s.expect(r"HIL:PART rtos UP", timeout=30)
    s.wait_all(r"^\[rtos\] HIL:HEARTBEAT 0$", timeout=30)
    s.expect(r"^\[linux\] \[\s*[\d.]+\] Booting Linux on physical CPU", timeout=60)
    booting_at = s.console.cursor
    s.expect(r"^\[linux\] \[\s*[\d.]+\] smp: Brought up 1 node, 2 CPUs", timeout=LINUX_BOOT_TIMEOUT)
    s.expect(r"^\[linux\] HIL:LINUX userspace cpus=2 ", timeout=LINUX_BOOT_TIMEOUT)
    userspace_at = s.console.cursor
    s.expect(r"^\[linux\] HIL:LINUX sleep-ok", timeout=60)
    s.expect(r"^\[linux\] HIL:LINUX console-ok HELLO", timeout=30)
    s.expect(r"HIL:PART linux STOPPED reason=system-off", timeout=60)
    stopped_at = s.console.cursor
    last = s.heartbeats("rtos")[-1]
    s.wait_all(rf"^\[rtos\] HIL:HEARTBEAT {last + 3}$", timeout=30)

    beats = s.heartbeats("rtos")
    assert beats == list(range(len(beats))), "the bare-metal heartbeat has no gaps"
    text = s.console.text
    during = text[booting_at:userspace_at].count("[rtos] HIL:HEARTBEAT")
    after = text[stopped_at:].count("[rtos] HIL:HEARTBEAT")
    assert during > 0, "heartbeats while Linux boots"
    assert after >= 3, "heartbeats after Linux powered off"
    assert "all partitions are off" not in text, "only the Linux partition stopped"
