"""A labgrid lab on the loopback interface (scenario `hil_labgrid`): a gRPC coordinator, an
exporter that exports a QEMU-backed network serial port and a `simplerest` power port (both
served by qemu_relay.py), and a place that matches them. `LocalLab` starts it all, writes a
labgrid target file for the suite, and stops what it started."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLACE = "bulkhead-qemu"
EXPORTER = "bulkhead-lab"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tool(name: str) -> str:
    """A labgrid command from the venv the suite runs in."""
    return str(Path(sys.executable).with_name(name))


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f}s")


class LocalLab:
    """Coordinator, exporter and QEMU relay for `qemu_target` (a QEMU target file), in `work`."""

    def __init__(self, work: Path, qemu_target: Path):
        self.work, self.qemu_target = work, qemu_target
        self.media = work / "media"
        self.media.mkdir(parents=True, exist_ok=True)
        self.coordinator = f"127.0.0.1:{free_port()}"
        self.serial_port, self.power_port = free_port(), free_port()
        self.processes: list[subprocess.Popen] = []

    def spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        print("$ " + " ".join(argv))
        log = open(self.work / f"{name}.log", "w")
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.work)
        self.processes.append(process)
        return process

    def client(self, *args: str) -> str:
        argv = [tool("labgrid-client"), "-x", self.coordinator, *args]
        print("$ " + " ".join(argv))
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def start(self) -> "LocalLab":
        self.spawn("coordinator", [tool("labgrid-coordinator"), "-l", self.coordinator])
        wait_port(int(self.coordinator.rsplit(":", 1)[1]))
        self.spawn("relay", [sys.executable, str(HERE / "qemu_relay.py"), "--target", str(self.qemu_target),
                             "--media", str(self.media), "--serial-port", str(self.serial_port),
                             "--power-port", str(self.power_port)])
        wait_port(self.power_port)
        exporter = self.work / "exporter.yaml"
        exporter.write_text(
            f"{PLACE}:\n"
            f"  NetworkSerialPort:\n    host: 127.0.0.1\n    port: {self.serial_port}\n"
            "    speed: 115200\n    protocol: raw\n"
            "  NetworkPowerPort:\n    model: simplerest\n"
            f"    host: 'http://127.0.0.1:{self.power_port}/relay/{{index}}/{{value}}'\n    index: 0\n"
        )
        self.spawn("exporter", [tool("labgrid-exporter"), "-c", self.coordinator, "--name", EXPORTER,
                                "--hostname", "127.0.0.1", str(exporter)])
        self.client("-p", PLACE, "create")
        self.client("-p", PLACE, "add-match", f"{EXPORTER}/{PLACE}/*")
        deadline = time.monotonic() + 30
        while "NetworkSerialPort" not in self.client("-p", PLACE, "show"):
            if time.monotonic() > deadline:
                raise RuntimeError("the exporter's resources never reached the place")
            time.sleep(0.5)
        return self

    def target_file(self) -> Path:
        """A labgrid target for the suite: the place through the coordinator; boot media is
        the relay's media folder (what a TFTP folder is to a board)."""
        path = self.work / "labgrid-local.toml"
        path.write_text(
            'name = "labgrid-local"\nboard = "qemu-virt"\nbackend = "labgrid"\n'
            f'place = "{PLACE}"\ncoordinator = "{self.coordinator}"\nacquire = true\n'
            'defaults = { smp = "4", gic = "3" }\nboot_retries = 1\n'
            f'[media]\nkind = "command"\ndeploy = "cp {{image}} {self.media}/image.bin"\n'
        )
        return path

    def env_target_file(self) -> Path:
        """A labgrid target for the suite from a local environment file: the same two
        resources, named directly, with no coordinator."""
        env = self.work / "env.yaml"
        env.write_text(
            "targets:\n  main:\n    resources:\n"
            f"      NetworkSerialPort:\n        host: 127.0.0.1\n        port: {self.serial_port}\n"
            "        speed: 115200\n        protocol: raw\n"
            "      NetworkPowerPort:\n        model: simplerest\n"
            f"        host: 'http://127.0.0.1:{self.power_port}/relay/{{index}}/{{value}}'\n        index: 0\n"
            "    drivers:\n      SerialDriver: {}\n      NetworkPowerDriver: {}\n"
        )
        path = self.work / "labgrid-env.toml"
        path.write_text(
            'name = "labgrid-env"\nboard = "qemu-virt"\nbackend = "labgrid"\nenv = "env.yaml"\n'
            'defaults = { smp = "4", gic = "3" }\nboot_retries = 1\n'
            f'[media]\nkind = "command"\ndeploy = "cp {{image}} {self.media}/image.bin"\n'
        )
        return path

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
