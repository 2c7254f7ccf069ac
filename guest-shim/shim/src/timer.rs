//! The generic timer's virtual counter, for timestamps and delays.

/// Reads CNTVCT_EL0.
#[cfg(target_arch = "aarch64")]
pub fn counter() -> u64 {
    let value: u64;
    // SAFETY: reading the virtual counter has no side effects.
    unsafe {
        core::arch::asm!("isb", "mrs {}, cntvct_el0", out(reg) value, options(nomem, nostack))
    };
    value
}

/// Reads CNTFRQ_EL0: counter ticks per second.
#[cfg(target_arch = "aarch64")]
pub fn frequency() -> u64 {
    let value: u64;
    // SAFETY: reading the counter frequency has no side effects.
    unsafe { core::arch::asm!("mrs {}, cntfrq_el0", out(reg) value, options(nomem, nostack)) };
    value
}

/// Host builds: a counter that never moves.
#[cfg(not(target_arch = "aarch64"))]
pub fn counter() -> u64 {
    0
}

/// Host builds: 1 GHz.
#[cfg(not(target_arch = "aarch64"))]
pub fn frequency() -> u64 {
    1_000_000_000
}

/// Busy-waits `micros` microseconds of guest time.
pub fn delay_us(micros: u64) {
    let ticks = frequency().saturating_mul(micros) / 1_000_000;
    let start = counter();
    while counter().wrapping_sub(start) < ticks {
        core::hint::spin_loop();
    }
}
