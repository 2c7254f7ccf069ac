//! Raw MMIO accesses to devices the hypervisor owns (its UART, the GIC).

/// Reads a 32-bit device register.
///
/// # Safety
/// `addr` must be a device register mapped at EL2 for which a 32-bit read has no effect the
/// caller has not accounted for.
pub unsafe fn read32(addr: u64) -> u32 {
    // SAFETY: guaranteed by the caller.
    unsafe { (addr as *const u32).read_volatile() }
}

/// Writes a 32-bit device register.
///
/// # Safety
/// `addr` must be a device register mapped at EL2 that the caller owns.
pub unsafe fn write32(addr: u64, value: u32) {
    // SAFETY: guaranteed by the caller.
    unsafe { (addr as *mut u32).write_volatile(value) }
}
