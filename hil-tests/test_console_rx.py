"""Scenario `console_rx`: console input reaches a partition through its virtual PL011's receive
FIFO and interrupt (INTID 33 in its virtual GICv3), taken as a driver takes it: the input is fed
by the test-hooks call BULKHEAD_TEST_CONSOLE_INPUT (test-hooks-console-rx.dts, guest code in
guest-shim/test-guest/src/console_rx.rs), standing in for the hypervisor console's receive
path, which calls the same `devices::pl011::console_input`."""


def test_console_rx_input_arrives_by_interrupt_and_the_fifo_holds_32(boot):
    s = boot("test-hooks-console-rx", gic=3)
    s.wait_all(r"^\[bystander\] HIL:HEARTBEAT 0$", timeout=60)
    s.expect(r"^\[rx\] HIL:TEST rx-quiet PASS", timeout=60)
    line = s.expect(r"^\[rx\] HIL:RX line=(\S*) interrupts=(\d+)$", timeout=60)
    assert line[1] == "ping", "the line typed in two batches came out whole"
    assert int(line[2]) >= 1, "it came by interrupt"
    checks = s.expect(r"^\[rx\] HIL:CHECKS passed=(\d+) failed=(\d+)$", timeout=60)
    failures = [m[0] for m in s.console.lines_matching(r"^\[rx\] HIL:TEST \S+ FAIL.*")]
    assert int(checks[2]) == 0, "\n".join(failures)
    assert int(checks[1]) == 3, "rx-quiet, rx-line, rx-fifo-depth"
    s.expect(r"HIL:PART rx STOPPED reason=system-off", timeout=60)
