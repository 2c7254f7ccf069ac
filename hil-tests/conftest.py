"""pytest glue: --board picks a target from targets/, the `boot` fixture builds and boots."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from boards import Board, Console, QemuBoard, SerialBoard

ROOT = Path(__file__).resolve().parent.parent
TARGETS = Path(__file__).resolve().parent / "targets"


def pytest_addoption(parser):
    parser.addoption(
        "--board",
        default=os.environ.get("HIL_BOARD", "qemu-virt"),
        help="target in hil-tests/targets/ (qemu-virt, qemu-virt-gicv2, or a bench board)",
    )


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
            log = getattr(board, "console", None)
            if log is not None:
                path = ROOT / "target" / "hil-logs" / f"{item.name}.console.txt"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(log.text)
                lines = [line for line in log.text.splitlines() if "HIL:HEARTBEAT" not in line]
                report.sections.append(
                    ("console (heartbeats left out; whole log: " + str(path) + ")", "\n".join(lines[-400:]))
                )
    return report


@pytest.fixture(scope="session")
def target(request) -> dict:
    name = request.config.getoption("--board")
    path = TARGETS / f"{name}.toml"
    if not path.exists():
        raise pytest.UsageError(f"no target {name!r}: expected {path}")
    with open(path, "rb") as f:
        return tomllib.load(f)


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


def load_target(name: str) -> dict:
    """The target described by targets/<name>.toml."""
    with open(TARGETS / f"{name}.toml", "rb") as f:
        return tomllib.load(f)


@pytest.fixture
def boot(target, request):
    """boot(config, smp=None, gic=None, extra=[], on=None, built_for_smp=None) builds a
    configuration and boots it on the --board target (or on target `on`, e.g. "qemu-raspi4b").
    The build checks the configuration against the CPUs the run has (`--smp smp`), or against
    `built_for_smp` CPUs when given (a configuration meant for more CPUs than the run has)."""
    boards: list[Board] = []

    def start(
        config: str,
        smp: int | None = None,
        gic: int | None = None,
        extra: list[str] | None = None,
        on: str | None = None,
        built_for_smp: int | None = None,
    ) -> Session:
        chosen = load_target(on) if on else target
        image = build_image(config, chosen["board"], built_for_smp or smp)
        values = dict(chosen.get("defaults", {}))
        values["image_dir"] = str(image.parent)
        if smp is not None:
            values["smp"] = str(smp)
        if gic is not None:
            values["gic"] = str(gic)
        if chosen["backend"] == "qemu":
            argv = [arg.format(image="{image}", **values) for arg in chosen["argv"]]
            board: Board = QemuBoard(argv + (extra or []))
        else:
            subprocess.run(chosen["deploy"].format(image=image), shell=True, check=True)
            board = SerialBoard(chosen["port"], chosen.get("baud", 115200), chosen["power_cycle"], chosen.get("power_off"))
        boards.append(board)
        return Session(board, board.start(image))

    request.node.boards = boards
    yield start
    for board in boards:
        board.stop()
