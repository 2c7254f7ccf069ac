"""Scenario `shim-abi`: two test partitions call every function of Bulkhead's guest ABI
(docs/guest-abi.md) through guest-shim, error paths included; the hypervisor never crashes."""

import re


def checks_of(s, name: str) -> tuple[int, int]:
    (m,) = s.wait_all(rf"^\[{name}\] HIL:CHECKS passed=(\d+) failed=(\d+)$")
    return int(m[1]), int(m[2])


def failures(s, name: str) -> list[str]:
    return [m[0] for m in s.console.lines_matching(rf"^\[{name}\] HIL:TEST \S+ FAIL.*")]


def test_every_abi_call_answers_as_documented(boot):
    s = boot("shim-abi")
    s.expect(r"HIL:ENTROPY source=\S+")
    for name in ("abi", "peer"):
        passed, failed = checks_of(s, name)
        assert failed == 0, "\n".join(failures(s, name))
        assert passed >= 80
        results = {m[1] for m in s.console.lines_matching(rf"^\[{name}\] HIL:TEST (\S+) PASS")}
        assert {
            "abi-smccc-version", "abi-arch-features", "abi-soc-id-version", "abi-workaround-not-claimed",
            "abi-psci-features", "abi-psci-features-absent", "abi-psci-reset2-reserved-type",
            "abi-trng-version", "abi-trng-uuid", "abi-trng-rnd64-192", "abi-trng-bad-bit-count",
            "abi-bulkhead-detect", "abi-vendor-partition-info", "abi-vendor-partition-name",
            "abi-vendor-console-write-buffer", "abi-vendor-console-read", "abi-vendor-bad-pointer",
            "abi-vendor-doorbell-none",
            "abi-unknown-id", "abi-smc-not-allow-listed", "abi-smc-psci-served-by-bulkhead",
        } <= results


def test_bad_pointers_are_refused_for_every_buffer_call(boot):
    s = boot("shim-abi")
    checks_of(s, "peer")
    bad = s.console.lines_matching(r"^\[peer\] HIL:TEST abi-vendor-bad-pointer PASS (\S+) (\S+) ")
    cases = {(m[1], m[2]) for m in bad}
    for call in ("partition-name", "console-write", "console-read"):
        for case in ("unmapped", "straddles-ram-end", "console-mmio", "wraps"):
            assert (call, case) in cases


def test_partition_info_and_the_hypercall_console(boot):
    s = boot("shim-abi")
    ids = {m[1]: int(m[2]) for m in s.wait_all(r"^\[(abi|peer)\] HIL:PARTITION id=(\d+) vcpus=1$", count=2)}
    assert ids == {"abi": 1, "peer": 2}
    for name in ("abi", "peer"):
        s.wait_all(rf"^\[{name}\] HIL:HCONSOLE hello from {name}$")
        s.wait_all(rf"^\[{name}\] HIL:HREGS bytes in registers$")


def test_each_partition_has_its_own_random_stream(boot):
    s = boot("shim-abi")
    values = {m[1]: m[2] for m in s.wait_all(r"^\[(abi|peer)\] HIL:RANDOM ([0-9a-f]{48})$", count=2)}
    assert set(values) == {"abi", "peer"}
    assert values["abi"] != values["peer"]


def test_smcs_not_allow_listed_never_reach_the_firmware(boot):
    """SiP queries over SMC get Bulkhead's own NOT_SUPPORTED (X1..X3 cleared) unless allow-listed;
    PSCI over SMC is served by Bulkhead."""
    s = boot("shim-abi")
    for name in ("abi", "peer"):
        s.wait_all(rf"^\[{name}\] HIL:TEST abi-smc-not-allow-listed PASS 0x8200ff03 -> \[0xffffffffffffffff, 0x0, 0x0, 0x0\]")
        s.wait_all(rf"^\[{name}\] HIL:TEST abi-smc-psci-served-by-bulkhead PASS 0x10001$")
    s.wait_all(r"^\[peer\] HIL:TEST abi-smc-sip-uid-not-forwarded PASS 0x8200ff01 -> \[0xffffffffffffffff, 0x0, 0x0, 0x0\]")


def test_an_allow_listed_smc_reaches_the_firmware(boot):
    """Partition `abi` allow-lists SiP Call UID: QEMU's firmware answers a non-PSCI SMC with
    NOT_SUPPORTED and leaves X1..X3 alone, so the guest's markers come back."""
    s = boot("shim-abi")
    s.wait_all(r"^\[abi\] HIL:TEST abi-smc-allow-listed PASS 0x8200ff01 -> \[0xffffffffffffffff, 0x1111, 0x2222, 0x3333\]")


def test_system_reset2_warm_restarts_only_the_caller(boot):
    s = boot("shim-abi")
    s.expect(r"^\[abi\] HIL:GUEST system-reset2 warm$")
    s.expect(r"HIL:PART abi RESTART reason=system-reset")
    s.wait_all(r"^\[abi\] HIL:CHECKS passed=\d+ failed=0$", count=2)
    beats = s.heartbeats("peer")
    s.wait_all(rf"^\[peer\] HIL:HEARTBEAT {(beats[-1] if beats else 0) + 2}$")
    assert "HIL:PANIC" not in s.console.text
    assert not re.search(r"HIL:PART peer (STOPPED|RESTART)", s.console.text)
