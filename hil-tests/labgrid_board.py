"""The labgrid backend: a board in a lab that already runs labgrid (PyPI `labgrid`, gRPC
coordinator, labgrid >= 24.1). labgrid's drivers do the work, so a lab's exporters need no code
of ours: the target's ConsoleProtocol driver (SerialDriver over a USB or network serial port)
is the console, its PowerProtocol driver (USBPowerDriver for uhubctl, NetworkPowerDriver for a
PDU, ExternalPowerDriver, ...) powers it, and its USBSDMuxDriver + USBStorageDriver (or a
TFTPProviderDriver) put the image on its boot media. Our consoles are no shells, so labgrid's
ShellDriver and strategies are not used: the boot phases (phases.py) are ours.

Target keys (targets/labgrid-*.toml):
  env = "path/to/env.yaml"         a labgrid environment file (local resources or a RemotePlace)
  place = "name", coordinator = "host:port"   or: a place through a coordinator (an environment
                                   with one RemotePlace is made for it); acquire = true locks it
                                   for the run (labgrid-client acquire) and releases it after;
                                   drivers = ["SerialDriver", "USBPowerDriver", "USBSDMuxDriver",
                                   "USBStorageDriver"] binds the place's resources (default:
                                   SerialDriver and NetworkPowerDriver)
  labgrid_target = "main"          the target in the environment
  sd_image = "sdcard"              what USBStorageDriver writes: the SD card image of the
                                   configuration (cargo xtask sdcard) or "image" (the raw image);
                                   a TFTPProviderDriver stages the image file itself
  [media]                          when the labgrid target has no boot media driver: the bench
                                   backend's [media] (kind = sdmux, tftp or command)
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from boards import Board, Console
from bench import POWERED_OFF, card_image, media_of

# Places this session acquired, released at exit.
ACQUIRED: set[tuple[str, str]] = set()


def labgrid_client(coordinator: str, *args: str) -> subprocess.CompletedProcess:
    client = Path(sys.executable).with_name("labgrid-client")
    argv = [str(client) if client.exists() else "labgrid-client", "-x", coordinator, *args]
    print("$ " + " ".join(argv))
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def acquire(coordinator: str, place: str) -> None:
    if (coordinator, place) in ACQUIRED:
        return
    done = labgrid_client(coordinator, "-p", place, "acquire")
    if done.returncode != 0 and "already acquired by" not in done.stderr + done.stdout:
        raise RuntimeError(f"labgrid-client acquire {place}: {done.stderr.strip()}")
    ACQUIRED.add((coordinator, place))
    atexit.register(lambda: labgrid_client(coordinator, "-p", place, "release"))


DEFAULT_DRIVERS = ("SerialDriver", "NetworkPowerDriver")


def place_environment(place: str, coordinator: str, target: str, drivers) -> Path:
    """A labgrid environment file with one target on the RemotePlace `place`, binding
    `drivers` (labgrid driver class names) to the place's resources."""
    bound = "".join(f"      {name}: {{}}\n" for name in drivers)
    text = (
        f"targets:\n  {target}:\n    resources:\n      RemotePlace:\n        name: {place}\n"
        f"    drivers:\n{bound}"
        f"options:\n  coordinator_address: '{coordinator}'\n"
    )
    handle, name = tempfile.mkstemp(prefix="bulkhead-lg-", suffix=".yaml")
    os.write(handle, text.encode())
    os.close(handle)
    return Path(name)


class LabgridBoard(Board):
    """A labgrid target: console, power and boot media through its drivers."""

    def __init__(self, env_file: Path, target_name: str, media, coordinator: str | None, card):
        from labgrid import Environment

        self.env = Environment(config_file=str(env_file))
        if coordinator:
            self.env.config.set_option("coordinator_address", coordinator)
        self.target = self.env.get_target(target_name)
        if self.target is None:
            raise ValueError(f"{env_file}: no labgrid target {target_name!r}")
        self.media = media
        self.card = card  # image -> what USBStorageDriver writes to the card
        self.console = Console()
        self._running = False
        self.powered = False
        self.driver = None

    @classmethod
    def from_target(cls, target: dict, config: str) -> "LabgridBoard":
        from targets import phases_of

        name = target.get("labgrid_target", "main")
        coordinator = target.get("coordinator")
        if "env" in target:
            env = (Path(target["path"]).parent / target["env"]).resolve()
        elif "place" in target and coordinator:
            drivers = target.get("drivers", DEFAULT_DRIVERS)
            env = place_environment(target["place"], coordinator, name, drivers)
        else:
            raise ValueError(f"{target['path']}: a labgrid target needs `env`, or `place` and `coordinator`")
        if target.get("acquire") and "place" in target and coordinator:
            acquire(coordinator, target["place"])
        kind = target.get("sd_image", "sdcard")
        return cls(env, name, media_of(target, config, phases_of(target).power), coordinator,
                   lambda image: card_image(image, kind, target["board"], config))

    def _optional(self, protocol: str):
        try:
            return self.target.get_driver(protocol)
        except Exception:  # labgrid's NoDriverFoundError: the lab has no such driver here
            return None

    def deploy(self, image: Path) -> None:
        power = self.target.get_driver("PowerProtocol")
        self.target.activate(power)
        power.off()  # never change the boot media under a running board
        mux = self._optional("USBSDMuxDriver")
        storage = self._optional("USBStorageDriver")
        tftp = self._optional("TFTPProviderDriver")
        if mux is not None and storage is not None:
            self.target.activate(mux)
            mux.set_mode("host")
            self.target.activate(storage)
            storage.write_image(str(self.card(image)))
            mux.set_mode("dut")
        elif tftp is not None:
            self.target.activate(tftp)
            tftp.stage(str(image))
        elif self.media is not None:
            self.media.deploy(image)

    def start(self, image: Path) -> Console:
        self.driver = self.target.get_driver("ConsoleProtocol")
        self.target.activate(self.driver)
        self._running = True
        threading.Thread(target=self._pump, daemon=True).start()
        power = self.target.get_driver("PowerProtocol")
        self.target.activate(power)
        power.on()
        self.powered = True
        return self.console

    def _pump(self) -> None:
        from pexpect import TIMEOUT

        while self._running:
            try:
                data = self.driver.read(size=1, max_size=4096, timeout=0.2)
            except TIMEOUT:
                continue
            except Exception:  # the connection went away
                break
            self.console.feed(data.decode("utf-8", "replace"))
        self.console.close()

    def send(self, text: str) -> None:
        self.driver.write(text.encode())

    def wait_exit(self, timeout: float) -> int:
        """0 once the hypervisor said it powers the machine off (a board has no exit status)."""
        import re

        self.console.wait_all("|".join(f"^{re.escape(p)}" for p in POWERED_OFF), 1, timeout)
        return 0

    def stop(self) -> int | None:
        self._running = False
        if self.powered:
            try:
                self.target.get_driver("PowerProtocol").off()
            except Exception as error:
                print(f"warning: labgrid power off: {error}")
            self.powered = False
        self.target.deactivate_all_drivers()
        return None
