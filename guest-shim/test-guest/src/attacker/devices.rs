//! Attacks through memory accesses: sign-extending loads, unaligned, exclusive and pair
//! accesses to emulated devices, wild reads and writes across the address space, and a sweep of
//! the whole distributor with SGIs to every CPU.

use super::vectors::{probe, Taken};
use super::{Report, Rng, Target};

/// GICD_IPRIORITYR (GICv2: SGIs and PPIs banked here) / GICR SGI frame's IPRIORITYR0.
const IPRIORITYR: usize = 0x400;
/// The SGI_base frame of a GICv3 redistributor.
const SGI_BASE: usize = 0x1_0000;
/// Synchronous external abort (DFSC), what the hypervisor injects.
const EXTERNAL_ABORT: u64 = 0x10;

/// The register a priority attack uses: SGI 0..3's priorities, our own.
fn priorities(target: &Target) -> usize {
    if target.gicr != 0 {
        target.gicr + SGI_BASE + IPRIORITYR
    } else {
        target.gicd + IPRIORITYR
    }
}

/// `ldrsb`, `ldrsh`, `ldrsw` (and `ldrsb` into a W register) from an emulated device return
/// the value sign-extended.
pub(super) fn sign_extension(report: &mut Report<'_>, target: &Target) {
    let addr = priorities(target);
    // SAFETY: our own SGI priorities: a plain store the hypervisor emulates.
    unsafe { guest_shim::mmio::write32(addr, 0xf0f0_f0f0) };
    let (byte, word, byte_w): (u64, u64, u64);
    // SAFETY: loads from our own emulated GIC.
    unsafe {
        core::arch::asm!(
            "ldrsb {b}, [{a}]",
            "ldrsw {w}, [{a}]",
            "ldrsb {bw:w}, [{a}]",
            a = in(reg) addr,
            b = out(reg) byte,
            w = out(reg) word,
            bw = out(reg) byte_w,
            options(nostack),
        )
    };
    // A halfword access to IPRIORITYR is not one the GIC architecture defines: sign-extended
    // or refused (an injected abort), never zero-extended.
    let (half, refused) = probe(|| {
        let half: u64;
        // SAFETY: as above.
        unsafe {
            core::arch::asm!("ldrsh {h}, [{a}]", a = in(reg) addr, h = out(reg) half, options(nostack))
        };
        half
    });
    // SAFETY: as for the first store: priorities back to 0.
    unsafe { guest_shim::mmio::write32(addr, 0) };
    let half_ok = refused.is_some() || half == 0xffff_ffff_ffff_f0f0;
    report.attack(
        "sign-extension",
        byte == 0xffff_ffff_ffff_fff0
            && word == 0xffff_ffff_f0f0_f0f0
            && byte_w == 0xffff_fff0
            && half_ok,
        format_args!(
            "ldrsb={byte:#x} ldrsw={word:#x} ldrsb-w={byte_w:#x} ldrsh={half:#x} ldrsh-refused={}",
            refused.is_some()
        ),
    );
}

/// An unaligned word load from the distributor: with the MMU off it is Device memory, so the
/// alignment fault is the guest's own (taken at EL1, never reaching EL2).
pub(super) fn unaligned(report: &mut Report<'_>, target: &Target) {
    let addr = target.gicd + 1;
    let (_, taken) = probe(|| {
        // SAFETY: deliberately unaligned: our vectors take the fault and step over it.
        unsafe {
            core::arch::asm!("ldr {v:w}, [{a}]", a = in(reg) addr, v = out(reg) _, options(nostack))
        };
    });
    let (_, store) = probe(|| {
        // SAFETY: as above, a store.
        unsafe {
            core::arch::asm!("str {v:w}, [{a}]", a = in(reg) target.uart + 2, v = in(reg) 0u64, options(nostack))
        };
    });
    report.attack(
        "unaligned-device",
        taken.is_some() && store.is_some(),
        format_args!(
            "load={:?} store={:?}",
            taken.map(|t| t.esr),
            store.map(|t| t.esr)
        ),
    );
}

/// An injected external abort of the hypervisor's (or an alignment fault of our own).
fn refused(taken: Option<Taken>) -> bool {
    taken.is_some_and(|t| matches!(t.class(), 0x24 | 0x25))
}

/// Exclusive (`ldxr`/`stxr`), pair (`ldp`/`stp`) and acquire-release accesses to the emulated
/// distributor and console: their syndromes do not describe the access, so the hypervisor
/// cannot emulate them and refuses each (reported, injected) instead of guessing.
pub(super) fn exclusive_and_pair(report: &mut Report<'_>, target: &Target) {
    let gicd = target.gicd;
    let uart = target.uart;
    let (_, ldxr) = probe(|| {
        // SAFETY: the hypervisor refuses it; our vectors step over it.
        unsafe {
            core::arch::asm!("ldxr {v:w}, [{a}]", a = in(reg) gicd, v = out(reg) _, options(nostack))
        };
    });
    // Without an exclusive monitor (the `ldxr` was refused), a `stxr` may fail at once (status
    // 1) without accessing anything: that is refused too.
    let (status, stxr) = probe(|| {
        let mut status: u64 = 1;
        // SAFETY: as above.
        unsafe {
            core::arch::asm!("stxr {s:w}, {v:w}, [{a}]", a = in(reg) gicd, v = in(reg) 0u64,
                s = inout(reg) status, options(nostack))
        };
        status
    });
    let (_, ldp) = probe(|| {
        // SAFETY: as above.
        unsafe {
            core::arch::asm!("ldp {x}, {y}, [{a}]", a = in(reg) gicd, x = out(reg) _, y = out(reg) _,
                options(nostack))
        };
    });
    let (_, stp) = probe(|| {
        // SAFETY: as above, to the console.
        unsafe {
            core::arch::asm!("stp {x:w}, {x:w}, [{a}]", a = in(reg) uart, x = in(reg) 0x41u64,
                options(nostack))
        };
    });
    let all = [ldxr, stxr, ldp, stp];
    let external = all
        .iter()
        .filter(|t| t.is_some_and(|t| t.status() == EXTERNAL_ABORT))
        .count();
    let stxr_refused = refused(stxr) || status != 0;
    report.attack(
        "exclusive-and-pair",
        refused(ldxr) && stxr_refused && refused(ldp) && refused(stp),
        format_args!(
            "ldxr={:?} stxr={:?} stxr-status={status} ldp={:?} stp={:?} injected-external-aborts={external}",
            ldxr.map(|t| t.esr),
            stxr.map(|t| t.esr),
            ldp.map(|t| t.esr),
            stp.map(|t| t.esr)
        ),
    );
}

/// Reads and writes at `samples` addresses drawn across the 40-bit IPA space (and a few chosen
/// ones: just past our RAM, just below it, 0, the top of the space), never our own: each must
/// be refused, none may read data or land.
pub(super) fn wild_accesses(report: &mut Report<'_>, target: &Target, rng: &mut Rng, samples: u64) {
    let (base, size) = target.ram;
    let chosen = [
        0,
        base - 8,
        base + size,
        base + size + 0x1000_0000,
        (1 << 40) - 8,
    ];
    let (mut tried, mut refused_reads, mut refused_writes, mut leaked) = (0u64, 0u64, 0u64, 0u64);
    let mut first_leak = None;
    let sampled = (0..samples).map(|_| rng.next() & ((1 << 40) - 1) & !7);
    for addr in chosen.into_iter().chain(sampled) {
        if target.owns(addr) {
            continue;
        }
        tried += 1;
        let (value, read) = probe(|| {
            // SAFETY: deliberately outside our memory: the hypervisor refuses it.
            unsafe { core::ptr::read_volatile(addr as *const u64) }
        });
        if refused(read) {
            refused_reads += 1;
        } else {
            leaked += 1;
            first_leak.get_or_insert((addr, value));
        }
        let (_, write) = probe(|| {
            // SAFETY: as above.
            unsafe { core::ptr::write_volatile(addr as *mut u64, 0xbad0_bad0_bad0_bad0) }
        });
        if refused(write) {
            refused_writes += 1;
        } else {
            leaked += 1;
            first_leak.get_or_insert((addr, 0));
        }
    }
    report.attack(
        "wild-accesses",
        leaked == 0 && refused_reads == tried && refused_writes == tried,
        format_args!(
            "addresses={tried} refused-reads={refused_reads} refused-writes={refused_writes} went-through={leaked} first={first_leak:x?}"
        ),
    );
}

/// Every word of the distributor written with all ones (its own virtual state only), then SGIs
/// to every CPU the attacker can name. What it changes is its own view; the bystander checks
/// its own.
pub(super) fn gic_sweep(report: &mut Report<'_>, target: &Target) {
    let mut refused_words = 0u32;
    for offset in (0..0x1_0000usize).step_by(4) {
        let (_, taken) = probe(|| {
            // SAFETY: our own emulated distributor; the hypervisor ignores or refuses.
            unsafe { guest_shim::mmio::write32(target.gicd + offset, u32::MAX) }
        });
        refused_words += u32::from(taken.is_some());
    }
    let mut sgis = 0u32;
    for sgi in 0..16u64 {
        if target.gicr != 0 {
            for value in [
                (sgi << 24) | (1 << 40),
                (sgi << 24) | 0xffff,
                (sgi << 24) | (1 << 16) | 0xffff,
            ] {
                // SAFETY: ICC_SGI1R_EL1 only asks for SGIs; the hypervisor filters it.
                unsafe {
                    core::arch::asm!("msr S3_0_C12_C11_5, {}", "isb", in(reg) value, options(nostack))
                };
                sgis += 1;
            }
        } else {
            // GICD_SGIR: to every CPU but self, then a target list of all eight.
            for value in [(1u32 << 24) | sgi as u32, (0xff << 16) | sgi as u32] {
                // SAFETY: as above, the GICv2 way.
                unsafe { guest_shim::mmio::write32(target.gicd + 0xf00, value) };
                sgis += 1;
            }
        }
    }
    // SAFETY: our distributor off again.
    unsafe { guest_shim::mmio::write32(target.gicd, 0) };
    report.attack(
        "gic-sweep",
        true,
        format_args!(
            "words=16384 refused={refused_words} sgis={sgis} (the bystander checks its own state)"
        ),
    );
}
