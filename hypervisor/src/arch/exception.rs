//! The Rust side of the exception vectors: reads the syndrome once, then hands a plain snapshot
//! to the safe trap path.

use super::frame::{Resume, TrapFrame};
use aarch64_cpu::registers::{Readable, ESR_EL2, FAR_EL2, HPFAR_EL2};

use crate::trap::{Snapshot, VectorKind};

/// Called by `vectors.S` for every exception from a guest, with the saved frame, ESR_EL2 as the
/// vector read it (for an interrupt, which does not write ESR_EL2, a stale value the decoder
/// ignores) and ELR_EL2; returns what the return path needs (see [`Resume`]).
/// (Once the hypervisor failed on some CPU, the kick it sends every other CPU is taken as an
/// interrupt, whose handling parks: see `cpu.rs`; the synchronous exits need not look.)
#[no_mangle]
extern "C" fn handle_lower_el(frame: &mut TrapFrame, kind: u64, esr: u64, elr: u64) -> Resume {
    let snapshot = Snapshot {
        kind: VectorKind::lower(kind),
        esr,
        far: FAR_EL2.get(),
        hpfar: HPFAR_EL2.get(),
    };
    crate::cpu::handle_trap(frame, &snapshot, elr)
}

/// Called by `vectors.S`, on this CPU's emergency stack, for an exception taken at EL2: a
/// hypervisor bug. `frame.pad` holds the SP at the exception. An access to a guard page (or an SP
/// inside one) is reported as a stack overflow. Nothing here takes a lock.
#[no_mangle]
extern "C" fn handle_current_el(frame: &mut TrapFrame, kind: u64) -> ! {
    let esr = ESR_EL2.get();
    let far = FAR_EL2.get();
    let sp = frame.pad;
    let cpu = super::current_cpu();
    let kind = ["sync", "irq", "fiq", "serror"]
        .get(kind as usize & 3)
        .copied()
        .unwrap_or("?");
    // FAR is only meaningful for aborts (EC 0x21 instruction, 0x25 data abort at EL2).
    let abort = matches!(esr >> 26, 0x21 | 0x25);
    let guard = super::stack::guard_page_of(sp)
        .or_else(|| abort.then(|| super::stack::guard_page_of(far)).flatten());
    match guard {
        Some((owner, emergency)) => crate::fatal::fail(format_args!(
            "EL2 stack overflow on CPU {}{}: SP {:#018x} FAR {:#018x} ELR {:#018x} ESR {:#010x}",
            owner,
            if emergency { " (emergency stack)" } else { "" },
            sp,
            far,
            frame.elr,
            esr
        )),
        None => crate::fatal::fail(format_args!(
            "EL2 exception ({}) on CPU {}: ESR {:#010x} FAR {:#018x} ELR {:#018x} SPSR {:#010x} SP {:#018x}",
            kind, cpu, esr, far, frame.elr, frame.spsr, sp
        )),
    }
}

/// Called by `entry.S` for an exception the boot CPU takes before its MMU is on (the early
/// vector table), on the top of the boot stack. Nothing here takes a lock or formats: it writes
/// through the boot console's plain stores and loads, then parks.
#[no_mangle]
extern "C" fn early_exception(kind: u64, esr: u64, elr: u64, far: u64) -> ! {
    use super::boot_console::{write_hex, write_str};
    write_str("\nHIL:PANIC EL2 exception before the MMU is on: vector ");
    write_hex(kind);
    write_str(" ESR ");
    write_hex(esr);
    write_str(" ELR ");
    write_hex(elr);
    write_str(" FAR ");
    write_hex(far);
    write_str("\nHIL:HALT the hypervisor failed while booting\n");
    super::park()
}
