"""Scenario `linux_disk_net`: a Linux partition with a real disk and a network.

`test_linux_disk_net_pcie_smmu`: QEMU virt with an SMMUv3 (`-M iommu=smmuv3`, stage 2). The
Linux partition owns the generic ECAM host bridge with a virtio-blk-pci (00:02.0, stream 0x10)
and a virtio-net-pci (00:03.0, stream 0x18); the hypervisor's SMMU translates their DMA
through the partition's stage 2 (the partition's RAM is at IPA 0x8000_0000, not where its
physical memory is, so a device that bypassed the SMMU would miss). Linux reads the token the
test wrote at the start of the disk and writes `LINUX-SAW-<token>` at byte 4096, which the
test reads back from the image after QEMU exits; it gets a DHCP lease from QEMU's user network.
A bare-metal heartbeat beside it never misses a beat.

QEMU's virtio-pci devices bypass the IOMMU unless `iommu_platform=on` (modern only:
`disable-legacy=on`); real PCIe devices have no such switch."""

import secrets

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
