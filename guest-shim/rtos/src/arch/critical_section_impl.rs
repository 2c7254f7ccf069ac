//! Critical sections on one core: mask IRQs (PSTATE.I), and unmask them at the end only if
//! they were unmasked at the start. The RTOS runs on one CPU and shares nothing with other
//! CPUs' code (the bare-metal load generator touches no shared state), so this is exclusive.

use super::cpu;

struct IrqMask;
critical_section::set_impl!(IrqMask);

// SAFETY: `acquire` masks IRQs, so nothing else runs on this CPU until `release`; `release`
// restores the mask `acquire` found, so nested sections leave interrupts masked.
unsafe impl critical_section::Impl for IrqMask {
    unsafe fn acquire() -> bool {
        let was_masked = cpu::irqs_masked();
        cpu::mask_irqs();
        was_masked
    }

    unsafe fn release(was_masked: bool) {
        if !was_masked {
            cpu::unmask_irqs();
        }
    }
}
