"""Scenario `linux_disk_net` (issue 14): a Linux partition that owns a disk and a network card,
passed through, mounts an ext4 image, reads a file the test put there, writes one the test reads
back from the image after QEMU exits, and gets a DHCP lease from QEMU's user network.

Direct-mapped variant: the partition's RAM sits at IPA = PA and owns QEMU virt's last page of
virtio-mmio transports (virtio-blk and virtio-net-device: virtio over MMIO needs no option ROM,
unlike QEMU's default PCI card), marked `unprotected-dma`, which the build and the boot log warn
about. A bare-metal heartbeat partition runs beside it throughout."""

import hashlib
import secrets
import subprocess

from conftest import cargo_xtask

LINUX_BOOT_TIMEOUT = 240

WARNING = (
    r'warning: partition "linux" device device@a003000 \(virtio,mmio\) does unprotected DMA '
    r"\(no SMMU, direct-mapped at PA = IPA\)"
)


def ext4_image(tmp_path, token: str):
    """An ext4 image (cargo xtask ext4-image) holding from-host.txt = token."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "from-host.txt").write_text(token + "\n")
    image = tmp_path / "disk.ext4"
    cargo_xtask("ext4-image", str(root), str(image), "--size-mib", "16")
    return image


def read_back(image, path: str) -> str:
    """The file `path` of the ext4 image, read on the host with e2fsprogs' debugfs."""
    out = subprocess.run(["debugfs", "-R", f"cat {path}", str(image)], capture_output=True,
                         text=True, check=True)
    return out.stdout


def test_linux_disk_net_direct_mapped_virtio_mmio(boot, tmp_path):
    token = secrets.token_hex(16)
    image = ext4_image(tmp_path, token)
    check = cargo_xtask("check-config", "device-trees/qemu-virt/linux-disk-net.dts")
    warnings = [line for line in check.stderr.splitlines() if "unprotected DMA" in line]
    assert len(warnings) == 1, check.stderr
    assert "partition \"linux\"" in warnings[0] and "device@a003000" in warnings[0]

    # QEMU puts the first -device virtio-*-device on its last transport (0x0a003e00), the next
    # one below it (0x0a003c00): the two the partition's device tree describes.
    extra = [
        "-drive", f"if=none,file={image},format=raw,id=disk",
        "-device", "virtio-blk-device,drive=disk",
        "-netdev", "user,id=net",
        "-device", "virtio-net-device,netdev=net",
    ]
    s = boot("linux-disk-net", gic=3, extra=extra)
    s.expect(r"HIL:BOOT Bulkhead \S+ el=2 .* gic=v3 ", timeout=30)
    s.expect(r'partition "linux" \(id 1\): 512 MiB at PA 0x80000000, 1 device\(s\)', timeout=30)
    s.expect(WARNING, timeout=10)
    s.expect(r"HIL:PART rtos UP", timeout=30)
    s.wait_all(r"^\[rtos\] HIL:HEARTBEAT 0$", timeout=30)
    s.expect(r"^\[linux\] HIL:LINUX userspace cpus=2 .* mode=disk-net", timeout=LINUX_BOOT_TIMEOUT)
    for module in ("virtio_mmio", "virtio_blk", "virtio_net", "ext4"):
        s.expect(rf"^\[linux\] HIL:LINUX insmod {module} ok", timeout=60)
    s.expect(r"^\[linux\] HIL:LINUX disk mounted /dev/vda /mnt ext4 rw", timeout=60)
    s.expect(rf"^\[linux\] HIL:LINUX disk read {token}$", timeout=30)
    digest = hashlib.sha256((token + "\n").encode()).hexdigest()
    s.expect(rf"^\[linux\] HIL:LINUX disk wrote from-guest.txt sha256={digest} and unmounted",
             timeout=30)
    lease = s.expect(r"^\[linux\] HIL:LINUX dhcp lease ip=(10\.0\.2\.\d+) mask=24 router=10\.0\.2\.2 ",
                     timeout=60)
    s.expect(r"^\[linux\] HIL:LINUX dhcp ok inet 10\.0\.2\.\d+/24", timeout=30)
    s.expect(r"HIL:PART linux STOPPED reason=system-off", timeout=60)
    last = s.heartbeats("rtos")[-1]
    s.wait_all(rf"^\[rtos\] HIL:HEARTBEAT {last + 2}$", timeout=30)
    beats = s.heartbeats("rtos")
    assert beats == list(range(len(beats))), "the bare-metal heartbeat has no gaps"
    assert lease[1] == "10.0.2.15", "QEMU's user network hands out its first address"
    s.board.stop()

    # After QEMU exits: what Linux wrote is in the image.
    assert read_back(image, "/from-guest.txt") == f"sha256 of from-host.txt: {digest}\n"
    assert read_back(image, "/from-host.txt") == token + "\n"


# PCIe variant (test_linux_disk_net_pcie_smmu): QEMU virt with an SMMUv3 (`-M iommu=smmuv3`,
# stage 2). The Linux partition owns the generic ECAM host bridge with a virtio-blk-pci (00:02.0,
# stream 0x10) and a virtio-net-pci (00:03.0, stream 0x18); the hypervisor's SMMU translates their
# DMA through the partition's stage 2 (its RAM is at IPA 0x8000_0000, not where its physical
# memory is, so a device that bypassed the SMMU would miss). Linux reads the token the test wrote
# at the start of the disk and writes `LINUX-SAW-<token>` at byte 4096, read back after QEMU
# exits; it gets a DHCP lease. QEMU's virtio-pci devices bypass the IOMMU unless
# `iommu_platform=on` (modern only: `disable-legacy=on`); real PCIe devices have no such switch.

LINUX_TIMEOUT = 300

SMMU = ["-M", "iommu=smmuv3", "-global", "arm-smmuv3.stage=2"]


def pcie_devices(disk) -> list[str]:
    virtio = "disable-legacy=on,iommu_platform=on"
    return [
        "-drive", f"file={disk},if=none,format=raw,id=disk0",
        "-device", f"virtio-blk-pci,drive=disk0,addr=2.0,{virtio}",
        "-netdev", "user,id=net0",
        "-device", f"virtio-net-pci,netdev=net0,addr=3.0,{virtio},romfile=",
    ]


def test_linux_disk_net_pcie_smmu(boot, tmp_path):
    token = "BULKHEAD-" + secrets.token_hex(6)
    disk = tmp_path / "disk.img"
    with open(disk, "wb") as f:
        f.write(token.encode())
        f.truncate(8 * 1024 * 1024)
    s = boot("linux-disk-net-pcie", extra=SMMU + pcie_devices(disk))
    s.expect(r'SMMU: stream 0x0010 -> partition "linux" \(id 1\) device device@4010000000: stage 2', timeout=30)
    s.expect(r"SMMU at 0x9050000: stage 2, \d+ stream table entries, 2 stream\(s\) assigned, every other stream aborts", timeout=30)
    s.wait_all(r"^\[rtos\] HIL:HEARTBEAT 0$", timeout=60)
    s.expect(r"^\[linux\] HIL:LINUX pci 0000:00:02.0 vendor=0x1af4 device=0x1042 driver=virtio-pci", timeout=LINUX_TIMEOUT)
    s.expect(r"^\[linux\] HIL:LINUX pci 0000:00:03.0 vendor=0x1af4 device=0x1041 driver=virtio-pci", timeout=30)
    s.expect(rf"^\[linux\] HIL:LINUX vda sectors=16384 token={token}$", timeout=60)
    s.expect(r"^\[linux\] HIL:LINUX vda wrote", timeout=60)
    s.expect(r"^\[linux\] HIL:LINUX .*lease of 10\.0\.2\.\d+ obtained", timeout=60)
    s.expect(r"^\[linux\] HIL:LINUX dhcp ok", timeout=30)
    s.expect(r"HIL:PART linux STOPPED reason=system-off", timeout=60)
    last = s.heartbeats("rtos")[-1]
    s.wait_all(rf"^\[rtos\] HIL:HEARTBEAT {last + 2}$", timeout=30)
    beats = s.heartbeats("rtos")
    assert beats == list(range(len(beats))), "the bare-metal heartbeat has no gaps"
    assert "SMMU: device" not in s.console.text, "no device fault while the devices work"
    s.board.stop()
    written = disk.read_bytes()[4096:4096 + 64].split(b"\n")[0]
    assert written == f"LINUX-SAW-{token}".encode(), written
