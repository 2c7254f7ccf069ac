"""Scenario `boot`: Bulkhead boots at EL2 and runs two partitions on their own CPUs."""


def test_demo_boots_two_partitions_on_different_cpus(boot):
    s = boot("bare-metal")
    s.expect(r"HIL:BOOT Bulkhead \S+ el=2 board=qemu-virt cpus=4 ram=2048MiB gic=v\d psci=smc")
    ups = {m[1]: int(m[2]) for m in s.wait_all(r"HIL:PART (\w+) UP cpu=(\d+)", count=2)}
    assert set(ups) == {"alpha", "beta"}
    assert ups["alpha"] != ups["beta"], "each partition runs on its own CPU"
    for name in ("alpha", "beta"):
        s.wait_all(rf"^\[{name}\] HIL:HEARTBEAT 3$")
        assert s.heartbeats(name)[:4] == [0, 1, 2, 3]


def test_bad_hypercalls_return_not_supported_and_the_guest_continues(boot):
    """Unknown IDs, reserved bits and yielding calls get SMCCC NOT_SUPPORTED (-1); SMCCC_VERSION,
    ARCH_FEATURES, PSCI_VERSION and PSCI_FEATURES answer; the guest carries on afterwards."""
    s = boot("bare-metal")
    for name in ("alpha", "beta"):
        (checks,) = s.wait_all(rf"^\[{name}\] HIL:CHECKS passed=(\d+) failed=(\d+)$")
        assert checks[2] == "0", s.console.text
        assert int(checks[1]) >= 10
        results = s.console.lines_matching(rf"^\[{name}\] HIL:TEST (\S+) (PASS|FAIL)")
        names = {m[1] for m in results}
        assert {"smccc-version", "smccc-arch-features", "psci-version", "unknown-function-id",
                "reserved-bits", "yielding-call"} <= names
        s.wait_all(rf"^\[{name}\] HIL:HEARTBEAT 2$")


def test_a_partition_whose_cpu_is_missing_is_refused_and_the_other_runs(boot):
    """The configuration is valid for the 4-CPU board, but QEMU runs with 2 CPUs: the hypervisor
    validates again at boot and refuses beta (CPU 2) alone."""
    s = boot("bare-metal", smp=2, built_for_smp=4)
    s.expect(r'partition "beta" \(id 2\) refused: .*CPU 0x2 does not exist')
    s.wait_all(r"^\[alpha\] HIL:HEARTBEAT 3$")
    assert not s.console.lines_matching(r"^\[beta\]")
