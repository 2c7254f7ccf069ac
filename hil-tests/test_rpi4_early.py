"""Scenarios `rpi4-early`: what Bulkhead says before its MMU is on, through the console it has
just set up itself, when the boot loader got something wrong (docs/rpi4.md, "First boot"). Each
boots the image by hand on QEMU raspi4b, the way a wrong `config.txt` would."""


import pytest

from boards import QemuBoard
from conftest import build_image, load_target

MINI_UART_ON_STDIO = ["-serial", "null", "-serial", "stdio", "-monitor", "none", "-no-reboot", "-nic", "none"]


@pytest.fixture
def qemu():
    boards: list[QemuBoard] = []

    def start(*argv: str):
        board = QemuBoard(["qemu-system-aarch64", "-M", "raspi4b", "-display", "none", *MINI_UART_ON_STDIO, *argv])
        boards.append(board)
        return board.start(None)

    yield start
    for board in boards:
        board.stop()


def test_without_a_device_tree_bulkhead_says_so_before_its_mmu_is_on(qemu):
    image = build_image("partition-off", load_target("qemu-raspi4b")["board"])
    # No -dtb: QEMU passes ATAGS at 0x100 in x0, as firmware told to load no device tree would.
    console = qemu("-kernel", str(image))
    console.expect(r"^HIL:EARLY Bulkhead at 0x0000000000200000 dtb 0x0000000000000100 mmu=off$", 30)
    console.expect(r"^HIL:PANIC no device tree at x0: ", 10)
    console.expect(r"^HIL:HALT the hypervisor cannot boot$", 10)
    assert "HIL:BOOT" not in console.text


def test_loaded_away_from_its_link_address_bulkhead_stops_with_a_clear_message(qemu):
    image = build_image("partition-off", load_target("qemu-raspi4b")["board"])
    # Loaded 2 MiB too high (as firmware ignoring kernel_address would) and entered there.
    console = qemu(
        "-device", f"loader,file={image},addr=0x400000,force-raw=on",
        "-device", "loader,addr=0x400000,cpu-num=0",
    )
    console.expect(
        r"^HIL:PANIC Bulkhead is linked at 0x0000000000200000 but was loaded at 0x0000000000400000: ",
        30,
    )
    console.expect(r"^HIL:HALT the hypervisor cannot run here$", 10)
    assert "HIL:BOOT" not in console.text
