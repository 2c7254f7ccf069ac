//! `guard=N`: the bystander of scenario `attacker_suite`. It sets up its own virtual GIC state
//! (distributor on, SGIs 0..15 and the timer's PPI enabled, distinct priorities), takes a
//! snapshot of that state and of what the hypervisor answers it (SMCCC and PSCI versions,
//! PSCI_FEATURES, its partition info, what its ID registers say of the PMU and debug), then
//! every `period-ms=` for N rounds reads it all again and prints
//! `HIL:GUARD round <n> ok` or `HIL:GUARD round <n> FAIL <what>`, then
//! `HIL:GUARD done rounds=N changed=C`. `gic=GICD,GICR` (GICR 0 on a GICv2).

use core::fmt::Write;

use guest_shim::boot_info::{parse_u64, BootInfo};
use guest_shim::console::Pl011;
use guest_shim::{psci, smccc};

const GICD_CTLR: usize = 0x0000;
const ISENABLER: usize = 0x0100;
const IPRIORITYR: usize = 0x0400;
const SGI_BASE: usize = 0x1_0000;
/// Words of the state compared each round.
const STATE: usize = 12;

fn read32(addr: usize) -> u32 {
    // SAFETY: our own emulated GIC; a load without side effects.
    unsafe { guest_shim::mmio::read32(addr) }
}

fn write32(addr: usize, value: u32) {
    // SAFETY: our own emulated GIC.
    unsafe { guest_shim::mmio::write32(addr, value) }
}

/// Where SGI/PPI enables and priorities live: the redistributor's SGI frame (GICv3), else the
/// distributor's banked registers (GICv2).
fn private_base(gicd: usize, gicr: usize) -> usize {
    if gicr != 0 {
        gicr + SGI_BASE
    } else {
        gicd
    }
}

fn snapshot(gicd: usize, gicr: usize) -> [u64; STATE] {
    let private = private_base(gicd, gicr);
    let dfr0: u64;
    // SAFETY: an ID register read (the hypervisor answers it).
    unsafe { core::arch::asm!("mrs {}, id_aa64dfr0_el1", out(reg) dfr0, options(nomem, nostack)) };
    let pmcr: u64;
    // SAFETY: PMCR_EL0: trapped, and with a denied PMU reads as zero.
    unsafe { core::arch::asm!("mrs {}, S3_3_C9_C12_0", out(reg) pmcr, options(nomem, nostack)) };
    [
        u64::from(read32(gicd + GICD_CTLR) & 0x13),
        u64::from(read32(private + ISENABLER)),
        u64::from(read32(private + IPRIORITYR)),
        u64::from(read32(private + IPRIORITYR + 4)),
        u64::from(read32(private + IPRIORITYR + 24)),
        smccc::call(smccc::SMCCC_VERSION, [0; 6])[0],
        smccc::call(psci::PSCI_VERSION, [0; 6])[0],
        smccc::call(
            psci::PSCI_FEATURES,
            [u64::from(psci::CPU_SUSPEND), 0, 0, 0, 0, 0],
        )[0],
        smccc::call(guest_shim::bulkhead::PARTITION_INFO, [0; 6])[0],
        smccc::call(guest_shim::bulkhead::PARTITION_INFO, [0; 6])[1],
        dfr0,
        pmcr,
    ]
}

const NAMES: [&str; STATE] = [
    "gicd-ctlr",
    "enables",
    "priority-0",
    "priority-4",
    "priority-24",
    "smccc-version",
    "psci-version",
    "psci-features",
    "partition-info",
    "partition-info-x1",
    "id-aa64dfr0",
    "pmcr",
];

/// Sets up, then checks `rounds` times.
pub fn run(out: &mut Pl011, info: &BootInfo<'_>, rounds: u64) {
    let (gicd, gicr) = crate::sleep::gic_from_args(info);
    let period_ms = info.arg("period-ms").and_then(parse_u64).unwrap_or(200);
    let private = private_base(gicd, gicr);
    // The distributor on, the redistributor awake, the timer's PPI enabled (to sleep on it).
    crate::sleep::init(gicd, gicr);
    write32(private + ISENABLER, 0x0000_ffff);
    for (word, value) in [(0, 0x1020_3040u32), (4, 0x5060_7080), (24, 0x00a0_0000)] {
        write32(private + IPRIORITYR + word, value);
    }
    let expected = snapshot(gicd, gicr);
    let pmu = (expected[10] >> 8) & 0xf;
    let _ = writeln!(
        out,
        "HIL:GUARD start rounds={rounds} enables={:#x} priorities={:#x},{:#x} pmuver={pmu} pmcr={:#x}",
        expected[1], expected[2], expected[3], expected[11]
    );
    let mut changed = 0u64;
    for round in 0..rounds {
        crate::sleep::sleep_us(period_ms * 1000);
        let now = snapshot(gicd, gicr);
        match (0..STATE).find(|&i| now[i] != expected[i]) {
            None => {
                let _ = writeln!(out, "HIL:GUARD round {round} ok");
            }
            Some(i) => {
                changed += 1;
                let _ = writeln!(
                    out,
                    "HIL:GUARD round {round} FAIL {} was {:#x} now {:#x}",
                    NAMES[i], expected[i], now[i]
                );
            }
        }
    }
    let _ = writeln!(out, "HIL:GUARD done rounds={rounds} changed={changed}");
}
