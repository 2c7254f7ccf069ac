"""Scenario `attacker_suite` (GICv3 and GICv2): while the RTOS runs its task set and Debian's
Linux prints a heartbeat, an attacker partition runs every attack of issue 11 (set/way cache
maintenance, counting cycles at EL2 with the PMU, debug registers, OS lock and DCC, EL2
registers, sign-extending, unaligned, exclusive and pair device accesses, wild reads and writes
across the address space, WFI/WFE storms, CPU_SUSPEND with bogus entries, foreign PSCI targets
and doorbells, non-zero immediates, 1,000,000 random hypercalls and 100,000 SMCs from a printed
seed, a full distributor sweep with SGIs to every CPU) and a bystander checks its own vGIC state
and the hypervisor's answers every 200 ms.

What must hold: the hypervisor stays up; every attack reports PASS (the hypervisor held); the
RTOS misses no deadline in the 10 s window the attack runs in; Linux's heartbeat has no gap;
the bystander never sees a change; Linux's kernel sees no PMU (denied) and one breakpoint.

Everything runs under -icount (as the RTOS timing scenarios do): guest time is instructions, so
the RTOS's deadlines do not depend on the host, and the attacker sleeps between its bursts of
calls so QEMU's round-robin vCPU thread is not taken from the others.
"""

import re

import pytest

from test_rtos import ICOUNT, assert_every_release_accounted, assert_no_misses, window_stats

ATTACKS = {
    "id-registers", "set-way", "pmu-el2-cycles", "debug-registers", "dcc", "el2-registers",
    "sign-extension", "unaligned-device", "exclusive-and-pair", "wild-accesses", "wfi-wfe-storm",
    "cpu-suspend-bogus", "foreign-psci", "foreign-doorbells", "nonzero-immediates",
    "random-calls", "gic-sweep",
}
# Host seconds for the whole attack under -icount (measured: see the README's scenario list).
ATTACK_TIMEOUT = 400
BOOT = 240


def first(s, pattern: str, timeout: float):
    """The first match of `pattern` anywhere in the log (waiting for it)."""
    return s.wait_all(pattern, timeout=timeout)[0]


@pytest.mark.parametrize("config,gic", [("attacker-suite", 3), ("attacker-suite-gicv2", 2)])
def test_attacker_suite(boot, config, gic, capsys):
    s = boot(config, gic=gic, extra=ICOUNT)
    s.expect(rf"HIL:BOOT Bulkhead \S+ el=2 .* gic=v{gic} ", timeout=30)
    seed = first(s, r"^\[attacker\] HIL:ATTACK start seed=(0x[0-9a-f]+)", 60)[1]
    summary = first(
        s, r"^\[attacker\] HIL:ATTACK summary passed=(\d+) failed=(\d+) seed=(0x[0-9a-f]+) guest-ms=(\d+)",
        ATTACK_TIMEOUT,
    )
    text = s.console.text
    lines = re.findall(r"^\[attacker\] HIL:ATTACK (\S+) (PASS|FAIL) (.*)$", text, re.MULTILINE)
    with capsys.disabled():
        print(f"\n{config}: seed {seed}, attack took {summary[4]} ms of guest time")
        for name, verdict, detail in lines:
            print(f"  {name} {verdict} {detail}")
    reported = {name for name, _, _ in lines}
    assert reported == ATTACKS, f"missing {ATTACKS - reported}, unexpected {reported - ATTACKS}"
    failed = [f"{name}: {detail}" for name, verdict, detail in lines if verdict != "PASS"]
    assert not failed, f"attacks that got through (seed {seed}): {failed}"
    assert summary[2] == "0" and summary[3] == seed
    attack_start = text.index("[attacker] HIL:ATTACK id-registers")
    attack_end = summary.start()

    # The hypervisor reported the injected aborts and stopped only the attacker, as it asked.
    assert re.search(r"^HIL:FAULT partition=attacker vcpu=0 injected=data-abort ", text, re.MULTILINE)
    first(s, r"HIL:PART attacker STOPPED reason=system-off", 60)

    # The RTOS: no deadline missed in the window the attack ran in.
    window_end = first(s, r"^\[rtos\] HIL:RTOS window=0 end .* load-loops=\d+\n", BOOT)
    text = s.console.text
    window_start = text.index("[rtos] HIL:RTOS window=0 start ")
    assert window_start < attack_start and attack_end < window_end.start(), (
        "the whole attack ran inside the RTOS's measured window"
    )
    window = window_stats(text, "[rtos] ", 0)
    for line in window.describe():
        with capsys.disabled():
            print(f"  rtos {line}")
    assert_every_release_accounted(window)
    assert_no_misses(window)

    # The bystander: its own vGIC state and the hypervisor's answers never changed, and its
    # checks spanned the attack.
    guard_start = first(s, r"^\[guard\] HIL:GUARD start rounds=70 .* pmuver=0 pmcr=0x0$", 30)
    first(s, r"^\[guard\] HIL:GUARD done rounds=70 changed=0$", 120)
    text = s.console.text
    assert "HIL:GUARD round" in text and " FAIL " not in text.split("[guard] HIL:GUARD start", 1)[1].split(
        "HIL:GUARD done", 1)[0].replace("[attacker]", "")
    guard_rounds = [m.start() for m in re.finditer(r"^\[guard\] HIL:GUARD round \d+ ok$", text, re.MULTILINE)]
    assert guard_start.start() < attack_start and any(attack_start < r < attack_end for r in guard_rounds)

    # Linux: no PMU (denied), the ID registers' one breakpoint, and a heartbeat with no gap
    # through the attack.
    last_before_end = len(re.findall(r"^\[linux\] HIL:LINUX heartbeat", text[:attack_end], re.MULTILINE))
    first(s, rf"^\[linux\] HIL:LINUX heartbeat {last_before_end + 3} ", 60)
    text = s.console.text
    perf = first(s, r"^\[linux\] HIL:LINUX perf-devices=(.*)$", 5)[1]
    assert "armv8" not in perf, f"Linux found a PMU: {perf}"
    assert re.search(r"^\[linux\] HIL:LINUX dmesg .*found 1 breakpoint and 1 watchpoint", text, re.MULTILINE)
    beats = [(int(n), float(t)) for n, t in re.findall(
        r"^\[linux\] HIL:LINUX heartbeat (\d+) uptime=([\d.]+)$", text, re.MULTILINE)]
    assert [n for n, _ in beats] == list(range(len(beats))), "Linux's heartbeat numbers have no gap"
    gaps = [b[1] - a[1] for a, b in zip(beats, beats[1:])]
    assert max(gaps) < 1.0, f"Linux's heartbeat has a gap of {max(gaps):.2f} s (period 0.2 s)"
    during = [m.start() for m in re.finditer(r"^\[linux\] HIL:LINUX heartbeat", text, re.MULTILINE)]
    assert any(attack_start < p < attack_end for p in during), "Linux's heartbeat ran during the attack"

    assert "HIL:PANIC" not in text and "hypervisor fault" not in text
    for other in ("rtos", "linux", "guard"):
        assert f"HIL:PART {other} STOPPED reason=fault" not in text
