//! `attack=GICD,GICR`: a partition that tries to take over interrupts it does not own, to show
//! that it changes nothing for the other partitions (scenario `irq-isolation`).
//!
//! Every round it disables, pends, reroutes and reprioritises every SPI, disables the
//! distributor, puts every other CPU's redistributor to sleep and disables their SGIs and PPIs,
//! and sends every SGI (including the one the hypervisor uses internally) to every CPU it can
//! name. Then it reads back what it owns and reports.

use core::fmt::Write;

use guest_shim::boot_info::{parse_u64, BootInfo};
use guest_shim::console::Pl011;

/// GICD offsets (Arm IHI 0069).
const GICD_CTLR: usize = 0x0000;
const GICD_ISENABLER: usize = 0x0100;
const GICD_ICENABLER: usize = 0x0180;
const GICD_ISPENDR: usize = 0x0200;
const GICD_IPRIORITYR: usize = 0x0400;
const GICD_ICFGR: usize = 0x0c00;
const GICD_IROUTER: usize = 0x6000;
/// Redistributor frames: RD_base then SGI_base, 128 KiB per CPU.
const GICR_STRIDE: usize = 0x2_0000;
const GICR_WAKER: usize = 0x0014;
const GICR_ICENABLER0: usize = 0x1_0180;
/// SPIs the attack touches (INTIDs 32..288: all of QEMU virt's).
const SPI_WORDS: usize = 8;
/// Redistributor frames the attack walks (QEMU virt with 4 CPUs).
const FRAMES: usize = 4;

fn write32(addr: usize, value: u32) {
    // SAFETY: an address of this partition's own GIC (from its boot arguments); a plain store
    // the hypervisor can emulate (or, bare, the hardware takes).
    unsafe { guest_shim::mmio::write32(addr, value) }
}

fn read32(addr: usize) -> u32 {
    // SAFETY: as for `write32`, a plain load without side effects.
    unsafe { guest_shim::mmio::read32(addr) }
}

fn send_sgi(value: u64) {
    // SAFETY: ICC_SGI1R_EL1 only asks for SGIs; the hypervisor traps and filters it.
    unsafe { core::arch::asm!("msr S3_0_C12_C11_5, {}", "isb", in(reg) value, options(nostack)) };
}

fn round(gicd: usize, gicr: usize) {
    write32(gicd + GICD_CTLR, 0);
    for word in 1..SPI_WORDS {
        write32(gicd + GICD_ICENABLER + word * 4, u32::MAX);
        write32(gicd + GICD_ISPENDR + word * 4, u32::MAX);
        write32(gicd + GICD_ICFGR + word * 8, u32::MAX);
        write32(gicd + GICD_ICFGR + word * 8 + 4, u32::MAX);
    }
    for intid in (32..32 * SPI_WORDS).step_by(4) {
        write32(gicd + GICD_IPRIORITYR + intid, 0);
    }
    for intid in 32..32 * SPI_WORDS {
        write32(gicd + GICD_IROUTER + intid * 8, 0x8000_0000);
    }
    for frame in 1..FRAMES {
        write32(gicr + frame * GICR_STRIDE + GICR_WAKER, 0b10);
        write32(gicr + frame * GICR_STRIDE + GICR_ICENABLER0, u32::MAX);
    }
    for sgi in 0..16u64 {
        // "All but self" (IRM), then an explicit target list of Aff0 0..15, then Aff1 = 1.
        send_sgi((sgi << 24) | (1 << 40));
        send_sgi((sgi << 24) | 0xffff);
        send_sgi((sgi << 24) | (1 << 16) | 0xffff);
    }
}

/// Runs the attack `rounds=` times (default 50), reports, and returns.
pub fn run(out: &mut Pl011, info: &BootInfo<'_>, addresses: &str) {
    let Some((gicd, gicr)) = addresses.split_once(',') else {
        return;
    };
    let (Some(gicd), Some(gicr)) = (parse_u64(gicd), parse_u64(gicr)) else {
        return;
    };
    let (gicd, gicr) = (gicd as usize, gicr as usize);
    let rounds = info.arg("rounds").and_then(parse_u64).unwrap_or(50);
    for n in 0..rounds {
        round(gicd, gicr);
        if n % 100 == 0 {
            let _ = writeln!(out, "HIL:ATTACK round {n}");
        }
    }
    let enabled: u32 = (1..SPI_WORDS)
        .map(|w| read32(gicd + GICD_ISENABLER + w * 4).count_ones())
        .sum();
    let _ = writeln!(
        out,
        "HIL:ATTACK done rounds={rounds} spis-enabled-in-own-view={enabled}"
    );
}
