//! Raspberry Pi 4 Model B (BCM2711), entered at EL2 by the stock firmware's armstub.

use crate::{CpuRelease, PlatformFacts, ReservedFact};
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
};
