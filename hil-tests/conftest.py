"""pytest glue: --board picks a target from targets/, the `boot` fixture builds and boots."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

pytest.register_assert_rewrite("hil_artifacts")

from boards import Board, Console, QemuBoard  # noqa: E402 (after the rewrite registration)
from hil_artifacts import record_boot, save_console
from phases import BoardHealth, BootRecord, boot_through_phases
from targets import TARGETS, load_target, make_board, phases_of, unsupported_request

ROOT = Path(__file__).resolve().parent.parent

pytest_plugins = ["hil_artifacts"]

# The target a scenario that names none (no `on=`) is written for.
HOME_TARGET = "qemu-virt"
# Boot verdicts per target, for the whole session (phases.py: a broken board fails fast).
HEALTH = BoardHealth()


def pytest_addoption(parser):
    parser.addoption(
        "--board",
        default=os.environ.get("HIL_BOARD", "qemu-virt"),
        help="target: a name in hil-tests/targets/ (qemu-virt, qemu-virt-gicv2, qemu-raspi4b, a bench "
        "or labgrid target) or a target file's path",
    )
    parser.addoption(
        "--target-only",
        action="store_true",
        help="run each scenario on the --board target itself, skipping those written for another board "
        "(cargo xtask hil); without it a scenario with `on=` runs on that QEMU target",
    )


def pytest_configure(config):
    try:
        config.hil_target_name = load_target(config.getoption("--board"))["name"]
    except ValueError:
        config.hil_target_name = "unknown"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the test item, so fixtures can see whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    if report.when == "call" and report.failed:
        # While the boards still run (fixtures are torn down after this): where every vCPU is,
        # and the whole console, which an expect() failure shows only the tail of.
        for board in getattr(item, "boards", []):
            if isinstance(board, QemuBoard):
                report.sections.append(("qemu cpu state at failure", board.cpu_state()))
        path = save_console(item)
        log = getattr(item.boards[-1], "console", None) if getattr(item, "boards", []) else None
        if path is not None and log is not None:
            lines = [line for line in log.text.splitlines() if "HIL:HEARTBEAT" not in line]
            report.sections.append(
                ("console (heartbeats left out; whole log: " + str(path) + ")", "\n".join(lines[-400:]))
            )
    return report


@pytest.fixture(scope="session")
def target(request) -> dict:
    """The run's target (--board): its file's keys, plus `name` and `path`."""
    try:
        return load_target(request.config.getoption("--board"))
    except ValueError as error:
        raise pytest.UsageError(str(error)) from error


def cargo_xtask(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Runs `cargo xtask ARGS` in the repository and returns the finished process."""
    return subprocess.run(
        ["cargo", "xtask", *args], cwd=ROOT, capture_output=True, text=True, check=check
    )


def build_image(config: str, board: str, smp: int | None = None) -> Path:
    """Builds `config` for `board`, checked against `smp` CPUs when given (`--smp`)."""
    args = ["build", "--config", config, "--board", board]
    if smp is not None:
        args += ["--smp", str(smp)]
    result = cargo_xtask(*args, check=False)
    if result.returncode != 0:
        raise AssertionError(f"cargo xtask {' '.join(args)} failed:\n{result.stderr}")
    match = re.search(r"^built (\S+)", result.stderr, re.MULTILINE)
    assert match, result.stderr
    return ROOT / match.group(1)


class Session:
    """A booted board for one scenario."""

    def __init__(self, board: Board, console: Console):
        self.board = board
        self.console = console

    def expect(self, pattern: str, timeout: float = 30.0) -> re.Match:
        return self.console.expect(pattern, timeout)

    def wait_all(self, pattern: str, count: int = 1, timeout: float = 30.0) -> list[re.Match]:
        return self.console.wait_all(pattern, count, timeout)

    def heartbeats(self, partition: str) -> list[int]:
        """The heartbeat sequence numbers a partition printed so far."""
        return [int(m[1]) for m in self.console.lines_matching(rf"^\[{partition}\] HIL:HEARTBEAT (\d+)")]

    def wait_exit(self, timeout: float = 60.0) -> int:
        return self.board.wait_exit(timeout)


def target_for(run: dict, on: str | None, only: bool) -> dict:
    """The target a scenario boots on: `on` (or the run's target) as today; with
    --target-only the run's target itself, or a skip when the scenario is for another board."""
    if not only:
        return load_target(on) if on else run
    home = load_target(on or HOME_TARGET)
    if home["board"] != run["board"]:
        pytest.skip(f"scenario for board {home['board']} ({home['name']}); target {run['name']} is board {run['board']}")
    return run


@pytest.fixture
def boot(target, request):
    """boot(config, smp=None, gic=None, extra=[], on=None, built_for_smp=None) builds a
    configuration and boots it on the --board target (or on target `on`, e.g. "qemu-raspi4b")
    through the boot phases (phases.py: power, first byte, banner, every partition up).
    The build checks the configuration against the CPUs the run has (`--smp smp`), or against
    `built_for_smp` CPUs when given (a configuration meant for more CPUs than the run has)."""
    boards: list[Board] = []
    booted: list[tuple[dict, BootRecord]] = []
    only = request.config.getoption("--target-only")

    def start(
        config: str,
        smp: int | None = None,
        gic: int | None = None,
        extra: list[str] | None = None,
        on: str | None = None,
        built_for_smp: int | None = None,
    ) -> Session:
        chosen = target_for(target, on, only)
        if why := unsupported_request(chosen, smp, gic, extra):
            pytest.skip(why)
        image = build_image(config, chosen["board"], built_for_smp or smp)
        values = dict(chosen.get("defaults", {}))
        values["image_dir"] = str(image.parent)
        if smp is not None:
            values["smp"] = str(smp)
        if gic is not None:
            values["gic"] = str(gic)
        record = BootRecord()
        booted.append((chosen, record))
        board, console = boot_through_phases(
            chosen["name"], lambda: make_board(chosen, values, extra or [], config), image,
            phases_of(chosen), HEALTH, record, boards.append,
        )
        return Session(board, console)

    request.node.boards = boards
    yield start
    for board in boards:
        board.stop()
    for chosen, record in booted:
        record_boot(request.node, chosen, record)
