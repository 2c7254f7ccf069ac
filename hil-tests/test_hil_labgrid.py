"""Scenario `hil_labgrid`: the suite through labgrid. A coordinator (gRPC) and an exporter on
the loopback interface export a network serial port and a `simplerest` power port, both served
by a QEMU "board" (labgrid_lab/qemu_relay.py: power-on starts QEMU with the deployed image);
the suite acquires the place through the coordinator and runs the `boot` scenario's first two
tests through labgrid's SerialDriver and NetworkPowerDriver. Their results and markers match
the same tests run directly on QEMU. The first test runs once more from a local labgrid
environment file naming the same resources (no coordinator)."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from conftest import build_image
from suite_runs import HERE, git_head, junit_cases, run_suite

sys.path.insert(0, str(HERE / "labgrid_lab"))

FIRST = "test_demo_boots_two_partitions_on_different_cpus"
SUBSET = ("test_boot.py", "-k", f"{FIRST} or test_bad_hypercalls_return_not_supported")
# What the guests report, compared between the two runs (the counter values differ per boot).
MARKERS = re.compile(r"^(?:\[\w+\] )?HIL:(?:TEST \S+ (?:PASS|FAIL)|CHECKS .*|PART \w+ UP cpu=\d+)", re.MULTILINE)


@pytest.fixture(autouse=True)
def harness_scenario(target):
    """This scenario tests the harness on a board of its own: it runs with QEMU targets (in
    `cargo xtask test`), not on a bench or lab board."""
    if target["backend"] != "qemu":
        pytest.skip(f"tests the harness itself; target {target['name']} is a {target['backend']} board")


def markers(console_log: str) -> list[str]:
    return sorted(m[0] for m in MARKERS.finditer(Path(console_log).read_text()))


def test_hil_labgrid_the_suite_through_a_local_coordinator_matches_qemu(tmp_path):
    try:
        import labgrid  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("labgrid is not installed (BULKHEAD_HIL_NO_LABGRID); CI always installs it")
    from lab import PLACE, LocalLab

    image = build_image("bare-metal", "qemu-virt")
    direct_junit = tmp_path / "direct.xml"
    direct = run_suite(HERE / "targets" / "qemu-virt.toml", direct_junit, *SUBSET)
    assert direct.returncode == 0, direct.stdout[-4000:]

    lab = LocalLab(tmp_path / "lab", HERE / "targets" / "qemu-virt.toml").start()
    try:
        lab_junit = tmp_path / "labgrid.xml"
        through = run_suite(lab.target_file(), lab_junit, *SUBSET)
        released = lab.client("-p", PLACE, "show")
        # The same board from a local labgrid environment file (no coordinator), one test.
        env_junit = tmp_path / "labgrid-env.xml"
        from_env = run_suite(lab.env_target_file(), env_junit, *SUBSET[:2], FIRST)
    finally:
        lab.stop()
    assert through.returncode == 0, through.stdout[-4000:] + through.stderr[-2000:]

    direct_props, direct_outcomes, direct_cases = junit_cases(direct_junit)
    lab_props, lab_outcomes, lab_cases = junit_cases(lab_junit)
    assert len(lab_outcomes) == 2 and set(lab_outcomes.values()) == {"passed"}, lab_outcomes
    assert lab_outcomes == direct_outcomes
    assert lab_props["target"] == "labgrid-local" and lab_props["backend"] == "labgrid"
    assert lab_props["git_commit"] == direct_props["git_commit"] == git_head()
    for name in lab_outcomes:
        through_labgrid = markers(lab_cases[name]["console_log"])
        assert through_labgrid, f"{name}: no markers came through labgrid"
        assert through_labgrid == markers(direct_cases[name]["console_log"]), name
    assert from_env.returncode == 0, from_env.stdout[-4000:]
    env_props, env_outcomes, env_cases = junit_cases(env_junit)
    assert env_props["target"] == "labgrid-env" and env_outcomes == {FIRST: "passed"}, env_outcomes
    assert markers(env_cases[FIRST]["console_log"]) == markers(direct_cases[FIRST]["console_log"])
    # The place was acquired for the run and released after it.
    assert re.search(r"acquired: None", released), released
    # The relay's QEMU booted what the deploy step put in its media folder: the image under test.
    assert (tmp_path / "lab" / "media" / "image.bin").read_bytes() == image.read_bytes()
