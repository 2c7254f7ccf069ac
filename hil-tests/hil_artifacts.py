"""Artifacts of a run (a pytest plugin, loaded by conftest.py): the whole console log of every
scenario, passing or not, in ``target/hil-logs/<target>/<test>.console.txt`` (or under
``$BULKHEAD_HIL_LOGS``); the image's git
commit and the target in the JUnit XML (``--junitxml``) testsuite properties; per test, the
console log's path, the boot attempts and verdicts, the boot phases' durations and the board's
temperature and throttling state when a guest reported them (``HIL:THERMAL`` markers)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# BULKHEAD_HIL_LOGS moves them (the harness's own scenarios run the suite inside the suite).
LOGS = Path(os.environ.get("BULKHEAD_HIL_LOGS", ROOT / "target" / "hil-logs"))

# A partition that reads the Raspberry Pi firmware's mailbox prints this (docs/hil.md).
THERMAL = re.compile(r"HIL:THERMAL temp_mC=(-?\d+) throttled=(0x[0-9a-f]+)")


def git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def provenance() -> dict[str, str]:
    """The commit the images are built from, and whether the work tree differs from it."""
    commit = git("rev-parse", "HEAD") or "unknown"
    dirty = "yes" if git("status", "--porcelain", "--untracked-files=no") else "no"
    return {"git_commit": commit, "git_describe": git("describe", "--always", "--dirty"), "git_dirty": dirty}


def log_path(item) -> Path:
    target = getattr(item.config, "hil_target_name", "unknown")
    name = re.sub(r"[^\w.\[\]=-]+", "_", item.name)
    return LOGS / target / f"{name}.console.txt"


def save_console(item) -> Path | None:
    """Writes the consoles of every board the test booted (retries one after the other)."""
    boards = getattr(item, "boards", [])
    consoles = [b.console for b in boards if getattr(b, "console", None) is not None]
    if not consoles:
        return None
    path = log_path(item)
    path.parent.mkdir(parents=True, exist_ok=True)
    parts = []
    for attempt, console in enumerate(consoles, 1):
        if len(consoles) > 1:
            parts.append(f"===== boot attempt {attempt} of {len(consoles)} =====\n")
        parts.append(console.text)
    path.write_text("".join(parts))
    return path


@pytest.fixture(scope="session", autouse=True)
def hil_provenance(record_testsuite_property, target):
    """Testsuite properties: git commit, target name, file, board and backend."""
    for key, value in provenance().items():
        record_testsuite_property(key, value)
    record_testsuite_property("target", target["name"])
    record_testsuite_property("target_file", target["path"])
    record_testsuite_property("board", target["board"])
    record_testsuite_property("backend", target["backend"])


def record_boot(item, chosen: dict, record) -> None:
    """Per-test properties, written when the test's boards are stopped."""
    path = save_console(item)
    props = item.user_properties
    props.append(("target", chosen["name"]))
    if path is not None:
        props.append(("console_log", str(path)))
        text = path.read_text()
        readings = THERMAL.findall(text)
        if readings:
            props.append(("board_temperature_mC", ",".join(r[0] for r in readings)))
            props.append(("board_throttled", ",".join(r[1] for r in readings)))
    if record is not None:
        props.append(("boot_attempts", str(record.attempts)))
        if record.verdicts:
            props.append(("boot_verdicts", "; ".join(record.verdicts)))
        if record.durations:
            props.append(("boot_phases", record.summary()))
