"""The bench backend: a real board with a serial console, power by a command and boot media by
an SD mux or a TFTP folder (docs/hil.md, "A Raspberry Pi 4 bench").

Target keys (targets/rpi4-bench.toml.example):
  port = "/dev/serial/by-id/..."  or  usb_serial = "A10KJ3PQ" (the adapter's USB serial number)
  baud = 115200
  power_on, power_off (and optionally power_cycle): shell commands, e.g. uhubctl, a USB relay
      or a PDU's command line; without power_cycle a cycle is power_off then power_on
  [media] kind = "sdmux": tool = "usbsdmux" (Linux Automation USB-SD-Mux; device =
      /dev/usb-sd-mux/id-...) or "sd-mux-ctrl" (SDWire; device = its serial), block = the card's
      block device on the host side, image = "sdcard" (cargo xtask sdcard) or "image" (the raw
      image); command = the tool's path if not on PATH
  [media] kind = "tftp": root = the TFTP root, serial = the board's serial (cargo xtask netboot-dir)
  [media] kind = "command": deploy = "cp {image} /srv/tftp/..." ({image}, {config}, {board})
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import threading
import time
from pathlib import Path

from boards import Board, Console

ROOT = Path(__file__).resolve().parent.parent

# What the hypervisor prints when it powers the machine off (a board has no exit status).
POWERED_OFF = ("all partitions are off: powering off", "HIL:HALT", "hypervisor failed:")


def run_command(command: str, what: str, timeout: float) -> None:
    """Runs a configured shell command; raises with its output when it fails or hangs."""
    print(f"$ {command}")
    try:
        done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as error:
        raise RuntimeError(f"{what} command `{command}` still running after {timeout:.0f}s") from error
    if done.returncode != 0:
        raise RuntimeError(
            f"{what} command `{command}` failed with status {done.returncode}: {done.stderr.strip() or done.stdout.strip()}"
        )


def find_port(usb_serial: str) -> str:
    """The device of the USB serial adapter whose USB serial number is `usb_serial`."""
    from serial.tools import list_ports

    ports = list(list_ports.comports())
    for port in ports:
        if port.serial_number == usb_serial:
            return port.device
    seen = ", ".join(f"{p.device} ({p.serial_number})" for p in ports) or "none"
    raise RuntimeError(f"no USB serial adapter with serial number {usb_serial!r}; adapters: {seen}")


def card_image(image: Path, kind: str, board: str, config: str) -> Path:
    """What goes on the board's SD card: the SD card image of `config` (kind "sdcard":
    firmware, config.txt, device tree and Bulkhead, by `cargo xtask sdcard`) or `image` itself
    (kind "image")."""
    if kind == "image":
        return image
    if kind != "sdcard":
        raise ValueError(f"[media] image must be sdcard or image, not {kind!r}")
    out = ROOT / "target" / "hil-media" / f"{Path(config).stem}-sdcard.img"
    out.parent.mkdir(parents=True, exist_ok=True)
    run_command(
        f"cd {shlex.quote(str(ROOT))} && cargo xtask sdcard --board {board} "
        f"--config {shlex.quote(config)} --out {shlex.quote(str(out))}",
        "SD card image",
        600,
    )
    return out


class SdMux:
    """Writes the boot media through an SD card multiplexer: card to the host, write, card to
    the board. The board must be powered off meanwhile (the mux does not toggle card-detect)."""

    SWITCH = {
        "usbsdmux": ("{tool} {device} host", "{tool} {device} dut"),
        "sd-mux-ctrl": ("{tool} --device-serial={device} --ts", "{tool} --device-serial={device} --dut"),
    }

    def __init__(self, media: dict, board: str, config: str, timeout: float):
        tool = media.get("tool", "usbsdmux")
        if tool not in self.SWITCH:
            raise ValueError(f"[media] tool must be one of {sorted(self.SWITCH)}, not {tool!r}")
        values = {"tool": media.get("command", tool), "device": shlex.quote(str(media["device"]))}
        self.to_host, self.to_dut = (t.format(**values) for t in self.SWITCH[tool])
        self.block = Path(media["block"])
        self.kind = media.get("image", "sdcard")
        self.board, self.config, self.timeout = board, config, timeout

    def media_image(self, image: Path) -> Path:
        return card_image(image, self.kind, self.board, self.config)

    def deploy(self, image: Path) -> None:
        data = self.media_image(image)
        run_command(self.to_host, "SD mux (to host)", self.timeout)
        deadline = time.monotonic() + self.timeout
        while not self.block.exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the card's block device {self.block} did not appear")
            time.sleep(0.2)
        print(f"writing {data} to {self.block}")
        with open(data, "rb") as source, open(self.block, "r+b" if self.block.exists() else "wb") as card:
            while chunk := source.read(1 << 20):
                card.write(chunk)
            card.flush()
            os.fsync(card.fileno())
        run_command(self.to_dut, "SD mux (to board)", self.timeout)


class TftpFolder:
    """Puts the boot files in the board's folder of a TFTP root (cargo xtask netboot-dir)."""

    def __init__(self, media: dict, board: str, config: str):
        serial = f" --serial {shlex.quote(media['serial'])}" if "serial" in media else ""
        self.command = (
            f"cd {shlex.quote(str(ROOT))} && cargo xtask netboot-dir --board {board} "
            f"--config {shlex.quote(config)}{serial} {shlex.quote(str(media['root']))}"
        )

    def deploy(self, image: Path) -> None:
        run_command(self.command, "netboot-dir", 600)


class DeployCommand:
    """A deploy command of the target's own ({image}, {config}, {board})."""

    def __init__(self, command: str, board: str, config: str):
        self.command, self.board, self.config = command, board, config

    def deploy(self, image: Path) -> None:
        run_command(self.command.format(image=image, config=self.config, board=self.board), "deploy", 600)


def media_of(target: dict, config: str, timeout: float):
    media = dict(target.get("media", {}))
    if not media and "deploy" in target:  # the older flat form: deploy = "cp {image} ..."
        media = {"kind": "command", "deploy": target["deploy"]}
    kind = media.get("kind")
    if kind == "sdmux":
        return SdMux(media, target["board"], config, timeout)
    if kind == "tftp":
        return TftpFolder(media, target["board"], config)
    if kind == "command":
        return DeployCommand(media["deploy"], target["board"], config)
    if kind is None:
        return None
    raise ValueError(f"{target['path']}: [media] kind must be sdmux, tftp or command, not {kind!r}")


class BenchBoard(Board):
    """A real board: console on a serial port, power by commands, media by SD mux or TFTP."""

    def __init__(self, port: str | None, usb_serial: str | None, baud: int, power: dict, media, timeout: float):
        self.port, self.usb_serial, self.baud = port, usb_serial, baud
        self.power, self.media, self.timeout = power, media, timeout
        self.console = Console()
        self.serial = None
        self._running = False
        self.powered = False

    @classmethod
    def from_target(cls, target: dict, config: str) -> "BenchBoard":
        from targets import phases_of

        timeout = phases_of(target).power
        if "power_on" not in target and "power_cycle" not in target:
            raise ValueError(f"{target['path']}: a bench target needs power_on (or power_cycle)")
        power = {k: target[k] for k in ("power_on", "power_off", "power_cycle") if k in target}
        return cls(target.get("port"), target.get("usb_serial"), int(target.get("baud", 115200)),
                   power, media_of(target, config, timeout), timeout)

    def deploy(self, image: Path) -> None:
        if self.media is None:
            return
        if "power_off" in self.power:  # never swap the card under a running board
            run_command(self.power["power_off"], "power off", self.timeout)
        self.media.deploy(image)

    def start(self, image: Path) -> Console:
        import serial  # pyserial

        port = self.port or find_port(self.usb_serial or "")
        # The console listens before the board has power: the first bytes are the verdict's
        # evidence (the boot loader's lines with uart_2ndstage=1).
        self.serial = serial.Serial(port, self.baud, timeout=0.1, rtscts=False, xonxoff=False)
        self.serial.reset_input_buffer()  # nothing from before this power-up
        self._running = True
        threading.Thread(target=self._pump, daemon=True).start()
        if "power_cycle" in self.power:
            run_command(self.power["power_cycle"], "power cycle", self.timeout)
        else:
            if "power_off" in self.power:
                run_command(self.power["power_off"], "power off", self.timeout)
            run_command(self.power["power_on"], "power on", self.timeout)
        self.powered = True
        return self.console

    def _pump(self) -> None:
        while self._running and self.serial:
            try:
                data = self.serial.read(4096)
            except Exception:  # the port went away (adapter unplugged, pty closed)
                break
            if data:
                self.console.feed(data.decode("utf-8", "replace"))
        self.console.close()

    def send(self, text: str) -> None:
        assert self.serial
        self.serial.write(text.encode())

    def wait_exit(self, timeout: float) -> int:
        """A board has no exit status: 0 once the hypervisor said it powers the machine off."""
        pattern = "|".join(f"^{re.escape(p)}" for p in POWERED_OFF)
        self.console.wait_all(pattern, 1, timeout)
        return 0

    def stop(self) -> int | None:
        """Powers the board off (benches do not cook between jobs) and closes the port."""
        self._running = False
        if "power_off" in self.power and self.powered:
            try:
                run_command(self.power["power_off"], "power off", self.timeout)
            except RuntimeError as error:
                print(f"warning: {error}")
        self.powered = False
        if self.serial:
            self.serial.close()
            self.serial = None
        return None
