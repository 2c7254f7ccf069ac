"""Scenario `irq-isolation`: a partition that disables, pends, routes and raises interrupts it
does not own (distributor writes, other CPUs' redistributors, SGIs to foreign CPUs) changes
nothing for the others: Linux boots and keeps its timer and IPIs, the bare-metal heartbeat
never skips, and the hypervisor counts the attacker's writes as ignored."""



BOOT = 240


def test_an_attacker_cannot_touch_other_partitions_interrupts(boot):
    s = boot("irq-isolation")
    s.expect(r"^\[attacker\] HIL:ATTACK round 0$", timeout=60)
    attack_started = s.console.cursor
    s.expect(r"HIL:PART linux UP cpu=1 vcpu=1", timeout=BOOT)
    linux_smp_at = s.console.cursor
    done = s.expect(r"^\[attacker\] HIL:ATTACK done rounds=(\d+) spis-enabled-in-own-view=(\d+)$", timeout=BOOT)
    assert done[2] == "0", "the attacker owns no SPI, so its own view shows none enabled"
    assert attack_started < linux_smp_at < s.console.cursor, "the attack ran while Linux brought up its CPUs"
    ignored = int(s.expect(r"HIL:VGIC partition=attacker ignored-writes=(\d+)", timeout=30)[1])
    assert ignored >= int(done[1]) * 100, "every foreign write was ignored and counted"
    s.expect(r"^\[linux\] HIL:LINUX userspace cpus=2 ", timeout=BOOT)
    s.expect(r"^\[linux\] HIL:LINUX sleep-ok", timeout=60)
    s.expect(r"HIL:PART linux STOPPED reason=system-off", timeout=60)
    last = s.heartbeats("rtos")[-1]
    s.wait_all(rf"^\[rtos\] HIL:HEARTBEAT {last + 2}$", timeout=30)
    beats = s.heartbeats("rtos")
    assert beats == list(range(len(beats))), "the bare-metal heartbeat has no gaps"
    assert "HIL:PANIC" not in s.console.text
