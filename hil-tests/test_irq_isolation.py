"""Scenario `irq-isolation`: a partition that disables, pends, routes and raises interrupts it
does not own (distributor writes, other CPUs' redistributors, SGIs to foreign CPUs) changes
nothing for the others: Linux boots and keeps its timer and IPIs, the bare-metal heartbeat
never skips, and the hypervisor counts the attacker's writes as ignored.

The partitions run on QEMU without -icount, so how far Linux's boot has got when the attack
ends depends on the host: every marker is looked for in the whole log (not after the previous
one), and the overlap is asserted from where they appear."""

BOOT = 240


def position(s, pattern: str, timeout: float = BOOT):
    """The first match of `pattern` anywhere in the log (waiting for it)."""
    return s.wait_all(pattern, timeout=timeout)[0]


def test_an_attacker_cannot_touch_other_partitions_interrupts(boot):
    s = boot("irq-isolation")
    attack_started = position(s, r"^\[attacker\] HIL:ATTACK round 0$", timeout=60).start()
    done = position(s, r"^\[attacker\] HIL:ATTACK done rounds=(\d+) spis-enabled-in-own-view=(\d+)$")
    assert done[2] == "0", "the attacker owns no SPI, so its own view shows none enabled"
    ignored = int(position(s, r"^HIL:VGIC partition=attacker ignored-writes=(\d+) ", timeout=30)[1])
    assert ignored >= int(done[1]) * 100, "every foreign write was ignored and counted"
    linux_booting = position(s, r"^\[linux\] \[\s*[\d.]+\] Booting Linux").start()
    position(s, r"HIL:PART linux UP cpu=1 vcpu=1")
    userspace = position(s, r"^\[linux\] HIL:LINUX userspace cpus=2 ").start()
    assert attack_started < userspace and linux_booting < done.start(), (
        "the attack ran while Linux booted"
    )
    position(s, r"^\[linux\] HIL:LINUX sleep-ok", timeout=60)
    position(s, r"HIL:PART linux STOPPED reason=system-off", timeout=60)
    last = s.heartbeats("rtos")[-1]
    s.wait_all(rf"^\[rtos\] HIL:HEARTBEAT {last + 2}$", timeout=30)
    beats = s.heartbeats("rtos")
    assert beats == list(range(len(beats))), "the bare-metal heartbeat has no gaps"
    assert "HIL:PANIC" not in s.console.text
