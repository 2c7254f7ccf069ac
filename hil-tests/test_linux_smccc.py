"""Scenario `linux-smccc`: unmodified Linux discovers SMCCC v1.2, PSCI v1.1, SOC_ID and the Arm
TRNG through Bulkhead, and `reboot` restarts only the Linux partition."""

BOOT = 240


def test_linux_sees_the_standard_smccc_services_and_reboots_alone(boot):
    s = boot("linux-smccc")
    s.expect(r"^\[linux\] HIL:LINUX userspace cpus=2 .*mode=smccc", timeout=BOOT)
    version = s.expect(r"^\[linux\] HIL:LINUX dmesg .*psci: SMC Calling Convention v(\d+)\.(\d+)", timeout=30)
    assert (int(version[1]), int(version[2])) >= (1, 2)
    s.expect(r"^\[linux\] HIL:LINUX dmesg .*psci: PSCIv1\.1 detected in firmware", timeout=30)
    soc_id = s.expect(r"^\[linux\] HIL:LINUX soc0 soc_id=(jep106:[0-9a-f]{4}:[0-9a-f]{4})$", timeout=30)
    assert soc_id[1] != "jep106:0000:0000"
    s.expect(r"^\[linux\] HIL:LINUX soc0 revision=0x[0-9a-f]+$", timeout=30)
    s.expect(r"^\[linux\] HIL:LINUX trng-module loaded", timeout=30)
    s.expect(r"^\[linux\] HIL:LINUX hwrng current=smccc_trng", timeout=30)
    verdict = s.expect(
        r"^\[linux\] HIL:LINUX hwrng sizes=(\d+),(\d+) differ=(\w+) distinct-bytes=(\d+)$", timeout=30
    )
    assert (verdict[1], verdict[2]) == ("64", "64"), "64 bytes from /dev/hwrng each time"
    assert verdict[3] == "yes", "two reads differ"
    assert int(verdict[4]) > 16, "not a constant pattern"

    s.expect(r"^\[linux\] HIL:LINUX reboot", timeout=30)
    s.expect(r"HIL:PART linux RESTART reason=system-reset", timeout=120)
    restarted_at = s.console.cursor
    beats_at_restart = len(s.heartbeats("rtos"))
    s.expect(r"^\[linux\] HIL:LINUX userspace cpus=2 .*mode=smccc", timeout=BOOT)
    beats = s.heartbeats("rtos")
    assert len(beats) > beats_at_restart, "the other partition kept running through the reboot"
    assert beats == list(range(len(beats))), "its heartbeat has no gaps"
    assert "HIL:PART rtos" not in s.console.text[restarted_at:], "only the Linux partition restarted"
