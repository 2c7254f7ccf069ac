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

/// The virtual timer's interrupt (PPI 11, INTID 27).
pub const VIRTUAL_TIMER_INTID: u32 = 27;

/// Arms the virtual timer to raise its interrupt once the counter reaches `deadline`
/// (CNTV_CVAL_EL0, then CNTV_CTL_EL0.ENABLE with the interrupt unmasked).
#[cfg(target_arch = "aarch64")]
pub fn arm_virtual_timer(deadline: u64) {
    // SAFETY: programs this CPU's own virtual timer; no memory is touched.
    unsafe {
        core::arch::asm!(
            "msr cntv_cval_el0, {deadline}",
            "mov {t}, #1",
            "msr cntv_ctl_el0, {t}",
            "isb",
            deadline = in(reg) deadline,
            t = out(reg) _,
            options(nomem, nostack),
        )
    };
}

/// Stops the virtual timer (CNTV_CTL_EL0 = 0), which also withdraws its interrupt.
#[cfg(target_arch = "aarch64")]
pub fn stop_virtual_timer() {
    // SAFETY: as for `arm_virtual_timer`.
    unsafe { core::arch::asm!("msr cntv_ctl_el0, xzr", "isb", options(nomem, nostack)) };
}

/// Host builds: no timer.
#[cfg(not(target_arch = "aarch64"))]
pub fn arm_virtual_timer(_deadline: u64) {}

/// Host builds: no timer.
#[cfg(not(target_arch = "aarch64"))]
pub fn stop_virtual_timer() {}

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
