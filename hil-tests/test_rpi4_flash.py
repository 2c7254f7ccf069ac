"""Scenario `rpi4-flash`: `cargo xtask flash` refuses every target that is not a removable,
unmounted whole disk, and then writes nothing: a regular file, a loop device (not removable),
a mounted loop device and a partition. Loop devices need root and a kernel that has them; the
tests that need one skip with the reason otherwise. (The write path itself is unit-tested in
xtask, on a file.)"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import cargo_xtask

SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])


def flash(device: Path | str, image: Path) -> subprocess.CompletedProcess:
    return cargo_xtask("flash", "--board", "rpi4", "--device", str(device), "--image", str(image), "--yes", check=False)


def digest(path: Path | str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def refused(result: subprocess.CompletedProcess, reason: str) -> None:
    assert result.returncode != 0, result.stderr
    assert "refusing to write" in result.stderr, result.stderr
    assert reason in result.stderr, result.stderr
    assert "nothing was written" in result.stderr, result.stderr


@pytest.fixture
def image(tmp_path) -> Path:
    path = tmp_path / "card.img"
    path.write_bytes(os.urandom(1 << 20))
    return path


def backing_file(tmp_path: Path, name: str = "disk.bin") -> Path:
    path = tmp_path / name
    path.write_bytes(bytes([0xA5]) * (16 << 20))
    return path


def tool(name: str) -> str:
    path = shutil.which(name, path=SEARCH_PATH)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


class Loops:
    """Attaches loop devices and detaches (and unmounts) them afterwards."""

    def __init__(self):
        self.devices: list[str] = []
        self.mounts: list[Path] = []

    def attach(self, backing: Path, *flags: str) -> str:
        if os.geteuid() != 0:
            pytest.skip("loop devices need root")
        result = subprocess.run([tool("losetup"), *flags, "-f", "--show", str(backing)], capture_output=True, text=True)
        if result.returncode != 0:
            pytest.skip(f"loop devices are unavailable here: losetup: {result.stderr.strip()}")
        device = result.stdout.strip()
        self.devices.append(device)
        return device

    def mount(self, device: str, target: Path) -> None:
        target.mkdir()
        result = subprocess.run(["mount", "-o", "ro", device, str(target)], capture_output=True, text=True)
        if result.returncode != 0:
            pytest.skip(f"cannot mount here: {result.stderr.strip()}")
        self.mounts.append(target)

    def cleanup(self) -> None:
        for target in reversed(self.mounts):
            subprocess.run(["umount", str(target)], check=False)
        for device in reversed(self.devices):
            subprocess.run(["losetup", "-d", device], check=False)


@pytest.fixture
def loops():
    attached = Loops()
    yield attached
    attached.cleanup()


def test_a_regular_file_is_refused_and_left_unchanged(tmp_path, image):
    target = backing_file(tmp_path)
    before = digest(target)
    refused(flash(target, image), "a regular file, not a block device")
    assert digest(target) == before


def test_a_missing_device_is_refused(tmp_path, image):
    refused(flash(tmp_path / "sdz", image), "does not exist")
    assert not (tmp_path / "sdz").exists(), "flash never creates a file"


def test_a_loop_device_is_refused_as_not_removable(tmp_path, image, loops):
    backing = backing_file(tmp_path)
    device = loops.attach(backing)
    before = digest(device)
    refused(flash(device, image), f"not removable (/sys/block/{Path(device).name}/removable is 0)")
    assert digest(device) == before
    assert digest(backing) == before


def test_a_mounted_device_is_refused(tmp_path, image, loops):
    device = loops.attach(backing_file(tmp_path))
    subprocess.run([tool("mkfs.ext4"), "-q", "-F", device], check=True, capture_output=True)
    mountpoint = tmp_path / "mnt"
    loops.mount(device, mountpoint)
    before = digest(device)
    refused(flash(device, image), f"{device} is mounted at {mountpoint}; unmount it first: umount {mountpoint}")
    assert digest(device) == before


def test_a_partition_is_refused_naming_its_disk(tmp_path, image, loops):
    backing = backing_file(tmp_path)
    # An MBR with one partition (type 0x0c) from sector 2048 to the end.
    entry = bytes([0x80, 0, 0, 0, 0x0C, 0, 0, 0]) + (2048).to_bytes(4, "little") + (30720).to_bytes(4, "little")
    with open(backing, "r+b") as f:
        f.seek(446)
        f.write(entry)
        f.seek(510)
        f.write(b"\x55\xaa")
    device = loops.attach(backing, "-P")
    partition = Path(f"{device}p1")
    for _ in range(20):
        if partition.exists():
            break
        time.sleep(0.1)
    else:
        pytest.skip(f"the kernel made no {partition} (no partition scanning of loop devices here)")
    before = digest(device)
    refused(flash(partition, image), f"a partition of {Path(device).name}")
    assert digest(device) == before
