//! Raspberry Pi 4 Model B (BCM2711), entered at EL2 by the stock firmware's armstub.

use crate::{ConsoleFacts, ConsoleKind, CpuRelease, PlatformFacts, ReservedFact};
use bulkhead_config::board::HostDevice;
use bulkhead_config::range::Range;

const MIB: u64 = 1024 * 1024;

/// Raspberry Pi 4 facts (QEMU `raspi4b` describes 960 MiB of RAM; real boards more).
pub const FACTS: PlatformFacts = PlatformFacts {
    name: "rpi4",
    // `kernel_address=0x200000` in config.txt.
    load_address: 0x0020_0000,
    hypervisor_reserve: Range {
        start: 0x0000_0000,
        size: 64 * MIB,
    },
    cpu_release: CpuRelease::SpinTable,
    cpus: &[0x0, 0x1, 0x2, 0x3],
    max_smp: None,
    ram: &[Range {
        start: 0,
        size: 960 * MIB,
    }],
    reserved: &[ReservedFact {
        // The firmware's spin table (0xd8..0xf8) and the QEMU stub at 0x300.
        range: Range {
            start: 0,
            size: 0x1000,
        },
        why: "spin table page",
    }],
    // Not fixed here: the hypervisor checks what the GIC-400 has at boot.
    // The BCM2711 has no IOMMU: its DMA masters reach physical memory directly.
    smmu: None,
    max_intid: None,
    host_devices: &[
        // Whichever of the two `stdout-path` names is the console.
        HostDevice {
            range: Range {
                start: 0xfe20_1000,
                size: 0x1000,
            },
            what: "UART (PL011)",
        },
        HostDevice {
            range: Range {
                start: 0xfe21_5000,
                size: 0x1000,
            },
            what: "UART (mini UART)",
        },
        HostDevice {
            range: Range {
                start: 0xff84_0000,
                size: 0x8000,
            },
            what: "GIC (GIC-400)",
        },
        // The RNG200 behind the TRNG service (`brcm,bcm2711-rng200` at bus 0x7e104000).
        HostDevice {
            range: Range {
                start: 0xfe10_4000,
                size: 0x1000,
            },
            what: "hardware RNG, the RNG200",
        },
    ],
    consoles: &[
        // The default: the mini UART the firmware's own `stdout-path` (serial1) names, on
        // GPIO14/15 (ALT5). Its baud divides the VPU core clock, which config.txt pins at
        // 500 MHz (`core_freq=500`, `core_freq_min=500`: docs/rpi4.md).
        ConsoleFacts {
            kind: ConsoleKind::MiniUart,
            base: 0xfe21_5040,
            clock_hz: 500_000_000,
            gpio: Some(GPIO),
        },
        // By configuration (`console = "pl011"`): the PL011 (UART0) on GPIO14/15 (ALT0), whose
        // UARTCLK the firmware sets to 48 MHz (`init_uart_clock`'s default).
        ConsoleFacts {
            kind: ConsoleKind::Pl011,
            base: 0xfe20_1000,
            clock_hz: 48_000_000,
            gpio: Some(GPIO),
        },
    ],
};

/// The GPIO block (BCM2711 ARM Peripherals, 5.2), whose GPIO14/15 carry the console.
const GPIO: u64 = 0xfe20_0000;
