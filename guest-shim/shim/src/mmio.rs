//! Device register access for guests: one plain 32-bit load or store per access.
//!
//! A hypervisor emulating a device learns what the guest did from the trap's syndrome, which is
//! only valid (ISV = 1) for single loads and stores without writeback. A `volatile` access in
//! Rust may compile to a store with writeback or a pair, so every access goes through an
//! explicit `ldr`/`str` here.

/// Reads the 32-bit device register at `addr`.
///
/// # Safety
/// `addr` must be a 4-byte aligned device register mapped for this guest, for which a read has
/// no effect the caller has not accounted for.
pub unsafe fn read32(addr: usize) -> u32 {
    #[cfg(target_arch = "aarch64")]
    {
        let value: u32;
        // SAFETY: guaranteed by the caller; a plain load.
        unsafe {
            core::arch::asm!("ldr {v:w}, [{a}]", a = in(reg) addr, v = out(reg) value, options(nostack))
        };
        value
    }
    #[cfg(not(target_arch = "aarch64"))]
    {
        // SAFETY: guaranteed by the caller.
        unsafe { core::ptr::read_volatile(addr as *const u32) }
    }
}

/// Writes the 32-bit device register at `addr`.
///
/// # Safety
/// `addr` must be a 4-byte aligned device register mapped for this guest that the caller may
/// write.
pub unsafe fn write32(addr: usize, value: u32) {
    #[cfg(target_arch = "aarch64")]
    // SAFETY: guaranteed by the caller; a plain store.
    unsafe {
        core::arch::asm!("str {v:w}, [{a}]", a = in(reg) addr, v = in(reg) value, options(nostack))
    }
    #[cfg(not(target_arch = "aarch64"))]
    // SAFETY: guaranteed by the caller.
    unsafe {
        core::ptr::write_volatile(addr as *mut u32, value)
    }
}
