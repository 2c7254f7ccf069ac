"""Scenario `rpi4-rng200`: the Arm TRNG service on the Raspberry Pi 4 and its RNG200, which the
hypervisor keeps for itself (docs/rpi4.md, "The hardware RNG").

QEMU 10's raspi4b does not model the RNG200: it removes the node from the device tree it hands
over and maps nothing at 0xfe104000. So on QEMU the scenario proves the fallbacks:
- with QEMU's own device tree there is no RNG200 and no /chosen/rng-seed, and TRNG calls are
  NOT_SUPPORTED, which the boot log says, naming the RNG200;
- with a host device tree that describes an RNG200 on a page QEMU answers with zeros (a block
  whose FIFO never fills) and carries an rng-seed, the driver's bounded wait times out, the
  DRBG takes over from the seed, and a partition that asks for the RNG200's page is refused.
The working-block path (`seeded and reseeded from the rng200`) needs a real board.
"""

import re
import shutil
import subprocess

import pytest

from conftest import ROOT, build_image, cargo_xtask

# The TXP block's page: an unimplemented device in QEMU raspi4b (reads 0, writes ignored).
SILENT_BUS = 0x7E004000
SILENT_PA = 0xFE004000
DRBG_UUID = "7020cec6-d350-4c1c-bf6d-46db58e8183b"
BAD = sorted((ROOT / "device-trees" / "rpi4" / "bad").glob("*.dts"))


def fdtput(dtb, *args: str) -> None:
    subprocess.run(["fdtput", str(dtb), *args], check=True)


@pytest.fixture
def silent_rng200_dtb(tmp_path):
    """The QEMU copy of the board's device tree, with its RNG200 node moved to a page QEMU
    answers with zeros (as `brcm,iproc-rng200`: QEMU deletes `brcm,bcm2711-rng200` nodes) and a
    32-byte /chosen/rng-seed, as the real firmware adds."""
    image = build_image("rng200", "rpi4")
    dtb = tmp_path / "bcm2711-rpi-4-b-silent-rng200.dtb"
    shutil.copy(image.parent / "bcm2711-rpi-4-b-qemu.dtb", dtb)
    fdtput(dtb, "-t", "s", "/soc/rng@7e104000", "compatible", "brcm,iproc-rng200")
    fdtput(dtb, "-t", "x", "/soc/rng@7e104000", "reg", f"{SILENT_BUS:x}", "28")
    fdtput(dtb, "-t", "bx", "/chosen", "rng-seed", *(f"{b:02x}" for b in range(0x40, 0x60)))
    return dtb


def test_qemu_raspi4b_has_no_rng200_so_trng_is_not_offered(boot):
    s = boot("rng200", on="qemu-raspi4b")
    s.expect(r"HIL:BOOT Bulkhead \S+ el=2 board=rpi4 ", timeout=60)
    s.expect(
        r"^HIL:ENTROPY source=none \(no FEAT_RNG, no rng200 in the host device tree, "
        r"no /chosen/rng-seed\): TRNG calls are NOT_SUPPORTED$",
        timeout=30,
    )
    # Not the hypervisor's on this board: the page is granted.
    s.expect(r'^partition "grabber" \(id 2\): 16 MiB at PA 0x[0-9a-f]+, 1 device\(s\)', timeout=30)
    s.expect(r"^\[trng\] HIL:TRNG version=NotSupported$", timeout=30)
    s.wait_all(r"HIL:PART (trng|grabber) STOPPED reason=system-off", count=2, timeout=60)
    # No PSCI: the board halts (on-last-stop defaults to "halt").
    s.expect(r"HIL:HALT all partitions stopped; every CPU parked", timeout=30)
    assert "HIL:PANIC" not in s.console.text


def test_a_silent_rng200_times_out_the_drbg_takes_over_and_its_page_is_refused(
    boot, silent_rng200_dtb
):
    s = boot("rng200", on="qemu-raspi4b", extra=["-dtb", str(silent_rng200_dtb)])
    s.expect(r"HIL:BOOT Bulkhead \S+ el=2 board=rpi4 ", timeout=60)
    failed = s.expect(
        rf"^HIL:ENTROPY rng200 at {SILENT_PA:#x} not used: no output in (\d+) ms "
        r"\(its FIFO stayed empty\)$",
        timeout=30,
    )
    assert int(failed[1]) <= 2000, "bounded by the first-word timeout (1 s)"
    s.expect(
        rf"^HIL:ENTROPY source=chacha20-drbg \(seeded from /chosen/rng-seed; the rng200 at "
        rf"{SILENT_PA:#x} failed\)$",
        timeout=10,
    )
    s.expect(
        r'^partition "grabber" \(id 2\) refused: /partitions/grabber/device@fe004000: '
        r"physical range overlaps \[0x0000_0000_fe00_4000, 0x0000_0000_fe00_4028\), which the "
        r"hypervisor itself uses \(its hardware RNG, the RNG200\); no partition may be given it$",
        timeout=30,
    )
    s.expect(rf"^\[trng\] HIL:TRNG version=1\.0 uuid={DRBG_UUID}$", timeout=30)
    draws = s.expect(r"^\[trng\] HIL:TRNG rnd64=([0-9a-f]{48}) next=([0-9a-f]{48})$", timeout=30)
    assert draws[1] != draws[2] and "0" * 48 not in (draws[1], draws[2])
    s.expect(r"HIL:PART trng STOPPED reason=system-off", timeout=60)
    # No PSCI: the board halts (on-last-stop defaults to "halt").
    s.expect(r"HIL:HALT all partitions stopped; every CPU parked", timeout=30)
    assert "HIL:PANIC" not in s.console.text
    assert not re.search(r"HIL:PART grabber UP", s.console.text)


@pytest.mark.parametrize("fixture", BAD, ids=lambda p: p.stem)
def test_rpi4_rng200_passthrough_is_rejected_at_build_time(fixture):
    result = cargo_xtask("check-config", str(fixture), check=False)
    assert result.returncode != 0, result.stdout
    expected = re.search(r"/\*\s*expect:\s*(.*?)\s*\*/", fixture.read_text())[1]
    relative = fixture.relative_to(ROOT).as_posix()
    assert any(
        line.startswith(relative + ": /") and expected in line for line in result.stderr.splitlines()
    ), result.stderr
