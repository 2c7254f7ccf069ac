"""Running the suite (or a part of it) on a target in a pytest of its own, as `cargo xtask hil`
does, and reading its JUnit XML: for the scenarios that test the harness itself
(hil_fake_bench, hil_labgrid)."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def run_suite(target: Path, junit: Path, *selection: str) -> subprocess.CompletedProcess:
    """The suite's pytest on `target`, as `cargo xtask hil --target FILE` runs it; its console
    logs go next to `junit`, not over the outer run's."""
    env = dict(os.environ, BULKHEAD_HIL_LOGS=str(junit.parent / f"{junit.stem}-logs"))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "--target-only", f"--board={target}", f"--junitxml={junit}", *selection],
        cwd=HERE, capture_output=True, text=True, timeout=300, env=env,
    )


def junit_cases(junit: Path) -> tuple[dict[str, str], dict[str, str], dict[str, dict[str, str]]]:
    """(testsuite properties, outcome per test, properties per test) of a JUnit file."""
    suite = ET.parse(junit).getroot().find("testsuite")
    found = suite.find("properties")
    props = {p.get("name"): p.get("value") for p in (found if found is not None else [])}
    outcomes, case_props = {}, {}
    for case in suite.iter("testcase"):
        name = case.get("name")
        outcomes[name] = next((c.tag for c in case if c.tag in ("failure", "error", "skipped")), "passed")
        case_props[name] = {p.get("name"): p.get("value") for p in case.iter("property")}
    return props, outcomes, case_props


def git_head() -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
