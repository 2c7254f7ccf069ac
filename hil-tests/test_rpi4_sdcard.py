"""Scenario `rpi4-sdcard`: `cargo xtask sdcard --board rpi4` writes a card image that Debian's
own tools read as one bootable FAT32 (LBA) partition holding exactly the files of the build.

The readers are independent of the Rust writer (mbrman, fatfs): `sfdisk` (fdisk) for the MBR,
`fsck.fat` (dosfstools) for the file system, `mdir`/`mcopy` (mtools) for the files. The test
installs nothing; `cargo xtask test` installs them, and without them the scenario skips.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, cargo_xtask

TOOLS = {"sfdisk": "fdisk", "fsck.fat": "dosfstools", "mdir": "mtools", "mcopy": "mtools"}
BOOT_FILES = {"start4.elf", "fixup4.dat", "config.txt", "bcm2711-rpi-4-b.dtb", "bulkhead.img"}
CONFIG_TXT = [
    "arm_64bit=1",
    "kernel_address=0x200000",
    "enable_uart=1",
    "core_freq=500",
    "core_freq_min=500",
    "uart_2ndstage=1",
    "enable_gic=1",
    "disable_commandline_tags=1",
    "kernel=bulkhead.img",
    "device_tree=bcm2711-rpi-4-b.dtb",
    "upstream_kernel=1",
    "gpio=2,3=a0",
]
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])


def tool(name: str) -> str:
    path = shutil.which(name, path=SEARCH_PATH)
    if path is None:
        pytest.skip(
            f"{name} (Debian package {TOOLS[name]}) is missing: `cargo xtask test` installs it as root, "
            f"or run: sudo apt-get install -y {' '.join(sorted(set(TOOLS.values())))}"
        )
    return path


def run(*argv: str, **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    return subprocess.run(argv, capture_output=True, text=True, env=env, **kwargs)


class Card:
    """The built image, where its partition is, and where each boot file came from."""

    def __init__(self, image: Path, sources: dict[str, Path | None], staging: Path, served: Path, log: str):
        self.image = image
        self.sources = sources
        self.staging = staging
        self.served = served
        self.log = log
        table = json.loads(run(tool("sfdisk"), "-J", str(image), check=True).stdout)["partitiontable"]
        self.table = table
        self.offset = table["partitions"][0]["start"] * table["sectorsize"]

    def mtools_image(self) -> str:
        return f"{self.image}@@{self.offset}"


@pytest.fixture(scope="module")
def card(tmp_path_factory) -> Card:
    for name in TOOLS:
        tool(name)
    image = tmp_path_factory.mktemp("sdcard") / "rpi4-sd.img"
    result = cargo_xtask("sdcard", "--board", "rpi4", "--out", str(image), check=False)
    assert result.returncode == 0, f"cargo xtask sdcard failed:\n{result.stderr[-5000:]}"
    sources: dict[str, Path | None] = {}
    for match in re.finditer(r"^  (\S+)\s+(\d+) bytes  (?:from (\S+)|generated)$", result.stderr, re.MULTILINE):
        sources[match[1]] = ROOT / match[3] if match[3] else None
    staging = re.search(r"^boot files \(also in (\S+)\):", result.stderr, re.MULTILINE)
    assert staging, result.stderr
    # Right after the card, so both come from the same working tree.
    tftp_root = tmp_path_factory.mktemp("tftp")
    netboot = cargo_xtask("netboot-dir", "--board", "rpi4", "--serial", "1a2b3c4d", str(tftp_root), check=False)
    assert netboot.returncode == 0, f"cargo xtask netboot-dir failed:\n{netboot.stderr[-5000:]}"
    return Card(image, sources, ROOT / staging[1], tftp_root / "1a2b3c4d", result.stderr)


def test_partition_table_is_one_bootable_fat32_lba_partition(card):
    table = card.table
    assert table["label"] == "dos"
    assert table["sectorsize"] == 512
    [partition] = table["partitions"]
    assert partition["type"] == "c", "W95 FAT32 (LBA), which the Pi's boot loader reads"
    assert partition["bootable"] is True
    assert partition["start"] == 2048, "1 MiB aligned"
    assert (partition["start"] + partition["size"]) * 512 == card.image.stat().st_size
    dump = run(tool("sfdisk"), "-d", str(card.image), check=True).stdout
    assert re.search(r"start=\s*2048, size=\s*\d+, type=c, bootable", dump), dump


def test_fat_file_system_is_clean(card, tmp_path):
    [partition] = card.table["partitions"]
    extracted = tmp_path / "partition.img"
    with open(card.image, "rb") as src, open(extracted, "wb") as dst:
        src.seek(card.offset)
        dst.write(src.read(partition["size"] * 512))
    result = run(tool("fsck.fat"), "-n", "-v", str(extracted))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "32 bit entries" in result.stdout, "FAT32"
    assert f"{card.table['partitions'][0]['start']} hidden sectors" in result.stdout, result.stdout
    complaints = [l for l in result.stdout.splitlines() if re.search(r"uninitialized|differ|[Dd]irty|[Ff]ix", l)]
    assert complaints == [], result.stdout


def test_the_card_holds_exactly_the_boot_files(card):
    listing = run(tool("mdir"), "-b", "-i", card.mtools_image(), "::/", check=True).stdout
    names = {line.strip().removeprefix("::/") for line in listing.splitlines() if line.strip()}
    assert names == BOOT_FILES
    assert set(card.sources) == BOOT_FILES, card.log


def test_every_file_matches_the_build_byte_for_byte(card, tmp_path):
    for name in sorted(BOOT_FILES):
        out = tmp_path / name
        run(tool("mcopy"), "-n", "-i", card.mtools_image(), f"::/{name}", str(out), check=True)
        data = out.read_bytes()
        assert data == (card.staging / name).read_bytes(), f"{name} differs from the staged build"
        source = card.sources[name]
        if source is not None:
            assert data == source.read_bytes(), f"{name} differs from {source}"


def test_the_files_are_what_the_pi_expects(card, tmp_path):
    firmware = card.sources["start4.elf"]
    assert firmware is not None and "raspi-firmware" in str(firmware), "Debian's raspi-firmware"
    assert (card.staging / "start4.elf").read_bytes()[:4] == b"\x7fELF"
    dtb = card.sources["bcm2711-rpi-4-b.dtb"]
    assert dtb is not None and re.search(r"linux-image-[^/]+-arm64/.*/broadcom/", str(dtb)), dtb
    assert (card.staging / "bcm2711-rpi-4-b.dtb").read_bytes()[:4] == bytes.fromhex("d00dfeed")
    image = (card.staging / "bulkhead.img").read_bytes()
    assert card.sources["bulkhead.img"].as_posix().endswith("bulkhead/rpi4/demo.img"), "the rpi4 demo build"
    assert image[0x38:0x3C] == b"ARM\x64", "arm64 Image header"
    assert int.from_bytes(image[8:16], "little") == 0x200000, "text_offset matches kernel_address"


def test_config_txt_has_each_setting_explained(card, tmp_path):
    out = tmp_path / "config.txt"
    run(tool("mcopy"), "-n", "-i", card.mtools_image(), "::/config.txt", str(out), check=True)
    lines = out.read_text().splitlines()
    active = [l.strip() for l in lines if l.strip() and not l.startswith("#") and not l.startswith("[")]
    assert active == CONFIG_TXT
    for i, line in enumerate(lines):
        if line in CONFIG_TXT:
            assert lines[i - 1].startswith("# "), f"no comment above {line}"


def test_netboot_dir_holds_the_same_files_as_the_card(card, tmp_path):
    assert {p.name for p in card.served.iterdir()} == BOOT_FILES, "<tftp-root>/<serial>/ holds the boot files"
    for name in sorted(BOOT_FILES):
        out = tmp_path / name
        run(tool("mcopy"), "-n", "-i", card.mtools_image(), f"::/{name}", str(out), check=True)
        assert (card.served / name).read_bytes() == out.read_bytes(), f"{name} differs from the card's"
