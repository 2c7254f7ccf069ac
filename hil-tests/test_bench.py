"""Scenario `bench`: `cargo xtask bench` counts the same instructions on every run, and
`--check` fails, naming the figure, when a figure exceeds its budget.

These run `cargo xtask bench` itself (it boots its own QEMU runs with -smp 1 and -icount), so
they ignore --board. A whole bench run takes a few seconds once everything is built; each call
below is capped so the scenario stays well under a minute.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from conftest import ROOT

BUDGETS = ROOT / "xtask" / "bench-budgets.toml"
# A table row of an instruction figure: "| label `id` | instructions | 152 / 152.00 / 152 | ..."
ROW = re.compile(r"^\| .*? `(?P<id>[\w-]+)` \| instructions \| (?P<value>[^|]+) \|", re.MULTILINE)
# Enough for two full runs after a cold build of the hypervisor and the guests.
TIMEOUT = 300


def bench(*args: str) -> subprocess.CompletedProcess:
    """Runs `cargo xtask bench --no-docs ARGS` (the docs are not rewritten by tests)."""
    return subprocess.run(
        ["cargo", "xtask", "bench", "--no-docs", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT,
    )


def instruction_figures(stdout: str) -> dict[str, str]:
    return {m["id"]: m["value"].strip() for m in ROW.finditer(stdout)}


def test_bench_counts_are_identical_on_two_runs_and_within_budget():
    first = bench("--check")
    assert first.returncode == 0, first.stderr[-3000:]
    second = bench("--check")
    assert second.returncode == 0, second.stderr[-3000:]
    figures = instruction_figures(first.stdout)
    assert {"timing-empty", "hvc-psci-version", "hvc-smccc-version", "hvc-vendor-revision",
            "mmio-uartfr-read", "boot-first-instruction"} <= set(figures), first.stdout
    assert figures == instruction_figures(second.stdout)
    for group in ("2. Hypercall round trip", "3. Stage-2 fault", "5. Boot", "8. Footprint"):
        assert f"### {group}" in first.stdout


def test_bench_check_fails_and_names_the_figure_over_its_budget(tmp_path: Path):
    text = BUDGETS.read_text()
    lowered, count = re.subn(r"(?m)^hvc-psci-version\s*=.*$", "hvc-psci-version = 1", text)
    assert count == 1, "xtask/bench-budgets.toml has no hvc-psci-version budget"
    budgets = tmp_path / "budgets.toml"
    budgets.write_text(lowered)
    result = bench("--check", "--budgets", str(budgets))
    assert result.returncode != 0, result.stdout
    assert re.search(r"hvc-psci-version: measured \d+ instructions, over its budget of 1\b",
                     result.stderr), result.stderr[-3000:]
