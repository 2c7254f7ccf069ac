//! Attacks through system registers and system instructions: set/way cache maintenance, the
//! PMU counting at EL2, the debug registers, the OS lock, the DCC, EL2's own registers, and what
//! the ID registers say.

use super::vectors::probe;
use super::Report;

/// `mrs` of a register by name or encoding.
macro_rules! mrs {
    ($reg:literal) => {{
        let value: u64;
        // SAFETY: a register read; if it traps, the hypervisor or our vectors answer it.
        unsafe { core::arch::asm!(concat!("mrs {}, ", $reg), out(reg) value, options(nostack)) };
        value
    }};
}

/// `mrs` of a register into a register that holds 0 first: a register the CPU does not
/// implement is UNDEFINED, our vectors step over the `mrs`, and it reads as 0 (refused).
macro_rules! mrs_or_zero {
    ($reg:literal) => {{
        let mut value: u64 = 0;
        // SAFETY: as for `mrs!`.
        unsafe {
            core::arch::asm!(concat!("mrs {v}, ", $reg), v = inout(reg) value, options(nostack))
        };
        value
    }};
}

/// `msr` of a register by name or encoding.
macro_rules! msr {
    ($reg:literal, $value:expr) => {{
        let value: u64 = $value;
        // SAFETY: a register write of our own EL1/EL0 state, trapped or not.
        unsafe {
            core::arch::asm!(concat!("msr ", $reg, ", {}"), "isb", in(reg) value, options(nostack))
        };
    }};
}

fn field(value: u64, shift: u32) -> u64 {
    (value >> shift) & 0xf
}

/// ID_AA64DFR0_EL1 says what the partition has: a PMU only if `expect_pmu`, one breakpoint,
/// one watchpoint, no trace, no profiling.
pub(super) fn id_registers(report: &mut Report<'_>, expect_pmu: bool) {
    let dfr0 = mrs!("id_aa64dfr0_el1");
    let (debug, pmu, brps, wrps, spe) = (
        field(dfr0, 0),
        field(dfr0, 8),
        field(dfr0, 12),
        field(dfr0, 20),
        field(dfr0, 32),
    );
    let pfr0 = mrs!("id_aa64pfr0_el1");
    let held = (pmu != 0) == expect_pmu && brps == 0 && wrps == 0 && spe == 0 && debug >= 6;
    report.attack(
        "id-registers",
        held,
        format_args!(
            "dfr0={dfr0:#x} debugver={debug} pmuver={pmu} brps={brps} wrps={wrps} pmsver={spe} amu={}",
            field(pfr0, 44)
        ),
    );
}

/// One whole-cache set/way loop over every data or unified level up to the point of
/// coherency, with the operation `op` (0 = DC ISW, 1 = DC CISW, 2 = DC CSW). Returns
/// (levels, operations).
fn set_way_loop(op: u32) -> (u64, u64) {
    let clidr = mrs!("clidr_el1");
    let loc = (clidr >> 24) & 7;
    let (mut levels, mut ops) = (0, 0);
    for level in 0..loc {
        let ctype = (clidr >> (level * 3)) & 7;
        if ctype < 2 {
            continue; // no cache or instruction only
        }
        msr!("csselr_el1", level << 1);
        let ccsidr = mrs!("ccsidr_el1");
        let line_shift = (ccsidr & 7) + 4;
        let ways = ((ccsidr >> 3) & 0x3ff) + 1;
        let sets = ((ccsidr >> 13) & 0x7fff) + 1;
        let way_shift = (ways - 1).leading_zeros().min(31) as u64;
        levels += 1;
        for way in 0..ways {
            for set in 0..sets {
                let operand = (way << way_shift) | (set << line_shift) | (level << 1);
                // SAFETY: set/way maintenance of our own caches; the hypervisor traps it.
                unsafe {
                    match op {
                        0 => core::arch::asm!("dc isw, {}", in(reg) operand, options(nostack)),
                        1 => core::arch::asm!("dc cisw, {}", in(reg) operand, options(nostack)),
                        _ => core::arch::asm!("dc csw, {}", in(reg) operand, options(nostack)),
                    }
                }
                ops += 1;
            }
        }
    }
    // SAFETY: a barrier.
    unsafe { core::arch::asm!("dsb sy", options(nostack)) };
    (levels, ops)
}

/// A buffer of our own that set/way invalidation must not lose.
static mut PATTERN: [u64; 2048] = [0; 2048];

/// DC ISW/CISW/CSW over every level: trapped, and our own data survives (an invalidate by
/// set/way is carried out as a clean and invalidate of our own memory).
pub(super) fn set_way(report: &mut Report<'_>) {
    let buffer = core::ptr::addr_of_mut!(PATTERN) as *mut u64;
    for i in 0..2048 {
        // SAFETY: our own static, written through a raw pointer only here and below.
        unsafe {
            buffer
                .add(i)
                .write_volatile(0x5a5a_0000_0000_0000 | i as u64)
        };
    }
    let (levels, invalidates) = set_way_loop(0);
    let (_, clean_invalidates) = set_way_loop(1);
    let (_, cleans) = set_way_loop(2);
    // SAFETY: as above.
    let intact = (0..2048)
        .all(|i| unsafe { buffer.add(i).read_volatile() } == 0x5a5a_0000_0000_0000 | i as u64);
    report.attack(
        "set-way",
        intact,
        format_args!(
            "levels={levels} dc-isw={invalidates} dc-cisw={clean_invalidates} dc-csw={cleans} own-data-intact={intact}"
        ),
    );
}

/// PMCCFILTR_EL0/PMEVTYPER<n>_EL0.NSH (bit 27) asks to count at EL2; P (31) and U (30) stop
/// counting at EL1 and EL0, so only EL2 would be counted.
const ONLY_EL2: u64 = (1 << 27) | (1 << 31) | (1 << 30);

/// Counts cycles (the cycle counter, and event 0x11 CPU_CYCLES on counter 0) at EL2 only
/// while making 1000 hypercalls: nothing may be counted. Then counts at EL1, to show the PMU
/// works at all (when the partition has one).
pub(super) fn pmu_el2_cycles(report: &mut Report<'_>) {
    let pmuver = field(mrs!("id_aa64dfr0_el1"), 8);
    msr!("S3_3_C9_C12_0", 0b111); // PMCR_EL0: E, reset counters
    msr!("S3_3_C14_C15_7", ONLY_EL2); // PMCCFILTR_EL0
    msr!("S3_3_C9_C12_5", 0); // PMSELR_EL0 = 0
    msr!("S3_3_C14_C12_0", ONLY_EL2 | 0x11); // PMEVTYPER0_EL0: CPU_CYCLES
    msr!("S3_3_C9_C12_1", (1 << 31) | 1); // PMCNTENSET_EL0: cycle counter, counter 0
    for _ in 0..1000 {
        guest_shim::smccc::call(guest_shim::smccc::SMCCC_VERSION, [0; 6]);
    }
    let el2_cycles = mrs!("S3_3_C9_C13_0"); // PMCCNTR_EL0
    let el2_events = mrs!("S3_3_C14_C8_0"); // PMEVCNTR0_EL0
                                            // The same at EL1.
    msr!("S3_3_C9_C12_0", 0b111);
    msr!("S3_3_C14_C15_7", 0);
    for _ in 0..10_000 {
        core::hint::spin_loop();
    }
    let el1_cycles = mrs!("S3_3_C9_C13_0");
    msr!("S3_3_C9_C12_2", u64::from(u32::MAX)); // PMCNTENCLR_EL0
    msr!("S3_3_C9_C12_0", 0);
    let counts_at_el1 = pmuver == 0 || el1_cycles > 0;
    report.attack(
        "pmu-el2-cycles",
        el2_cycles == 0 && el2_events == 0 && counts_at_el1,
        format_args!(
            "pmuver={pmuver} el2-cycles={el2_cycles} el2-cpu-cycles-event={el2_events} el1-cycles={el1_cycles} hypercalls=1000"
        ),
    );
}

/// Breakpoint, watchpoint, claim-tag, OS lock, OS double lock and power-down registers: read
/// as zero and ignore writes; MDSCR_EL1 keeps only the software-step bits.
pub(super) fn debug_registers(report: &mut Report<'_>) {
    let here = debug_registers as *const () as u64;
    msr!("S2_0_C0_C0_4", here); // DBGBVR0_EL1
    msr!("S2_0_C0_C0_5", 0x1e7); // DBGBCR0_EL1: enabled, EL1 and EL0
    msr!("S2_0_C0_C0_6", here); // DBGWVR0_EL1
    msr!("S2_0_C0_C0_7", 0x1ff7); // DBGWCR0_EL1
    msr!("S2_0_C7_C8_6", 0xff); // DBGCLAIMSET_EL1
    msr!("S2_0_C1_C0_4", 1); // OSLAR_EL1: lock
    msr!("S2_0_C1_C3_4", 1); // OSDLR_EL1: double lock
    let values = [
        mrs_or_zero!("S2_0_C0_C0_4"),
        mrs_or_zero!("S2_0_C0_C0_5"),
        mrs_or_zero!("S2_0_C0_C0_6"),
        mrs_or_zero!("S2_0_C0_C0_7"),
        mrs_or_zero!("S2_0_C7_C9_6"), // DBGCLAIMCLR_EL1
        mrs_or_zero!("S2_0_C1_C3_4"), // OSDLR_EL1
        mrs_or_zero!("S2_0_C1_C4_4"), // DBGPRCR_EL1
        mrs_or_zero!("S2_0_C1_C0_0"), // MDRAR_EL1
    ];
    let oslsr = mrs_or_zero!("S2_0_C1_C1_4");
    msr!("S2_0_C0_C2_2", 0xffff_ffff); // MDSCR_EL1: everything, MDE included
    let mdscr = mrs_or_zero!("S2_0_C0_C2_2");
    msr!("S2_0_C0_C2_2", 0);
    let zero = values.iter().all(|&v| v == 0);
    report.attack(
        "debug-registers",
        zero && oslsr == 0b1000 && mdscr == 0x3001,
        format_args!(
            "bvr0={:#x} bcr0={:#x} wvr0={:#x} wcr0={:#x} claim={:#x} osdlr={:#x} prcr={:#x} mdrar={:#x} oslsr={oslsr:#x} mdscr={mdscr:#x}",
            values[0], values[1], values[2], values[3], values[4], values[5], values[6], values[7]
        ),
    );
}

/// The debug communications channel, a line to an external debugger every partition would
/// share: status reads zero, data writes go nowhere and reads give zero.
pub(super) fn dcc(report: &mut Report<'_>) {
    let status = mrs_or_zero!("S2_3_C0_C1_0"); // MDCCSR_EL0
    msr!("S2_3_C0_C5_0", u64::from(b'Z')); // DBGDTRTX_EL0
    msr!("S2_3_C0_C4_0", 0x4141_4141); // DBGDTR_EL0
    let rx = mrs_or_zero!("S2_3_C0_C5_0"); // DBGDTRRX_EL0
    let dtr = mrs_or_zero!("S2_3_C0_C4_0");
    let mdccint = mrs_or_zero!("S2_0_C0_C2_0"); // MDCCINT_EL1
    report.attack(
        "dcc",
        status == 0 && rx == 0 && dtr == 0 && mdccint == 0,
        format_args!("mdccsr={status:#x} dtrrx={rx:#x} dtr={dtr:#x} mdccint={mdccint:#x}"),
    );
}

/// EL2's own registers (HCR_EL2, VTTBR_EL2, MDCR_EL2) are UNDEFINED at EL1.
pub(super) fn el2_registers(report: &mut Report<'_>) {
    let (_, hcr) = probe(|| mrs!("S3_4_C1_C1_0"));
    let (_, vttbr) = probe(|| mrs!("S3_4_C2_C1_0"));
    let (_, mdcr) = probe(|| msr!("S3_4_C1_C1_1", 0));
    let undefined = |t: Option<super::vectors::Taken>| t.is_some_and(|t| t.class() == 0);
    report.attack(
        "el2-registers",
        undefined(hcr) && undefined(vttbr) && undefined(mdcr),
        format_args!(
            "hcr={:?} vttbr={:?} mdcr-write={:?}",
            hcr.map(|t| t.esr),
            vttbr.map(|t| t.esr),
            mdcr.map(|t| t.esr)
        ),
    );
}
