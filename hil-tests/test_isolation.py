"""Scenario `isolation`: a partition that writes outside its memory is stopped with a report;
the other keeps running."""


def test_fault_stops_only_the_faulting_partition(boot):
    s = boot("isolation")
    s.expect(r"\[beta\] HIL:GUEST writing outside its memory at 0x48000000")
    report = s.expect(
        r'partition "beta" \(id 2\) stopped: write outside its memory at IPA 0x0000000048000000'
        r".*\n\s+vCPU 0 on CPU (\d+): instruction at ELR (0x[0-9a-f]+) = (0x[0-9a-f]{8}); ESR (0x[0-9a-f]+) \(EC 0x24"
    )
    assert int(report[4], 16) >> 26 == 0x24, "data abort from a lower EL"
    s.expect(r"HIL:PART beta STOPPED reason=fault")
    beats_at_stop = s.heartbeats("alpha")
    last = beats_at_stop[-1] if beats_at_stop else -1
    s.wait_all(rf"^\[alpha\] HIL:HEARTBEAT {last + 3}$", timeout=30)
    alpha = s.heartbeats("alpha")
    assert alpha == list(range(len(alpha))), "alpha's heartbeats have no gaps"
    beta_after = s.console.text.split("HIL:PART beta STOPPED", 1)[1]
    assert "[beta]" not in beta_after, "beta printed after it was stopped"
    assert "HIL:GUEST FAIL" not in s.console.text


def test_a_fault_report_names_the_first_exception_the_guest_took(boot):
    """gamma runs `udf` with no vectors: the stage-2 fetch from its vector table stops it, and
    the report also names the UNDEF it was taking (issue 11, point 7)."""
    s = boot("isolation")
    s.expect(r"\[gamma\] HIL:GUEST executing an undefined instruction")
    report = s.expect(
        r'partition "gamma" \(id 3\) stopped: .*\n.*\n\s+first exception \(the guest\'s own, which it '
        r"faulted taking: its vectors are at VBAR_EL1 (0x[0-9a-f]+)\): ESR_EL1 (0x[0-9a-f]+) "
        r"\(EC 0x00: unknown reason\) at ELR_EL1 (0x[0-9a-f]+)"
    )
    assert int(report[2], 16) >> 26 == 0, "the UNDEF (EC 0)"
    assert 0x4000_0000 <= int(report[3], 16) < 0x4100_0000, "at the udf in its own RAM"
    s.expect(r"HIL:PART gamma STOPPED reason=fault")
