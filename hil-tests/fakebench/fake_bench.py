#!/usr/bin/env python3
"""A fake bench for the bench backend (scenario `hil_fake_bench`): a board on a pseudo-terminal
that replays a console log recorded from our own QEMU runs, a power switch command that records
its calls (and can fail the first N power-ups, like a flaky relay), and an SD mux stand-in with
usbsdmux's command line that records what was deployed.

  fake_bench.py board  --state DIR --replay LOG [--speed X]   the board (runs until killed):
        makes the pty pair, writes the port's path to DIR/port, replays LOG from its start on
        every power-up, stops on power-off
  fake_bench.py power  --state DIR on|off|cycle [--fail-first N]   the power switch
  fake_bench.py sdmux  --state DIR DEVICE host|dut              usbsdmux's command line
  fake_bench.py record --out LOG --seconds S [--until REGEX] -- QEMU ARGV...
        records a QEMU run's console: one line per console line, `+<ms since the last line>`,
        a tab, the text

Every call of `power` and `sdmux` is appended to DIR/power.log and DIR/sdmux.log; the SD
"card" is DIR/card.img, and each switch to the board records its size and SHA-256 in
DIR/deploys.log.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
import tty
from pathlib import Path


def parse_replay(path: Path) -> list[tuple[float, str]]:
    """The (delay in seconds, line) pairs of a recorded log."""
    lines = []
    for raw in path.read_text().splitlines():
        delay, _, text = raw.partition("\t")
        lines.append((int(delay.lstrip("+")) / 1000.0, text))
    return lines


class FakeBoard:
    """The board: a pty whose far end the bench backend opens as its serial port."""

    def __init__(self, state: Path, replay: list[tuple[float, str]], speed: float):
        self.state, self.replay, self.speed = state, replay, speed
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.slave_path = os.ttyname(slave)
        self.slave = slave  # kept open, so the pty survives the port being closed and reopened
        self.powered = threading.Event()
        self.generation = 0
        self.lock = threading.Lock()

    def power(self, on: bool) -> None:
        with self.lock:
            self.generation += 1
            generation = self.generation
        if on:
            self.powered.set()
            threading.Thread(target=self._replay, args=(generation,), daemon=True).start()
        else:
            self.powered.clear()

    def _replay(self, generation: int) -> None:
        for delay, text in self.replay:
            time.sleep(delay / self.speed)
            if generation != self.generation or not self.powered.is_set():
                return
            os.write(self.master, (text + "\r\n").encode())

    def drain(self) -> None:
        """Reads what the harness sends (and discards it: the replay does not listen)."""
        while True:
            try:
                os.read(self.master, 4096)
            except OSError:
                time.sleep(0.1)

    def serve(self) -> None:
        control = self.state / "control.sock"
        control.unlink(missing_ok=True)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(control))
        server.listen(4)
        threading.Thread(target=self.drain, daemon=True).start()
        (self.state / "port").write_text(self.slave_path)
        while True:
            conn, _ = server.accept()
            with conn:
                command = conn.recv(64).decode().strip()
                if command in ("on", "off"):
                    self.power(command == "on")
                    conn.sendall(b"ok\n")
                else:
                    conn.sendall(b"unknown command\n")


def tell_board(state: Path, command: str) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(str(state / "control.sock"))
        sock.sendall(command.encode())
        sock.recv(64)


def log_call(path: Path, text: str) -> None:
    with open(path, "a") as f:
        f.write(f"{time.time():.3f} {text}\n")


def power(state: Path, action: str, fail_first: int) -> int:
    log = state / "power.log"
    previous_ons = sum(1 for line in log.read_text().splitlines() if line.split()[1:2] in (["on"], ["cycle"])) if log.exists() else 0
    log_call(log, action)
    if action in ("on", "cycle") and previous_ons < fail_first:
        print("relay did not switch (fake flaky power-up)", file=sys.stderr)
        return 1
    if action in ("off", "cycle"):
        tell_board(state, "off")
    if action in ("on", "cycle"):
        tell_board(state, "on")
    return 0


def sdmux(state: Path, device: str, mode: str) -> int:
    log_call(state / "sdmux.log", f"{device} {mode}")
    card = state / "card.img"
    if mode == "host":
        card.touch()  # the card's block device appears on the host
    elif mode == "dut":
        data = card.read_bytes()
        log_call(state / "deploys.log", f"{len(data)} {hashlib.sha256(data).hexdigest()}")
    return 0


def record(out: Path, seconds: float, until: str | None, argv: list[str]) -> int:
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout
    lines, last = [], time.monotonic()
    stop_at = last + seconds
    os.set_blocking(process.stdout.fileno(), False)
    buffer = b""
    while time.monotonic() < stop_at:
        exited = process.poll() is not None
        chunk = process.stdout.read(4096) or b""
        if exited and not chunk:
            break  # QEMU powered off and everything it printed is read
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            now = time.monotonic()
            text = line.decode("utf-8", "replace").rstrip("\r")
            lines.append(f"+{int((now - last) * 1000)}\t{text}")
            last = now
            if until and re.search(until, text):
                stop_at = 0
        if not chunk:
            time.sleep(0.01)
    process.kill()
    process.wait()
    out.write_text("".join(line + "\n" for line in lines))
    print(f"recorded {len(lines)} lines to {out}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    board = sub.add_parser("board")
    board.add_argument("--state", type=Path, required=True)
    board.add_argument("--replay", type=Path, required=True)
    board.add_argument("--speed", type=float, default=1.0)
    pw = sub.add_parser("power")
    pw.add_argument("--state", type=Path, required=True)
    pw.add_argument("--fail-first", type=int, default=0)
    pw.add_argument("action", choices=["on", "off", "cycle"])
    mux = sub.add_parser("sdmux")
    mux.add_argument("--state", type=Path, required=True)
    mux.add_argument("device")
    mux.add_argument("mode", choices=["host", "dut", "off"])
    rec = sub.add_parser("record")
    rec.add_argument("--out", type=Path, required=True)
    rec.add_argument("--seconds", type=float, default=10.0)
    rec.add_argument("--until")
    rec.add_argument("argv", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.command == "board":
        FakeBoard(args.state, parse_replay(args.replay), args.speed).serve()
        return 0
    if args.command == "power":
        return power(args.state, args.action, args.fail_first)
    if args.command == "sdmux":
        return sdmux(args.state, args.device, args.mode)
    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    return record(args.out, args.seconds, args.until, argv)


if __name__ == "__main__":
    sys.exit(main())
