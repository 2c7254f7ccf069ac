"""Scenario `partition-off`: PSCI SYSTEM_OFF stops the calling partition only; the machine
powers off when the last partition is off."""


def test_system_off_stops_one_partition_then_the_machine(boot):
    s = boot("partition-off")
    s.expect(r"HIL:PART beta STOPPED reason=system-off", timeout=60)
    at_stop = s.heartbeats("alpha")
    assert len(at_stop) < 10, "alpha was still running when beta stopped"
    s.wait_all(rf"^\[alpha\] HIL:HEARTBEAT {len(at_stop) + 1}$", timeout=30)
    s.expect(r"HIL:PART alpha STOPPED reason=system-off", timeout=60)
    assert s.heartbeats("alpha") == list(range(10))
    s.expect(r"all partitions are off: powering off")
    assert s.wait_exit(timeout=30) == 0, "QEMU exits with status 0"
