//! A deliberate crash, for scenarios that make a partition fault (the `crash-restarts` boot
//! argument of the RTOS application): a store to an address outside the partition's memory,
//! which the hypervisor's stage 2 refuses and reports as the partition's fault.

/// Stores to `address` (meant to be outside this partition's memory); if the store somehow
/// completes, waits for ever.
pub fn store_outside_memory(address: usize) -> ! {
    // SAFETY: deliberately not sound: the scenario wants this store to fault at stage 2 (the
    // RTOS's MMU is off, so it goes straight out; no Rust object lives at that address).
    unsafe { core::ptr::write_volatile(address as *mut u32, 0xdead_beef) };
    loop {
        core::hint::spin_loop();
    }
}
