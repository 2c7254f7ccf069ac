"""Scenario `cpu_on_off_cycles`: leaving a guest never nests, an EL2 stack overflow is a
reported hypervisor fault, and the corner cases of issue 11's point 1.

- A bare-metal partition switches its second vCPU on and off 10,000 times; the EL2 stack
  high-water mark of that vCPU's CPU is the same after the first and after the last cycle
  (before the fix every cycle left about 1.8 KiB on the stack). `hvc #1` and `smc #1` get
  NOT_SUPPORTED, and when both its vCPUs have switched themselves off the partition is stopped
  (reason=cpu-off) and the machine can power off.
- Linux hotplugs cpu1 10 and 1,000 times (two boots); the high-water mark of CPU 1 in the stop
  report stays flat (within less than one leaked cycle's worth).
- A hypervisor built with its test hooks recurses on an EL2 stack until the guard page: one
  `HIL:PANIC EL2 stack overflow on CPU n` report, then the other partition stops and the machine
  powers off.
"""

import re

LINUX_TIMEOUT = 600
CYCLES = 10_000


def stack_line(text: str, partition: str, cpu: int) -> tuple[int, int]:
    found = re.findall(
        rf"^HIL:STACK partition={partition} cpu={cpu} high-water=(\d+) size=(\d+)$", text, re.MULTILINE
    )
    assert len(found) == 1, f"one stop-report stack line for {partition} cpu {cpu}: {found}"
    return int(found[0][0]), int(found[0][1])


def test_cpu_on_off_cycles_bare_metal_keeps_the_el2_stack_depth(boot):
    s = boot("cpu-on-off-cycles")
    s.expect(r"^\[cycler\] HIL:TEST hvc-imm1 PASS x0=0xffffffff", timeout=60)
    s.expect(r"^\[cycler\] HIL:TEST smc-imm1 PASS x0=0xffffffff", timeout=10)
    done = s.expect(
        r"^\[cycler\] HIL:CYCLES done cycles=(\d+) runs=(\d+) high-water-first=(\d+) "
        r"high-water-last=(\d+) stack-size=(\d+)$",
        timeout=900,
    )
    cycles, runs, first, last, size = map(int, done.groups())
    assert cycles == CYCLES, "every CPU_ON succeeded"
    assert runs == CYCLES, "vCPU 1 ran once per cycle"
    assert 0 < first < size // 2, f"a measured high-water mark ({first} of {size} bytes)"
    # Every trap starts at the top of the stack, so the mark is the deepest trap path's, not a
    # function of the cycles. vCPU 1 takes one of two paths per entry: its CPU_OFF call, or, when
    # the CPU_ON kick arrives after it already left its wait loop, an IRQ trap first (measured 24
    # bytes deeper), which can happen first at any cycle. A leak would add about 1.8 KiB per cycle.
    assert first <= last <= first + 128, f"the EL2 stack depth stayed flat ({first} -> {last} bytes)"
    # Both vCPUs switched themselves off: the partition is stopped, not a zombie, and with
    # "watch" off too the machine powers off.
    s.expect(r"^HIL:PART cycler STOPPED reason=cpu-off$", timeout=60)
    # The stop report's mark includes the stop itself (vCPU 1 stopped the partition on CPU 2,
    # a deeper path than a cycle's), so it is at least the vendor call's.
    high_water, _ = stack_line(s.console.text, "cycler", 2)
    assert last <= high_water < size // 2, f"the stop report's mark ({high_water} bytes)"
    s.expect(r"all partitions are off: powering off", timeout=60)
    assert s.wait_exit(timeout=30) == 0
    assert "HIL:PANIC" not in s.console.text


def linux_hotplug(boot, config: str, cycles: int) -> tuple[int, int]:
    s = boot(config, smp=4)
    s.expect(r"^\[linux\] HIL:LINUX userspace cpus=2 .*mode=hotplug", timeout=LINUX_TIMEOUT)
    s.expect(
        rf"^\[linux\] HIL:LINUX hotplug done cycles={cycles} online=0-1$", timeout=LINUX_TIMEOUT
    )
    s.expect(r"^HIL:PART linux STOPPED reason=system-off$", timeout=60)
    text = s.console.text
    assert "HIL:PANIC" not in text
    assert "failed to come online" not in text
    return stack_line(text, "linux", 1)


def test_cpu_on_off_cycles_linux_hotplug_keeps_the_el2_stack_depth(boot):
    few, size = linux_hotplug(boot, "linux-hotplug-short", 10)
    many, _ = linux_hotplug(boot, "linux-hotplug", 1000)
    assert 0 < few < size // 2, f"a measured high-water mark ({few} of {size} bytes)"
    # Every entry and trap starts at the top of the stack, so the depth is that of the deepest
    # trap path, not of the number of cycles: before the fix each cycle left about 1.8 KiB, and
    # 1,000 cycles would run into the guard page after a few (a HIL:PANIC, refused above). The
    # init takes cpu1 off before it powers off, so the stop path never runs on cpu1. Which of
    # the vGIC's deeper write paths (Linux moves its interrupts as CPUs go and come) a run takes
    # varies with timing (measured on cpu1: 2,584 to 3,776 bytes, once 5,896), so the check is
    # a bound half the stack, far below what a leak reaches in 1,000 cycles, not equality.
    assert many < size // 2, f"the EL2 stack depth stayed bounded ({few} -> {many} of {size} bytes)"


def test_cpu_on_off_cycles_guard_page_hit_is_a_hypervisor_fault(boot):
    s = boot("test-hooks-stack-overflow")
    s.wait_all(r"^\[bystander\] HIL:HEARTBEAT 2$", timeout=60)
    s.expect(r"^\[attacker\] HIL:GUEST overflowing the EL2 stack$", timeout=60)
    panic = s.expect(r"^HIL:PANIC EL2 stack overflow on CPU (\d+): SP (0x[0-9a-f]+) FAR (0x[0-9a-f]+)", timeout=60)
    assert int(panic[1]) == 1, "the attacker's CPU"
    s.expect(r"^HIL:PANIC-CPU cpu=1 partition=attacker vcpu=0$", timeout=10)
    s.expect(r"^hypervisor failed: every partition is stopped$", timeout=10)
    assert s.wait_exit(timeout=30) == 0, "the machine powered off"
    text = s.console.text
    after = text[text.index("hypervisor failed: every partition is stopped") :]
    assert "HIL:HEARTBEAT" not in after, "the bystander stopped with the machine"
    assert text.count("HIL:PANIC EL2") == 1, "one report"
    assert "the hypervisor survived" not in text
    # The report names no guest register state: no register dump lines.
    assert not re.search(r"^\s+x0\s+0x", text, re.MULTILINE)
