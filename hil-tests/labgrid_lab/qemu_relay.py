#!/usr/bin/env python3
"""A QEMU "board" for a local labgrid lab (scenario `hil_labgrid`): a network serial port
(raw TCP, what labgrid's NetworkSerialPort with protocol raw connects to, as a ser2net would
serve a real UART) and a relay with labgrid's `simplerest` power model
(GET /relay/<index>/<1|0> switches, GET /relay/<index> reads). Powering on starts QEMU with the
image in the media folder (what the deploy step put there, as a TFTP folder would hold it);
powering off kills it. Console bytes that arrive while no client is connected are lost, as on a
real serial line.

  qemu_relay.py --target qemu-virt.toml --media DIR --serial-port P --power-port Q
"""

from __future__ import annotations

import argparse
import http.server
import signal
import socket
import subprocess
import sys
import threading
import tomllib
from pathlib import Path


class Relay:
    def __init__(self, target: dict, media: Path):
        self.target, self.media = target, media
        self.qemu: subprocess.Popen | None = None
        self.client: socket.socket | None = None
        self.lock = threading.Lock()

    def argv(self) -> list[str]:
        values = dict(self.target.get("defaults", {}))
        values["image_dir"] = str(self.media)
        return [a.format(image=str(self.media / "image.bin"), **values) for a in self.target["argv"]]

    def power(self, on: bool) -> None:
        with self.lock:
            if self.qemu is not None:
                self.qemu.kill()
                self.qemu.wait()
                self.qemu = None
            if on:
                self.qemu = subprocess.Popen(self.argv(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                             stderr=subprocess.STDOUT)
                threading.Thread(target=self._pump, args=(self.qemu,), daemon=True).start()

    def is_on(self) -> bool:
        return self.qemu is not None and self.qemu.poll() is None

    def _pump(self, qemu: subprocess.Popen) -> None:
        assert qemu.stdout
        while chunk := qemu.stdout.read1(4096):
            client = self.client
            if client is not None:
                try:
                    client.sendall(chunk)
                except OSError:
                    self.client = None

    def serve_serial(self, port: int) -> None:
        server = socket.create_server(("127.0.0.1", port))
        while True:
            conn, _ = server.accept()
            self.client = conn
            threading.Thread(target=self._from_client, args=(conn,), daemon=True).start()

    def _from_client(self, conn: socket.socket) -> None:
        while data := conn.recv(4096):
            qemu = self.qemu
            if qemu is not None and qemu.stdin:
                try:
                    qemu.stdin.write(data)
                    qemu.stdin.flush()
                except OSError:
                    pass
        if self.client is conn:
            self.client = None


def power_handler(relay: Relay):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            parts = self.path.strip("/").split("/")
            if len(parts) == 3 and parts[0] == "relay" and parts[2] in ("0", "1"):
                relay.power(parts[2] == "1")
                body = b"ok"
            elif len(parts) == 2 and parts[0] == "relay":
                body = b"1" if relay.is_on() else b"0"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", type=Path, required=True, help="a QEMU target file")
    parser.add_argument("--media", type=Path, required=True)
    parser.add_argument("--serial-port", type=int, required=True)
    parser.add_argument("--power-port", type=int, required=True)
    args = parser.parse_args()
    with open(args.target, "rb") as f:
        relay = Relay(tomllib.load(f), args.media)
    threading.Thread(target=relay.serve_serial, args=(args.serial_port,), daemon=True).start()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.power_port), power_handler(relay))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so QEMU goes with the relay
    try:
        server.serve_forever()
    finally:
        relay.power(False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
