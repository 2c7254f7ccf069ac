//! Data and instruction cache maintenance by virtual address.

/// The smallest data cache line of the CPU (CTR_EL0.DminLine), in bytes.
fn dcache_line() -> u64 {
    let ctr = super::registers::read_sysreg!("ctr_el0");
    4 << ((ctr >> 16) & 0xf)
}

/// Cleans `[start, start + len)` to the point of coherency, so that a CPU or guest with its MMU
/// off (non-cacheable accesses) sees what this CPU wrote through its cache.
pub fn clean_dcache_range(start: u64, len: u64) {
    let line = dcache_line();
    let mut addr = start & !(line - 1);
    let end = start.saturating_add(len);
    while addr < end {
        // SAFETY: `dc cvac` on an address mapped at EL2 only writes back a cache line.
        unsafe { core::arch::asm!("dc cvac, {}", in(reg) addr, options(nostack, preserves_flags)) };
        addr += line;
    }
    // SAFETY: a barrier has no other effect.
    unsafe { core::arch::asm!("dsb sy", options(nostack, preserves_flags)) };
}

/// Cleans and invalidates `[start, start + len)` to the point of coherency, so no stale line of
/// a previous run can later be written back over what a restarted guest writes.
pub fn clean_invalidate_dcache_range(start: u64, len: u64) {
    let line = dcache_line();
    let mut addr = start & !(line - 1);
    let end = start.saturating_add(len);
    while addr < end {
        // SAFETY: `dc civac` on an address mapped at EL2 only writes back and drops a line.
        unsafe {
            core::arch::asm!("dc civac, {}", in(reg) addr, options(nostack, preserves_flags))
        };
        addr += line;
    }
    // SAFETY: a barrier has no other effect.
    unsafe { core::arch::asm!("dsb sy", options(nostack, preserves_flags)) };
}

/// Invalidates all instruction caches to the point of unification (after loading guest code).
pub fn invalidate_icache() {
    // SAFETY: invalidating the instruction cache only costs refetches.
    unsafe {
        core::arch::asm!(
            "ic ialluis",
            "dsb ish",
            "isb",
            options(nostack, preserves_flags)
        )
    };
}
