"""Scenario `new-user`: what a new user hit on a fresh machine (issue 10).

- QEMU needs none of its optional ROMs: a boot with every directory QEMU looks for ROMs in
  (`qemu-system-aarch64 -L help`: /usr/share/qemu, /usr/lib/ipxe/qemu, ...) hidden under an
  empty tmpfs, as on a machine without ipxe-qemu.
- The build-time QEMU virt board has as many CPUs as the run (`--smp`).
- A missing image says where it was looked for.
- `--linux-image` of another kernel release never gets Debian's modules: the build takes the
  matching ones, or says what to pass.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from boards import QemuBoard
from conftest import ROOT, Session, build_image, cargo_xtask, load_target

GUESTS = ROOT / "device-trees" / "qemu-virt" / "guests"


def bare_metal_on(cpus: list[int]) -> str:
    """A configuration of one heartbeat test partition per CPU in `cpus`."""
    partitions = "".join(
        f"""
        cpu{cpu} {{
            #address-cells = <2>;
            #size-cells = <2>;
            cpus = <{cpu:#x}>;
            memory@40000000 {{ reg = <0x0 0x40000000 0x0 0x01000000>; }};
            kernel {{ file = "test-guest.bin"; load = <0x0 0x40000000>; }};
            dtb {{ file = "heartbeat.dtb"; load = <0x0 0x40f00000>; }};
            console {{ reg = <0x0 0x09000000 0x0 0x1000>; }};
        }};"""
        for cpu in cpus
    )
    return f"""/dts-v1/;
/ {{
    compatible = "bulkhead,config";
    board = "qemu-virt";
    partitions {{
        #address-cells = <2>;
        #size-cells = <2>;{partitions}
    }};
}};
"""


def write_config(directory: Path, name: str, text: str) -> Path:
    """Writes a configuration whose guest device trees come from device-trees/qemu-virt/guests."""
    (directory / "guests").symlink_to(GUESTS, target_is_directory=True)
    path = directory / f"{name}.dts"
    path.write_text(text)
    return path


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


def test_new_user_an_8_cpu_board_follows_smp(boot, tmp_path):
    config = write_config(tmp_path, "smp8", bare_metal_on([4, 7]))
    four = cargo_xtask("check-config", str(config), check=False)
    assert four.returncode != 0
    assert "CPU 0x4 does not exist on this board" in four.stderr, four.stderr
    eight = cargo_xtask("check-config", str(config), "--smp", "8", check=False)
    assert eight.returncode == 0, eight.stderr
    nine = cargo_xtask("check-config", str(config), "--smp", "9", check=False)
    assert "--smp 9: board qemu-virt runs with 1 to 8 CPUs" in nine.stderr, nine.stderr

    s = boot(str(config), smp=8)
    s.expect(r"^HIL:BOOT Bulkhead \S+ el=2 board=qemu-virt cpus=8 ")
    # The two partitions start in either order.
    s.wait_all(r"^HIL:PART cpu4 UP cpu=4 ")
    s.wait_all(r"^HIL:PART cpu7 UP cpu=7 ")
    s.wait_all(r"^\[cpu4\] HIL:HEARTBEAT 2$")
    s.wait_all(r"^\[cpu7\] HIL:HEARTBEAT 2$")


def test_new_user_a_missing_image_says_where_it_was_looked_for(tmp_path):
    text = bare_metal_on([1]).replace('"test-guest.bin"', '"nowhere.bin"')
    config = write_config(tmp_path, "missing", text)
    result = cargo_xtask("check-config", str(config), check=False)
    assert result.returncode != 0
    line = next(l for l in result.stderr.splitlines() if 'image file "nowhere.bin" not found' in l)
    for looked in [tmp_path / "nowhere.bin", tmp_path / "guests" / "nowhere.bin",
                   "target/bulkhead/qemu-virt/artifacts/nowhere.bin"]:
        assert str(looked) in line, line


def fake_kernel(directory: Path, release: str) -> Path:
    """A file that is not a kernel but carries one's banner (the build never boots it)."""
    image = directory / "Image"
    image.write_bytes(b"\0" * 4096 + f"Linux version {release} (me@here) (gcc)\n".encode() + b"\0" * 4096)
    return image


def fake_modules(directory: Path, release: str) -> Path:
    modules = directory / "modules" / release / "kernel"
    modules.mkdir(parents=True)
    (modules / "arm_smccc_trng.ko").write_bytes(f"\0vermagic={release} SMP mod_unload aarch64\0".encode())
    return modules.parent


def test_new_user_another_kernel_gets_its_own_modules_or_is_refused(tmp_path):
    release = "9.9.9-bulkhead-test"
    image = fake_kernel(tmp_path, release)
    build = ["build", "--config", "linux-gicv3", "--linux-image", str(image)]

    refused = cargo_xtask(*build, check=False)
    assert refused.returncode != 0
    assert f"is Linux {release}" in refused.stderr, refused.stderr
    assert "--linux-modules DIR" in refused.stderr and "--initrd FILE" in refused.stderr, refused.stderr

    wrong = fake_modules(tmp_path / "wrong", "6.1.0-0-arm64")
    mismatch = cargo_xtask(*build, "--linux-modules", str(wrong), check=False)
    assert mismatch.returncode != 0
    assert f"is built for Linux 6.1.0-0-arm64, but --linux-image {image} is Linux {release}" in mismatch.stderr, mismatch.stderr

    right = fake_modules(tmp_path / "right", release)
    built = cargo_xtask(*build, "--linux-modules", str(right), check=False)
    assert built.returncode == 0, built.stderr
    # Leave the real linux-gicv3 image for the scenarios that boot it.
    cargo_xtask("build", "--config", "linux-gicv3")


def test_new_user_debians_own_image_gets_debians_modules(tmp_path):
    """`--linux-image` of Debian's kernel itself: the matching package is the default one."""
    downloads = ROOT / "target" / "bulkhead" / "downloads"
    images = sorted(downloads.glob("linux-image-*/boot/vmlinuz-*"))
    if not images:
        pytest.skip("Debian's kernel is not fetched yet")
    release = re.search(rb"Linux version (\S+) ", images[0].read_bytes())[1]
    result = cargo_xtask("build", "--config", "linux-gicv3", "--linux-image", str(images[0]), check=False)
    assert result.returncode == 0, result.stderr
    built = ROOT / re.search(r"^built (\S+)", result.stderr, re.MULTILINE)[1]
    # The initramfs in the bundle carries modules built for that very release.
    assert b"vermagic=" + release + b" " in built.read_bytes()
