"""Scenario `dma_isolation` (issue 14): a Linux partition's virtio-blk-pci, behind the SMMU the
hypervisor drives, is told from userspace (`dmaprobe`, guest-shim/dmaprobe) to write into and
read from the physical memory of another partition and of the hypervisor. The SMMU translates
the device's addresses through the Linux partition's stage 2, where neither exists: every access
aborts, the hypervisor reports each fault naming the partition, the device, the direction and
the address, the heartbeat partition beats on with no gap, the memory aimed at is unchanged byte
for byte (read over QMP and compared with the images it was loaded from), and what the device
read from it onto the disk is zeros. The device works throughout for the
partition's own memory (a read before the attacks, a write and a read after). The same
configuration without the SMMU (`stream-ids` taken out) is refused by `check-config`."""

import re
import secrets

from boards import qemu_monitor
from conftest import ROOT, cargo_xtask

CONFIG = ROOT / "device-trees/qemu-virt/dma-isolation.dts"
SMMU = ["-M", "iommu=smmuv3", "-global", "arm-smmuv3.stage=2"]
FUNCTION = "0000:00:02.0"
DEVICE = "device@4010000000"
# Where dmaprobe aims the device: the heartbeat partition's memory (its IPA 0x4000_0000, at PA
# 0x7000_0000) and the hypervisor's image (QEMU loads it at 0x4020_0000, its arm64 header's
# text_offset from the start of RAM).
VICTIM_PA = 0x7000_0000
HYPERVISOR_PA = 0x4020_0000
SECTOR = 512
LINUX_TIMEOUT = 300


def disk_image(path, token: str):
    """Sector 0: the token; sector 1: what the attacks would write into others' memory; sectors
    2 and 3: what the attacks would overwrite with others' memory; the rest zeros."""
    sectors = [token, f"PAYLOAD-{token}", "UNTOUCHED-2", "UNTOUCHED-3"]
    with open(path, "wb") as f:
        for text in sectors:
            f.write(text.encode().ljust(SECTOR, b"\0"))
        f.truncate(1024 * 1024)


def sector(path, n: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(n * SECTOR)
        return f.read(SECTOR)


def physical_memory(session, address: int, length: int = SECTOR) -> bytes:
    """`length` bytes of guest-physical memory, read over QMP (`xp`)."""
    reply = qemu_monitor(session.board.qmp_socket, f"xp /{length // 4}wx {address:#x}", timeout=10)
    words = re.findall(r"0x([0-9a-f]{8})\b", reply.split(":", 1)[1] if ":" in reply else reply)
    data = b"".join(int(w, 16).to_bytes(4, "little") for w in words)
    assert len(data) >= length, reply
    return data[:length]


def test_dma_isolation_smmu_blocks_a_passed_through_device(boot, tmp_path):
    token = "BULKHEAD-" + secrets.token_hex(6)
    disk = tmp_path / "disk.img"
    disk_image(disk, token)
    extra = SMMU + [
        "-drive", f"file={disk},if=none,format=raw,id=disk0",
        "-device", "virtio-blk-pci,drive=disk0,addr=2.0,disable-legacy=on,iommu_platform=on",
    ]
    s = boot("dma-isolation", extra=extra)
    s.expect(rf'SMMU: stream 0x0010 -> partition "linux" \(id 1\) device {DEVICE}: stage 2', timeout=30)
    s.expect(r"SMMU at 0x9050000: stage 2, \d+ stream table entries, 1 stream\(s\) assigned, "
             r"every other stream aborts", timeout=30)
    s.wait_all(r"^\[rtos\] HIL:HEARTBEAT 0$", timeout=60)
    s.expect(rf"^\[linux\] HIL:LINUX pci {FUNCTION} vendor=0x1af4 device=0x1042 driver=none",
             timeout=LINUX_TIMEOUT)

    # The device works for the partition's own memory: it reads the token into dmaprobe's page.
    s.expect(rf"^\[linux\] HIL:DMA read sector=0 addr=0x[0-9a-f]+ buffer=own result=completed "
             rf"status=0 data={token}$", timeout=60)
    # Every aimed access aborts at the SMMU. The device does not know it: QEMU's virtio-blk
    # copies its data through a bounce buffer whose copy to or from guest memory the SMMU
    # refuses word by word, so it reports the request done, as a real device might; what it
    # did is in the fault records, in the memory aimed at and on the disk (below).
    attacks = [("read", 1, VICTIM_PA, "write"), ("write", 2, VICTIM_PA, "read"),
               ("read", 1, HYPERVISOR_PA, "write"), ("write", 3, HYPERVISOR_PA, "read")]
    for op, n, address, _ in attacks:
        s.expect(rf"^\[linux\] HIL:DMA {op} sector={n} addr={address:#x} buffer=given "
                 rf"result=\S+.*$", timeout=30)
    # And after the faults, once reset, it works again for the partition's own memory.
    s.expect(r"^\[linux\] HIL:DMA write sector=4 addr=0x[0-9a-f]+ buffer=own result=completed "
             r"status=0$", timeout=30)
    s.expect(r"^\[linux\] HIL:DMA read sector=4 addr=0x[0-9a-f]+ buffer=own result=completed "
             r"status=0 data=DMAPROBE-WROTE-4$", timeout=30)
    s.expect(r"^\[linux\] HIL:LINUX dma-probe done", timeout=30)

    # No byte of the memory aimed at changed: it still holds the images it was loaded from.
    guest = (ROOT / "target/bulkhead/qemu-virt/artifacts/test-guest.bin").read_bytes()[:SECTOR]
    hypervisor = (ROOT / "target/bulkhead/qemu-virt/dma-isolation.img").read_bytes()[:SECTOR]
    assert physical_memory(s, VICTIM_PA) == guest, "the heartbeat partition's memory is untouched"
    assert physical_memory(s, HYPERVISOR_PA) == hypervisor, "the hypervisor's image is untouched"

    s.expect(r"HIL:PART linux STOPPED reason=system-off", timeout=60)
    last = s.heartbeats("rtos")[-1]
    s.wait_all(rf"^\[rtos\] HIL:HEARTBEAT {last + 2}$", timeout=30)
    beats = s.heartbeats("rtos")
    assert beats == list(range(len(beats))), "the heartbeat partition has no gap"
    # The hypervisor drains the SMMU's event queue every 10 ms, so its reports interleave with
    # the probe's lines: counted at the end, one at least for each attack, every one naming the
    # Linux partition and its host bridge, and none for a stream of anything else.
    faults = s.console.lines_matching(r"HIL:DMA-FAULT .*")
    assert len(faults) >= len(attacks), faults
    for _, _, address, direction in attacks:
        record = (rf'SMMU: device {DEVICE} \(stream 0x0010\) of partition "linux" \(id 1\): '
                  rf"F_TRANSLATION, {direction} at address 0x{address:016x} outside the "
                  rf"partition's memory \(stage 2\): blocked")
        assert re.search(record, s.console.text), f"no record of the {direction} at {address:#x}"
    for fault in faults:
        assert re.search(rf"HIL:DMA-FAULT partition=linux device={DEVICE} stream=0x10 event=\S+$",
                         fault[0]), fault[0]
    assert "SMMU: partition \"linux\" stopped" not in s.console.text, "on-fault = inject"

    assert "HIL:PART rtos STOPPED" not in s.console.text
    s.board.stop()

    # After QEMU exits: nothing of the others' memory reached the disk. The device's reads of
    # it were aborted, and what it wrote in their place is zeros; the own write arrived.
    assert sector(disk, 2) == bytes(SECTOR), sector(disk, 2)
    assert sector(disk, 3) == bytes(SECTOR), sector(disk, 3)
    assert sector(disk, 1).rstrip(b"\0") == f"PAYLOAD-{token}".encode()
    assert sector(disk, 4).rstrip(b"\0") == b"DMAPROBE-WROTE-4\n"


def test_dma_isolation_without_the_smmu_is_refused(tmp_path):
    """The scenario's configuration with its `stream-ids` taken out, next to the same guest
    images: check-config refuses it and says why; with them it passes, with no DMA warning."""
    text = CONFIG.read_text()
    lines = text.splitlines()
    without = [line for line in lines if not line.strip().startswith("stream-ids =")]
    assert len(without) == len(lines) - 1, "exactly one line differs"
    config = tmp_path / "dma-isolation-no-smmu.dts"
    config.write_text("\n".join(without) + "\n")
    (tmp_path / "guests").symlink_to(CONFIG.parent / "guests")
    refused = cargo_xtask("check-config", str(config), check=False)
    assert refused.returncode != 0, refused.stdout
    reason = ("/partitions/linux/device@4010000000: is a DMA master (pci-host-ecam-generic): it "
              "can read and write any physical memory")
    assert reason in refused.stderr, refused.stderr
    assert refused.stderr.count("rejected (1 error(s))") == 1, refused.stderr
    accepted = cargo_xtask("check-config", str(CONFIG))
    assert "DMA" not in accepted.stderr, accepted.stderr
