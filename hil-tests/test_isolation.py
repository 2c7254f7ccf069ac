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
