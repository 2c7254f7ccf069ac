//! Data and instruction cache maintenance by virtual address.

use super::sysreg::CTR_EL0;
use tock_registers::interfaces::Readable;

/// CTR_EL0.DminLine, bits [19:16]: log2 of the smallest data cache line, in words.
const CTR_DMINLINE_SHIFT: u64 = 16;

/// The smallest data cache line of the CPU (CTR_EL0.DminLine), in bytes.
fn dcache_line() -> u64 {
    4 << ((CTR_EL0.get() >> CTR_DMINLINE_SHIFT) & 0xf)
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
