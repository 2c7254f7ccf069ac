"""Scenarios `rpi4-console`: on QEMU raspi4b the hypervisor owns its console UART from its first
instructions: it switches GPIO14/15 to the UART and programs the UART itself (8N1, 115200 baud
from the UART's clock), rather than trusting the firmware to have done it (docs/rpi4.md). The
registers are read back over QMP: what the hypervisor wrote, not what QEMU started with."""

import re

from boards import qemu_monitor

# BCM2711 ARM Peripherals 5.2: GPFSEL1 (GPIO10-19, 3 bits each); GPIO14 at bit 12, GPIO15 at 15.
GPFSEL1 = 0xFE200004
ALT0, ALT5 = 0b100, 0b010
# The PL011 (UART0): UARTIBRD, UARTFBRD, UARTLCR_H, UARTCR (Arm DDI 0183G 3.2).
PL011 = 0xFE201000
IBRD, FBRD, LCRH, CR = 0x24, 0x28, 0x2C, 0x30


def read_word(session, address: int) -> int:
    """One 32-bit word of the machine's physical address space, read through QEMU's monitor."""
    reply = qemu_monitor(session.board.qmp_socket, f"xp /1wx {address:#x}", timeout=10)
    match = re.search(r":\s*0x([0-9a-f]+)", reply)
    assert match, reply
    return int(match[1], 16)


def uart_pins(session) -> tuple[int, int]:
    fsel = read_word(session, GPFSEL1)
    return (fsel >> 12) & 0b111, (fsel >> 15) & 0b111


def test_the_hypervisor_programs_the_pl011_console_itself_when_configured(boot):
    s = boot("console-pl011", on="qemu-raspi4b-pl011")
    # The raw sign of life comes before the MMU is on, then the banner through the locked console.
    s.expect(r"^HIL:EARLY Bulkhead at 0x0000000000200000 dtb 0x[0-9a-f]{16} mmu=off$", timeout=60)
    s.expect(r"HIL:BOOT Bulkhead \S+ el=2 board=rpi4 cpus=4 ", timeout=30)
    s.expect(r"HIL:PART solo STOPPED reason=system-off", timeout=60)
    s.expect(r"HIL:HALT all partitions stopped; every CPU parked", timeout=10)
    # 48 MHz UARTCLK / (16 * 115200) = 26 + 3/64; 8 bits, FIFOs on; UART, TX and RX enabled.
    assert read_word(s, PL011 + IBRD) == 26
    assert read_word(s, PL011 + FBRD) == 3
    assert read_word(s, PL011 + LCRH) == 0x70
    assert read_word(s, PL011 + CR) == 0x301
    assert uart_pins(s) == (ALT0, ALT0), f"GPFSEL1 = {read_word(s, GPFSEL1):#010x}"
    assert "HIL:PANIC" not in s.console.text


def test_the_hypervisor_gives_gpio14_15_to_its_mini_uart_console_by_default(boot):
    # The default console: the mini UART the firmware's stdout-path names. QEMU keeps neither
    # its baud nor its line control, so the pins are what can be read back; the console itself
    # shows the UART works.
    s = boot("partition-off", on="qemu-raspi4b")
    s.expect(r"^HIL:EARLY Bulkhead at 0x0000000000200000 dtb 0x[0-9a-f]{16} mmu=off$", timeout=60)
    s.expect(r"HIL:BOOT Bulkhead \S+ el=2 board=rpi4 ", timeout=30)
    s.expect(r"HIL:HALT all partitions stopped; every CPU parked", timeout=60)
    assert uart_pins(s) == (ALT5, ALT5), f"GPFSEL1 = {read_word(s, GPFSEL1):#010x}"
    # The PL011 is not the console: the hypervisor left it alone.
    assert read_word(s, PL011 + IBRD) != 26 or read_word(s, PL011 + CR) != 0x301
