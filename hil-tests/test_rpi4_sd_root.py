"""Scenario `rpi4_sd_root` on QEMU raspi4b (issue 14, point 6): a direct-mapped Linux partition
in the low GiB owns the Raspberry Pi 4's SD controller, EMMC2, a DMA master with no IOMMU in
front of it (marked `unprotected-dma`, warned about at boot), and mounts its root file system
from the SD card image: Debian's stock `sdhci-iproc` drives the passed-through controller, the
initramfs switches to the card's /init, which reads a file the test put on the card.

QEMU models EMMC2 but not GENET, the PCIe root complex or its VL805 xHCI, which the same
configuration passes through for the board (docs/rpi4.md, "DMA masters")."""

import secrets
from pathlib import Path

from conftest import ROOT, cargo_xtask

BOOT = 300

# The card's /init: the root file system on the SD card, after switch_root.
CARD_INIT = """#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
export PATH=/bin
echo "HIL:LINUX sd-root init root=$(awk '$2 == "/" { print $1, $3 }' /proc/mounts | tail -1)"
echo "HIL:LINUX sd-root marker $(cat /etc/marker)"
poweroff -f
"""


def card_image(tmp_path: Path, token: str) -> Path:
    """A 16 MiB ext4 SD card image (QEMU wants a power of two) holding busybox, /init and
    /etc/marker = token."""
    busybox = ROOT / "target" / "bulkhead" / "downloads" / "busybox-static" / "bin" / "busybox"
    root = tmp_path / "card"
    (root / "bin").mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "bin" / "busybox").write_bytes(busybox.read_bytes())
    (root / "bin" / "busybox").chmod(0o755)
    (root / "init").write_text(CARD_INIT)
    (root / "init").chmod(0o755)
    (root / "etc" / "marker").write_text(token + "\n")
    image = tmp_path / "sd.ext4"
    cargo_xtask("ext4-image", str(root), str(image), "--size-mib", "16", "--label", "sdroot")
    return image


def test_rpi4_sd_root_linux_mounts_its_root_from_the_sd_card(boot, tmp_path):
    token = secrets.token_hex(12)
    # Built first: the boot fixture builds the configuration, which fetches busybox.
    check = cargo_xtask("check-config", "device-trees/rpi4/linux-sd-direct-map.dts")
    assert "device@fe340000 (brcm,bcm2711-emmc2) does unprotected DMA" in check.stderr
    image = card_image(tmp_path, token)
    # `-drive if=sd` puts QEMU's card on the GPIO-routed bus of the Arasan SDHCI (0xfe300000), as
    # on a Pi 3; the Pi 4's slot is EMMC2 (0xfe340000), the first generic-sdhci of QEMU's device
    # list: its PRESENT_STATE (0xfe340024) reads 0x01ff0000, card inserted, with this (measured).
    s = boot("linux-sd-direct-map", on="qemu-raspi4b",
             extra=["-drive", f"if=none,id=sdcard,format=raw,file={image}",
                    "-device", "sd-card,drive=sdcard,bus=/generic-sdhci/sd-bus"])
    s.expect(r"HIL:BOOT Bulkhead \S+ el=2 board=rpi4 ", timeout=60)
    s.expect(r'^partition "linux" \(id 1\): 512 MiB at PA 0x10000000, 2 device\(s\)', timeout=10)
    s.expect(r'warning: partition "linux" device device@fe340000 \(brcm,bcm2711-emmc2\) does '
             r"unprotected DMA", timeout=10)
    s.expect(r"^\[linux\] HIL:LINUX userspace cpus=2 .* mode=sd-root", timeout=BOOT)
    s.expect(r"^\[linux\] HIL:LINUX insmod sdhci-iproc ok$", timeout=60)
    s.expect(r"^\[linux\] HIL:LINUX sd mounted /dev/mmcblk0 /newroot ext4 ", timeout=60)
    s.expect(r"^\[linux\] HIL:LINUX sd-root init root=/dev/mmcblk0 ext4$", timeout=60)
    s.expect(rf"^\[linux\] HIL:LINUX sd-root marker {token}$", timeout=30)
    s.expect(r"HIL:PART linux STOPPED reason=system-off", timeout=60)
