//! The Rust side of the exception vectors: reads the syndrome once, then hands a plain snapshot
//! to the safe trap path.

use super::frame::TrapFrame;
use aarch64_cpu::registers::{Readable, ESR_EL2, FAR_EL2, HPFAR_EL2};

use crate::trap::{Snapshot, VectorKind};

/// Called by `vectors.S` for every exception from a guest, with the saved frame.
#[no_mangle]
extern "C" fn handle_lower_el(frame: &mut TrapFrame, kind: u64) {
    let snapshot = Snapshot {
        kind: VectorKind::lower(kind),
        esr: ESR_EL2.get(),
        far: FAR_EL2.get(),
        hpfar: HPFAR_EL2.get(),
    };
    crate::cpu::handle_trap(frame, &snapshot);
}

/// Called by `vectors.S` for an exception taken at EL2: a hypervisor bug. Prints the state and
/// stops this CPU only; other CPUs and their partitions keep running.
#[no_mangle]
extern "C" fn handle_current_el(frame: &mut TrapFrame, kind: u64) -> ! {
    let esr = ESR_EL2.get();
    let far = FAR_EL2.get();
    crate::println!(
        "HIL:PANIC EL2 exception ({}) on CPU {}: ESR {:#010x} FAR {:#018x} ELR {:#018x} SPSR {:#010x}",
        ["sync", "irq", "fiq", "serror"].get(kind as usize & 3).unwrap_or(&"?"),
        super::current_cpu(),
        esr,
        far,
        frame.elr,
        frame.spsr
    );
    for (row, regs) in frame.x.chunks(4).enumerate() {
        let mut line: heapless::String<128> = heapless::String::new();
        for (col, value) in regs.iter().enumerate() {
            let _ = core::fmt::Write::write_fmt(
                &mut line,
                format_args!("x{:<2} {:#018x}  ", row * 4 + col, value),
            );
        }
        crate::println!("    {}", line.trim_end());
    }
    crate::println!("CPU {} stopped; other CPUs continue", super::current_cpu());
    super::park()
}
