"""One board abstraction for every scenario: start, expect a regex on the console, send, stop.

Backends:
  QemuBoard   -- QEMU, console on stdio (CI and developers).
  SerialBoard -- a real board on a bench: a serial port plus a power-cycle command.

Targets are described in ``targets/<name>.toml``; scenarios never see which backend runs them.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


class ConsoleTimeout(AssertionError):
    """A marker did not appear in time; the message carries the console's tail."""


@dataclass
class Console:
    """A growing console log with a read cursor, fed by a backend thread."""

    text: str = ""
    cursor: int = 0
    closed: bool = False
    lock: threading.Condition = field(default_factory=threading.Condition)

    def feed(self, data: str) -> None:
        with self.lock:
            # Carriage returns are dropped: QEMU writes byte by byte, so "\r\n" can straddle reads.
            self.text += data.replace("\r", "")
            self.lock.notify_all()

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self.lock.notify_all()

    def expect(self, pattern: str, timeout: float = 30.0) -> re.Match:
        """Waits for ``pattern`` after the cursor; moves the cursor past the match."""
        regex = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                match = regex.search(self.text, self.cursor)
                if match:
                    self.cursor = match.end()
                    return match
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.closed:
                    tail = self.text[-3000:]
                    why = "console closed" if self.closed else f"not seen in {timeout:.0f}s"
                    raise ConsoleTimeout(f"marker {pattern!r} {why}; console tail:\n{tail}")
                self.lock.wait(min(remaining, 0.5))

    def wait_all(self, pattern: str, count: int = 1, timeout: float = 30.0) -> list[re.Match]:
        """Waits until ``pattern`` matches ``count`` times anywhere in the log; returns the matches."""
        regex = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                matches = list(regex.finditer(self.text))
                if len(matches) >= count:
                    return matches
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.closed:
                    tail = self.text[-3000:]
                    why = "console closed" if self.closed else f"not seen in {timeout:.0f}s"
                    raise ConsoleTimeout(
                        f"{count} x {pattern!r} {why} (saw {len(matches)}); console tail:\n{tail}"
                    )
                self.lock.wait(min(remaining, 0.5))

    def lines_matching(self, pattern: str) -> list[re.Match]:
        """Every match of ``pattern`` in the whole log so far (the cursor does not move)."""
        with self.lock:
            return list(re.finditer(pattern, self.text, re.MULTILINE))


class Board:
    """A board that boots an image and exposes its console."""

    def start(self, image: Path) -> Console:
        raise NotImplementedError

    def send(self, text: str) -> None:
        raise NotImplementedError

    def stop(self) -> int | None:
        """Stops the board; returns QEMU's exit status (None on hardware or if killed)."""
        raise NotImplementedError

    def wait_exit(self, timeout: float) -> int:
        raise NotImplementedError


class QemuBoard(Board):
    """QEMU with the console on stdio."""

    def __init__(self, argv: list[str]):
        self.argv = argv
        self.process: subprocess.Popen | None = None
        self.console = Console()

    def start(self, image: Path) -> Console:
        argv = [arg.replace("{image}", str(image)) for arg in self.argv]
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

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
            return None
        return self.process.returncode


class SerialBoard(Board):
    """A real board: power-cycled by a command, console on a serial port."""

    def __init__(self, port: str, baud: int, power_cycle: str, power_off: str | None = None):
        self.port, self.baud = port, baud
        self.power_cycle, self.power_off = power_cycle, power_off
        self.console = Console()
        self.serial = None
        self._running = False

    def start(self, image: Path) -> Console:
        import serial  # pyserial; only needed on a bench

        # Deploying `image` (SD mux or TFTP directory) is the target's `deploy` command.
        self.serial = serial.Serial(self.port, self.baud, timeout=0.2)
        self._running = True
        threading.Thread(target=self._pump, daemon=True).start()
        subprocess.run(self.power_cycle, shell=True, check=True)
        return self.console

    def _pump(self) -> None:
        while self._running and self.serial:
            data = self.serial.read(4096)
            if data:
                self.console.feed(data.decode("utf-8", "replace"))
        self.console.close()

    def send(self, text: str) -> None:
        assert self.serial
        self.serial.write(text.encode())

    def wait_exit(self, timeout: float) -> int:
        raise NotImplementedError("a real board has no exit status; look for HIL:HALT")

    def stop(self) -> int | None:
        self._running = False
        if self.power_off:
            subprocess.run(self.power_off, shell=True, check=False)
        if self.serial:
            self.serial.close()
        return None
