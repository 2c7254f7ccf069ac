"""Boot phases, each with its own timeout and verdict: power -> first byte of output ->
hypervisor banner -> every partition up. A scenario's own markers come after, in the test.

A board that prints nothing gets "no console output", one that prints but stops before the
banner "firmware or loader failed", one that panics "hypervisor panic" with the report. Only
the infrastructure verdicts (power, no output, loader, partitions late) are retried, up to the
target's ``boot_retries``; a panic is a result, not bad luck, and is never retried, and a
test's own failure never reaches this module. A target whose boots failed past the limit is
marked broken for the rest of the session, so every later scenario fails at once with the
first verdict instead of power-cycling a dead board again (labgrid's `never_retry`).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Callable

from boards import Board, Console

BANNER = re.compile(r"^HIL:BOOT Bulkhead \S+ .*$", re.MULTILINE)
PANIC = re.compile(r"^HIL:PANIC .*$", re.MULTILINE)
ANNOUNCED = re.compile(r'^partition "([^"]+)" \(id \d+\): ', re.MULTILINE)
REFUSED = re.compile(r'^partition "([^"]+)" \(id \d+\) refused: ', re.MULTILINE)
SETTLED = re.compile(r"^HIL:PART (\S+) (?:UP|STOPPED|RESTART)\b", re.MULTILINE)


@dataclass(frozen=True)
class Phases:
    """Timeouts (seconds) of the boot phases, and how often a failed boot is tried again."""

    power: float = 30.0
    first_byte: float = 30.0
    banner: float = 30.0
    partitions: float = 60.0
    retries: int = 0

    @classmethod
    def from_table(cls, table: dict, retries: int) -> "Phases":
        unknown = set(table) - {"power", "first_byte", "banner", "partitions"}
        if unknown:
            raise ValueError(f"[phases]: unknown keys {sorted(unknown)} (power, first_byte, banner, partitions)")
        return cls(**{k: float(v) for k, v in table.items()}, retries=int(retries))


class BootVerdict(AssertionError):
    """A boot that did not reach "every partition up"; ``verdict`` is its short name."""

    verdict = "boot failed"
    retriable = True

    def __init__(self, detail: str, phase: str, elapsed: float):
        super().__init__(f"{self.verdict} ({phase} phase, {elapsed:.1f}s): {detail}")
        self.phase, self.elapsed, self.detail = phase, elapsed, detail


class PowerFailed(BootVerdict):
    verdict = "power failed"


class NoConsoleOutput(BootVerdict):
    verdict = "no console output"


class FirmwareOrLoaderFailed(BootVerdict):
    verdict = "firmware or loader failed"


class PartitionsNotUp(BootVerdict):
    verdict = "partitions not up"


class HypervisorPanic(BootVerdict):
    verdict = "hypervisor panic"
    retriable = False


class BoardBroken(BootVerdict):
    verdict = "board broken"
    retriable = False


@dataclass
class BootRecord:
    """What the phases of one scenario's boots did, for the JUnit properties."""

    attempts: int = 0
    verdicts: list[str] = field(default_factory=list)
    durations: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        return " ".join(f"{name}={seconds:.1f}s" for name, seconds in self.durations.items())


def tail(console: Console, lines: int = 30) -> str:
    return "\n".join(console.text.splitlines()[-lines:])


def wait_for(console: Console, timeout: float, done: Callable[[str], object]):
    """Polls ``done(complete log)`` until it returns something true (returned) or `timeout`
    passes or the console closes (None). The cursor does not move."""
    deadline = time.monotonic() + timeout
    with console.lock:
        while True:
            found = done(console.complete())
            if found:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0 or console.closed:
                return None
            console.lock.wait(min(remaining, 0.2))


def panic_report(console: Console, match: re.Match) -> str:
    """The panic line and what the hypervisor printed after it (CPU, partition)."""
    time.sleep(0.3)  # the rest of the report is on its way
    return console.text[match.start() :][:2000]


def await_first_byte(console: Console, phases: Phases) -> None:
    start = time.monotonic()
    if wait_for(console, phases.first_byte, lambda _: console.text) is None:
        raise NoConsoleOutput(
            "the board printed nothing: check the power, the serial wiring (adapter TX to GPIO 15, "
            "RX to GPIO 14, GND), the port and the baud rate",
            "first_byte",
            time.monotonic() - start,
        )


def await_banner(console: Console, phases: Phases) -> None:
    start = time.monotonic()

    def seen(text: str):
        return PANIC.search(text) or BANNER.search(text)

    match = wait_for(console, phases.banner, seen)
    elapsed = time.monotonic() - start
    if match is None:
        raise FirmwareOrLoaderFailed(
            "output, but no `HIL:BOOT` banner: the firmware or boot loader stopped, or did not find "
            f"the image (config.txt `uart_2ndstage=1` shows why); last lines:\n{tail(console)}",
            "banner",
            elapsed,
        )
    if match.re is PANIC:
        raise HypervisorPanic(panic_report(console, match), "banner", elapsed)


def await_partitions(console: Console, phases: Phases) -> None:
    """Every partition the hypervisor announced is UP (or already stopped); refused ones are
    the configuration's business, not the boot's."""
    start = time.monotonic()

    def settled(text: str):
        after = text[BANNER.search(text).end() :]
        if panic := PANIC.search(after):
            return panic
        announced = set(ANNOUNCED.findall(after))
        up = set(SETTLED.findall(after))
        if (announced or REFUSED.search(after)) and announced <= up:
            return True
        return None

    result = wait_for(console, phases.partitions, settled)
    elapsed = time.monotonic() - start
    if isinstance(result, re.Match):
        raise HypervisorPanic(panic_report(console, result), "partitions", elapsed)
    if result is None:
        after = console.complete()[BANNER.search(console.complete()).end() :]
        missing = sorted(set(ANNOUNCED.findall(after)) - set(SETTLED.findall(after)))
        raise PartitionsNotUp(f"not up: {missing or 'no partition announced'}; last lines:\n{tail(console)}",
                              "partitions", elapsed)


@dataclass
class BoardHealth:
    """Per target, for the whole session: the verdict that broke it, if one did."""

    broken: dict[str, BootVerdict] = field(default_factory=dict)


def boot_through_phases(
    target_name: str,
    new_board: Callable[[], Board],
    image,
    phases: Phases,
    health: BoardHealth,
    record: BootRecord,
    keep: Callable[[Board], None],
) -> tuple[Board, Console]:
    """Boots `image` on a fresh board from ``new_board()`` until every partition is up, trying
    again after an infrastructure verdict up to ``phases.retries`` times. Every board made is
    handed to ``keep`` (the caller stops it and saves its console)."""
    if target_name in health.broken:
        first = health.broken[target_name]
        raise BoardBroken(f"an earlier boot gave up: {first}", "power", 0.0)
    for attempt in range(phases.retries + 1):
        record.attempts = attempt + 1
        board = new_board()
        keep(board)
        try:
            if attempt == 0:  # the media stay written for the retries
                start = time.monotonic()
                board.deploy(image)
                record.durations["deploy"] = time.monotonic() - start
            start = time.monotonic()
            try:
                console = board.start(image)
            except Exception as error:  # a power command, a serial port, a labgrid driver
                raise PowerFailed(str(error), "power", time.monotonic() - start) from error
            record.durations["power"] = time.monotonic() - start
            for name, step in (("first_byte", await_first_byte), ("banner", await_banner),
                               ("partitions", await_partitions)):
                start = time.monotonic()
                step(console, phases)
                record.durations[name] = time.monotonic() - start
            return board, console
        except BootVerdict as verdict:
            record.verdicts.append(verdict.verdict)
            print(f"boot attempt {attempt + 1} of {phases.retries + 1} on {target_name}: {verdict}")
            if not verdict.retriable:
                raise
            board.stop()
            if attempt == phases.retries:
                health.broken[target_name] = verdict
                raise
    raise AssertionError("unreachable")
