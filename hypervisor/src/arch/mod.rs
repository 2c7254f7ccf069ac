//! The architecture layer: everything that executes AArch64-specific instructions at EL2.
//!
//! All of Bulkhead's `unsafe` code, inline assembly and system-register access lives here. The
//! rest of the hypervisor is safe Rust that compiles and is unit-tested on the host. This module
//! only exists when building for the bare-metal target.

pub mod board_reset;
pub mod boot;
pub mod boot_console;
mod cache;
pub mod console_fast_path;
pub mod doorbell_fast_path;
mod exception;
pub mod fast_path;
pub mod frame;
pub mod gic;
mod gic_v2;
mod gic_v3;
mod gpio_pins;
pub mod hyp_timer;
pub mod memory;
pub mod mini_uart;
mod mini_uart_setup;
mod mmio;
pub mod partition_ram;
pub mod pl011;
mod pl011_setup;
mod registers;
pub mod rng;
pub mod rng200;
mod smc;
pub mod smmu;
pub mod stack;
mod sysreg;
pub mod trap_regs;
mod uart_wait;
mod vcpu;
pub mod virtio_memory;

pub use cache::{clean_dcache_range, clean_invalidate_dcache_range, invalidate_icache};
pub use frame::{Resume, TrapFrame};
pub use registers::{
    cpu_features, current_cpu, publish_cpu_mpidrs, set_mmu_state, CpuFeatures, MmuState,
};
pub use smc::smc_call;
pub use stack::reset_stack_and_call;
pub use vcpu::{
    enter_guest, prepare_el2_for_guests, reset_el1_state, translate_guest_va, GuestEntry,
};

core::arch::global_asm!(
    include_str!("entry.S"),
    MAX_CPUS = const crate::MAX_CPUS,
    PRIMARY_PAGES = const stack::layout::PRIMARY_PAGES,
    SECONDARY_STRIDE = const stack::layout::SECONDARY_STRIDE,
    TOP_RESERVED = const stack::TOP_RESERVED,
);
core::arch::global_asm!(include_str!("mem.S"));
core::arch::global_asm!(
    include_str!("vectors.S"),
    MAX_CPUS = const crate::MAX_CPUS,
    EMERGENCY_SHIFT = const stack::EMERGENCY_SHIFT,
    RING_LO = const bulkhead_abi::vendor::DOORBELL_RING & 0xffff,
    RING_HI = const bulkhead_abi::vendor::DOORBELL_RING >> 16,
    DOORBELL_SGI = const crate::vgic::DOORBELL_SGI,
);
core::arch::global_asm!(
    include_str!("doorbell_fast_path.S"),
    MAX_CHANNELS = const bulkhead_config::MAX_CHANNELS,
    FRAME_SIZE = const core::mem::size_of::<TrapFrame>(),
    DOORBELL_SGI = const crate::vgic::DOORBELL_SGI,
);
core::arch::global_asm!(
    include_str!("console_fast_path.S"),
    STAGE = const console_fast_path::STAGE,
    POLLING = const crate::devices::pl011::model::POLLING_FLAG_READS,
    FRAME_SIZE = const core::mem::size_of::<TrapFrame>(),
);

/// Waits for an interrupt (or any event that wakes WFI), with no effect on guest state.
pub fn wait_for_interrupt() {
    // SAFETY: `wfi` only suspends this CPU until an interrupt is pending.
    unsafe { core::arch::asm!("wfi", options(nomem, nostack, preserves_flags)) };
}

/// Waits for an event (SEV from another CPU or an interrupt).
pub fn wait_for_event() {
    // SAFETY: `wfe` only suspends this CPU until an event.
    unsafe { core::arch::asm!("wfe", options(nomem, nostack, preserves_flags)) };
}

/// Wakes CPUs waiting in WFE, after making this CPU's earlier memory writes visible to them.
pub fn send_event() {
    // SAFETY: `dsb ish` orders earlier writes before the event; `sev` only signals an event.
    unsafe { core::arch::asm!("dsb ish", "sev", options(nostack, preserves_flags)) };
}

/// Reads the virtual counter (CNTVCT_EL0), for timestamps.
pub fn counter() -> u64 {
    let value: u64;
    // SAFETY: reading CNTVCT_EL0 has no side effects.
    unsafe {
        core::arch::asm!("isb", "mrs {}, cntvct_el0", out(reg) value, options(nomem, nostack))
    };
    value
}

/// The counter's frequency in Hz (CNTFRQ_EL0, set by the firmware: 54 MHz on a Raspberry Pi 4,
/// 62.5 MHz on QEMU).
pub fn counter_frequency() -> u64 {
    use aarch64_cpu::registers::{Readable, CNTFRQ_EL0};
    CNTFRQ_EL0.get()
}

/// Stops this CPU for good: masks interrupts and waits forever.
pub fn park() -> ! {
    loop {
        wait_for_event();
    }
}
