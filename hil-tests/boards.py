"""One board abstraction for every scenario: start, expect a regex on the console, send, stop.

Backends:
  QemuBoard    -- QEMU, console on stdio (CI and developers).
  BenchBoard   -- a real board on a bench: serial port, power commands, SD mux or TFTP (bench.py).
  LabgridBoard -- a labgrid place or environment: its console, power and boot media drivers
                  (labgrid_board.py).

Targets are described in ``targets/<name>.toml`` (targets.py picks the backend); scenarios never
see which backend runs them. Boot phases and their verdicts are in phases.py.
"""

from __future__ import annotations

import json
import re
import shlex
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


class ConsoleTimeout(AssertionError):
    """A marker did not appear in time; the message carries the console's tail."""


class ConsolePanic(ConsoleTimeout):
    """The hypervisor panicked while a scenario waited for a marker (the verdict "hypervisor
    panic" of the markers phase, phases.py); the message carries the report."""


# A hypervisor panic report's first line (fatal.rs); `HIL:PANIC-CPU` lines follow it.
PANIC_LINE = re.compile(r"^HIL:PANIC .*$", re.MULTILINE)
# How long a wait goes on after a panic, for a marker that is part of the report.
PANIC_GRACE = 1.0


@dataclass
class Console:
    """A growing console log with a read cursor, fed by a backend thread."""

    text: str = ""
    cursor: int = 0
    closed: bool = False
    lock: threading.Condition = field(default_factory=threading.Condition)

    def complete(self) -> str:
        """The log up to its last newline. Markers are matched in complete lines only: a line
        still arriving (QEMU writes byte by byte) could otherwise match a prefix, such as the
        first digits of a number."""
        return self.text[: self.text.rfind("\n") + 1]

    def feed(self, data: str) -> None:
        with self.lock:
            # Carriage returns are dropped: QEMU writes byte by byte, so "\r\n" can straddle reads.
            self.text += data.replace("\r", "")
            self.lock.notify_all()

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self.lock.notify_all()

    def _panic_deadline(self, deadline: float, since: int) -> float:
        """`deadline`, or a short grace once the hypervisor panicked after `since`: a scenario
        waiting for a marker fails at once with the report instead of at its timeout."""
        if PANIC_LINE.search(self.complete(), since):
            return min(deadline, time.monotonic() + PANIC_GRACE)
        return deadline

    def _panic_error(self, what: str, since: int) -> ConsolePanic | None:
        panic = PANIC_LINE.search(self.complete(), since)
        if panic is None:
            return None
        report = self.text[panic.start() :][:2000]
        return ConsolePanic(f"hypervisor panic while waiting for {what}; report:\n{report}")

    def expect(self, pattern: str, timeout: float = 30.0) -> re.Match:
        """Waits for ``pattern`` after the cursor; moves the cursor past the match. A hypervisor
        panic after the cursor ends the wait (ConsolePanic) unless the pattern follows soon."""
        regex = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + timeout
        panicked = False
        with self.lock:
            while True:
                match = regex.search(self.complete(), self.cursor)
                if match:
                    self.cursor = match.end()
                    return match
                if not panicked:
                    cut = self._panic_deadline(deadline, self.cursor)
                    panicked, deadline = cut != deadline, cut
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.closed:
                    if panic := self._panic_error(f"marker {pattern!r}", self.cursor):
                        raise panic
                    tail = self.text[-3000:]
                    why = "console closed" if self.closed else f"not seen in {timeout:.0f}s"
                    raise ConsoleTimeout(f"marker {pattern!r} {why}; console tail:\n{tail}")
                self.lock.wait(min(remaining, 0.5))

    def wait_all(self, pattern: str, count: int = 1, timeout: float = 30.0) -> list[re.Match]:
        """Waits until ``pattern`` matches ``count`` times anywhere in the log; returns the matches."""
        regex = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + timeout
        panicked = False
        with self.lock:
            while True:
                matches = list(regex.finditer(self.complete()))
                if len(matches) >= count:
                    return matches
                if not panicked:
                    cut = self._panic_deadline(deadline, 0)
                    panicked, deadline = cut != deadline, cut
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.closed:
                    if panic := self._panic_error(f"{count} x {pattern!r}", 0):
                        raise panic
                    tail = self.text[-3000:]
                    why = "console closed" if self.closed else f"not seen in {timeout:.0f}s"
                    raise ConsoleTimeout(
                        f"{count} x {pattern!r} {why} (saw {len(matches)}); console tail:\n{tail}"
                    )
                self.lock.wait(min(remaining, 0.5))

    def lines_matching(self, pattern: str) -> list[re.Match]:
        """Every match of ``pattern`` in the whole log so far (the cursor does not move)."""
        with self.lock:
            return list(re.finditer(pattern, self.complete(), re.MULTILINE))


class Board:
    """A board that boots an image and exposes its console."""

    console: Console

    def deploy(self, image: Path) -> None:
        """Puts `image` where the board boots it from (SD card, TFTP folder); QEMU needs nothing."""

    def start(self, image: Path) -> Console:
        """Powers the board on (or starts QEMU) with the console already listening."""
        raise NotImplementedError

    def send(self, text: str) -> None:
        raise NotImplementedError

    def stop(self) -> int | None:
        """Stops the board; returns QEMU's exit status (None on hardware or if killed)."""
        raise NotImplementedError

    def wait_exit(self, timeout: float) -> int:
        raise NotImplementedError


NETWORK_OPTIONS = ("-nic", "-net", "-netdev")


def assert_no_default_nic(argv: list[str]) -> None:
    """QEMU's default network card on `virt` loads efi-virtio.rom from the optional ipxe-qemu
    package, which a fresh machine lacks: every command line says `-nic none` or names the card
    its scenario asks for."""
    if not any(arg in NETWORK_OPTIONS for arg in argv):
        raise ValueError(f"QEMU command line without -nic none (or a network card of its own): {argv}")


class QemuBoard(Board):
    """QEMU with the console on stdio, and a QMP socket for post-mortems."""

    def __init__(self, argv: list[str]):
        assert_no_default_nic(argv)
        self.argv = argv
        self.process: subprocess.Popen | None = None
        self.console = Console()
        self.qmp_dir = tempfile.TemporaryDirectory(prefix="bulkhead-qmp-")
        self.qmp_socket = Path(self.qmp_dir.name) / "qmp.sock"

    def start(self, image: Path) -> Console:
        argv = [arg.replace("{image}", str(image)) for arg in self.argv]
        argv += ["-qmp", f"unix:{self.qmp_socket},server=on,wait=off"]
        print("$ " + " ".join(shlex.quote(a) for a in argv))
        self.process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        threading.Thread(target=self._pump, daemon=True).start()
        return self.console

    def _pump(self) -> None:
        assert self.process and self.process.stdout
        while chunk := self.process.stdout.read1(4096):
            self.console.feed(chunk.decode("utf-8", "replace"))
        self.console.close()

    def send(self, text: str) -> None:
        assert self.process and self.process.stdin
        self.process.stdin.write(text.encode())
        self.process.stdin.flush()

    def wait_exit(self, timeout: float) -> int:
        assert self.process
        return self.process.wait(timeout=timeout)

    def cpu_state(self) -> str:
        """Every vCPU's PC and PSTATE (exception level) now, from QEMU's monitor, for a
        scenario that failed: where each CPU was when a partition stopped making progress."""
        if self.process is None or self.process.poll() is not None:
            return "QEMU is not running"
        try:
            return qemu_cpu_state(self.qmp_socket)
        except OSError as error:
            return f"no QMP answer: {error}"

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
            return None
        return self.process.returncode


def qemu_monitor(qmp_socket: Path, command_line: str, timeout: float = 5.0) -> str:
    """A human monitor command (e.g. `info registers -a`, `xp /1wx ADDR`) run over QMP: its
    output, or the error QEMU answered."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(qmp_socket))
        stream = sock.makefile("rw")

        def command(name: str, **arguments) -> dict:
            stream.write(json.dumps({"execute": name, "arguments": arguments}) + "\n")
            stream.flush()
            while True:
                reply = json.loads(stream.readline())
                if "return" in reply or "error" in reply:
                    return reply

        json.loads(stream.readline())  # the greeting
        command("qmp_capabilities")
        reply = command("human-monitor-command", **{"command-line": command_line})
    return reply.get("return", str(reply))


def qemu_cpu_state(qmp_socket: Path, timeout: float = 5.0) -> str:
    """`info registers -a` over QMP, reduced to one line per vCPU: PC, PSTATE and, for a PC at
    EL2, the nearest hypervisor symbol."""
    dump = qemu_monitor(qmp_socket, "info registers -a", timeout)
    symbols = HypervisorSymbols.load()
    lines = []
    for block in re.split(r"(?=^CPU#\d+)", dump, flags=re.MULTILINE):
        cpu = re.match(r"CPU#(\d+)", block)
        pc = re.search(r"\bPC=([0-9a-f]+)", block)
        pstate = re.search(r"PSTATE=([0-9a-f]+) (\S+) (EL\d\w)", block)
        if not (cpu and pc and pstate):
            continue
        where = symbols.name(int(pc[1], 16)) if pstate[3].startswith("EL2") else ""
        lines.append(f"CPU#{cpu[1]} PC={pc[1]} PSTATE={pstate[1]} {pstate[3]} {where}".rstrip())
    return "\n".join(lines) if lines else dump


class HypervisorSymbols:
    """The hypervisor's text symbols (from the release ELF, with `nm`), to name an EL2 PC."""

    ELF = Path(__file__).resolve().parent.parent / "target/aarch64-unknown-none-softfloat/release/bulkhead"

    def __init__(self, symbols: list[tuple[int, str]]):
        self.symbols = symbols

    @classmethod
    def load(cls) -> "HypervisorSymbols":
        try:
            out = subprocess.run(["nm", "-nC", str(cls.ELF)], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.TimeoutExpired):
            return cls([])
        symbols = []
        for line in out.splitlines():
            parts = line.split(" ", 2)
            if len(parts) == 3 and parts[1] in "tT" and not parts[2].startswith("$"):
                symbols.append((int(parts[0], 16), parts[2]))
        return cls(symbols)

    def name(self, pc: int) -> str:
        """`symbol+offset` for `pc` (the ELF is linked for the board last built, the one that
        boots), or "" if no symbol is near."""
        found = [s for s in self.symbols if s[0] <= pc]
        if found and pc - found[-1][0] < 0x10000:
            return f"{found[-1][1]}+{pc - found[-1][0]:#x}"
        return ""
