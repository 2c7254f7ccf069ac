"""Scenario `bad-config`: every invalid configuration is rejected by `cargo xtask check-config`
with the file, the node and the reason."""

import re
from pathlib import Path

import pytest

from conftest import ROOT, cargo_xtask

BAD = sorted((ROOT / "device-trees" / "qemu-virt" / "bad").glob("*.dts"))
# Partition device trees that are no DTB or lack what their kernel needs (issue 11, point 7);
# checked by xtask only (the config crate's host test does not read guest images).
BAD_GUEST_DT = sorted((ROOT / "device-trees" / "qemu-virt" / "bad" / "guest-dt").glob("*.dts"))


def expected_reason(path: Path) -> str:
    match = re.search(r"/\*\s*expect:\s*(.*?)\s*\*/", path.read_text())
    assert match, f"{path.name} has no /* expect: ... */ line"
    return match.group(1)


def test_every_case_of_the_issue_has_a_fixture():
    names = {p.stem for p in BAD}
    assert {"memory-overlap", "overlaps-hypervisor", "cpu-twice", "no-such-cpu", "unaligned-region",
            "image-too-large", "entry-outside", "missing-image", "device-twice"} <= names
    # Channels between partitions: each rule of docs/configuration.md's `/channels/<name>`.
    assert {"channel-unknown-partition", "channel-loop", "channel-irq-not-spi",
            "channel-irq-beyond-vgic", "channel-irq-device", "channel-irq-twice"} <= names
    # A partition's SBSA watchdog: docs/configuration.md's `watchdog`.
    assert {"watchdog-overlaps-device", "watchdog-irq-device"} <= names
    # Device interrupts past the virtual GIC or the board's GIC.
    assert {"device-irq-beyond-vgic", "device-irq-beyond-board"} <= names
    # DMA masters and direct-mapped partitions (issue 14): docs/configuration.md's "DMA".
    assert {"dma-unprotected", "direct-map-overlaps-hypervisor", "direct-map-overlaps-partition",
            "direct-map-not-in-ram", "stream-id-twice", "unprotected-dma-not-direct-mapped"} <= names
    guest_dt = {p.stem for p in BAD_GUEST_DT}
    assert {"not-a-dtb", "no-memory", "no-chosen", "no-cpus", "more-cpus-than-vcpus",
            "linux-no-interrupt-controller"} <= guest_dt


@pytest.mark.parametrize("fixture", BAD + BAD_GUEST_DT, ids=lambda p: p.stem)
def test_invalid_configuration_is_rejected_with_its_reason(fixture):
    result = cargo_xtask("check-config", str(fixture), check=False)
    assert result.returncode != 0, result.stdout
    relative = fixture.relative_to(ROOT).as_posix()
    lines = [l for l in result.stderr.splitlines() if l.startswith(relative + ": /")]
    assert lines, f"no 'file: /node: reason' line in:\n{result.stderr}"
    assert any(expected_reason(fixture) in line for line in lines), result.stderr


SHIPPED = sorted(p.stem for p in (ROOT / "device-trees" / "qemu-virt").glob("*.dts"))


@pytest.mark.parametrize("config", SHIPPED)
def test_shipped_configurations_are_valid(config):
    path = ROOT / "device-trees" / "qemu-virt" / f"{config}.dts"
    result = cargo_xtask("check-config", str(path), check=False)
    assert result.returncode == 0, result.stderr
