"""Scenario `rpi4-linux-rtos` on QEMU raspi4b: the Raspberry Pi 4 platform (spin-table CPUs, no
PSCI, GIC-400 through the vGICv2 backend, addresses behind the SoC's bus ranges) runs Linux in a
2-vCPU partition beside a bare-metal partition, both visible on the console."""

BOOT = 300


def test_linux_reaches_userspace_beside_the_bare_metal_partition_on_raspi4b(boot):
    s = boot("demo", on="qemu-raspi4b")
    s.expect(r"HIL:BOOT Bulkhead \S+ el=2 board=rpi4 cpus=4 ram=\d+MiB gic=v2 psci=none", timeout=60)
    s.wait_all(r"^\[rtos\] HIL:HEARTBEAT 0$", timeout=60)
    s.expect(r"^\[linux\] \[\s*[\d.]+\] smp: Brought up 1 node, 2 CPUs", timeout=BOOT)
    s.expect(r"^\[linux\] HIL:LINUX userspace cpus=2 ", timeout=BOOT)
    s.expect(r"^\[linux\] HIL:LINUX sleep-ok", timeout=60)
    s.expect(r"HIL:PART linux STOPPED reason=system-off", timeout=60)
    last = s.heartbeats("rtos")[-1]
    s.wait_all(rf"^\[rtos\] HIL:HEARTBEAT {last + 3}$", timeout=30)
    beats = s.heartbeats("rtos")
    assert beats == list(range(len(beats))), "the bare-metal heartbeat has no gaps"
    # No PSCI on the Pi: the hypervisor must never have issued an SMC (QEMU would hang in EL3).
    assert "HIL:PANIC" not in s.console.text


def test_without_psci_the_last_partition_off_resets_the_board_through_the_watchdog(boot):
    s = boot("partition-off", on="qemu-raspi4b")
    s.expect(r"HIL:PART solo STOPPED reason=system-off", timeout=60)
    s.expect(r"HIL:HALT no PSCI: resetting the board through the PM watchdog", timeout=10)
    # QEMU turns the watchdog's full reset into an exit under -no-reboot.
    assert s.wait_exit(timeout=30) == 0
