//! QEMU `virt` with `virtualization=on`, as `cargo xtask run` launches it
//! (`-cpu cortex-a72 -smp 4 -m 2G`; `--smp N` gives it N CPUs).

use crate::{ConsoleFacts, ConsoleKind, CpuRelease, PlatformFacts, ReservedFact};
use bulkhead_config::board::HostDevice;
use bulkhead_config::range::Range;

const MIB: u64 = 1024 * 1024;
const GIB: u64 = 1024 * MIB;

/// QEMU `virt` facts.
pub const FACTS: PlatformFacts = PlatformFacts {
    name: "qemu-virt",
    // QEMU loads an arm64 Image at RAM base + text_offset (0x20_0000).
    load_address: 0x4020_0000,
    hypervisor_reserve: Range {
        start: 0x4000_0000,
        size: 64 * MIB,
    },
    cpu_release: CpuRelease::Psci,
    cpus: &[0x0, 0x1, 0x2, 0x3],
    // QEMU numbers CPU i as Aff0 = i within clusters of 8 (GICv2) or 16 (GICv3); 8 is also
    // the most a configuration names (`MAX_CPUS`) and GICv2's limit.
    max_smp: Some(8),
    ram: &[Range {
        start: 0x4000_0000,
        size: 2 * GIB,
    }],
    // QEMU writes its generated device tree at RAM base + min(RAM / 2, 128 MiB).
    reserved: &[ReservedFact {
        range: Range {
            start: 0x4800_0000,
            size: 2 * MIB,
        },
        why: "device tree written by QEMU",
    }],
    // QEMU virt's GIC has 256 SPIs (hw/arm/virt.h NUM_IRQS): INTIDs 32..=287.
    // `-M virt,iommu=smmuv3` (hw/arm/virt.c VIRT_SMMU): an SMMUv3 in front of the PCIe root
    // complex, stream ID = requester ID; stage 2 with `-global arm-smmuv3.stage=2`.
    smmu: Some(Range {
        start: 0x0905_0000,
        size: 0x2_0000,
    }),
    max_intid: Some(287),
    host_devices: &[
        HostDevice {
            range: Range {
                start: 0x0900_0000,
                size: 0x1000,
            },
            what: "console UART",
        },
        // Distributor, (v2) CPU interface, hypervisor interface, vCPU interface, (v3)
        // redistributors.
        HostDevice {
            range: Range {
                start: 0x0800_0000,
                size: 0x0100_0000,
            },
            what: "GIC",
        },
    ],
    // QEMU virt's PL011, clocked by its 24 MHz `apb-pclk`; no pins to switch.
    consoles: &[ConsoleFacts {
        kind: ConsoleKind::Pl011,
        base: 0x0900_0000,
        clock_hz: 24_000_000,
        gpio: None,
    }],
};
