"""Scenario `new-user`: what a new user hit on a fresh machine (issue 10).

- QEMU needs none of its optional ROMs: a boot with every directory QEMU looks for ROMs in
  (`qemu-system-aarch64 -L help`: /usr/share/qemu, /usr/lib/ipxe/qemu, ...) hidden under an
  empty tmpfs, as on a machine without ipxe-qemu.
"""

from __future__ import annotations

import os
import shutil

import pytest

from boards import QemuBoard
from conftest import Session, build_image


def test_new_user_qemu_boots_with_its_rom_directories_hidden(target):
    if target["backend"] != "qemu":
        pytest.skip("QEMU only")
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("hiding directories needs root and unshare (util-linux)")
    image = build_image("bare-metal", target["board"])
    values = dict(target.get("defaults", {}))
    argv = [arg.format(image="{image}", **values) for arg in target["argv"]]
    hide = 'for d in $(qemu-system-aarch64 -L help); do [ -d "$d" ] && mount -t tmpfs none "$d"; done; exec "$@"'
    board = QemuBoard(["unshare", "-m", "sh", "-c", hide, "sh", *argv])
    try:
        s = Session(board, board.start(image))
        s.expect(r"^HIL:BOOT Bulkhead \S+ el=2 board=qemu-virt")
        s.wait_all(r"^\[alpha\] HIL:HEARTBEAT 2$")
        s.wait_all(r"^\[beta\] HIL:HEARTBEAT 2$")
        assert "romfile" not in s.console.text
    finally:
        board.stop()
