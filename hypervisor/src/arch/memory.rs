//! Access to physical memory by address: the host device tree, the bundle and partition RAM.
//! The hypervisor identity-maps all RAM, so a physical address is also its virtual address.

extern "C" {
    static __image_start: u8;
    static __image_end: u8;
}

/// The image's sections as `[start, end)`, page-aligned by the linker script: text, read-only
/// data, data and bss, the stacks.
pub fn image_sections() -> [(u64, u64); 4] {
    extern "C" {
        static __text_start: u8;
        static __text_end: u8;
        static __rodata_start: u8;
        static __rodata_end: u8;
        static __data_start: u8;
        static __data_end: u8;
    }
    [
        (
            core::ptr::addr_of!(__text_start) as u64,
            core::ptr::addr_of!(__text_end) as u64,
        ),
        (
            core::ptr::addr_of!(__rodata_start) as u64,
            core::ptr::addr_of!(__rodata_end) as u64,
        ),
        (
            core::ptr::addr_of!(__data_start) as u64,
            core::ptr::addr_of!(__data_end) as u64,
        ),
        super::stack::region(),
    ]
}

/// The hypervisor image as loaded: `[start, end)` (end = where the bundle begins).
pub fn image_range() -> (u64, u64) {
    (
        core::ptr::addr_of!(__image_start) as u64,
        core::ptr::addr_of!(__image_end) as u64,
    )
}

/// The `len` bytes at physical address `pa`, for reading.
///
/// # Safety
/// `[pa, pa + len)` must be RAM that nothing writes for as long as the slice is used (the
/// boot loader's device tree, the bundle).
pub unsafe fn phys_slice(pa: u64, len: usize) -> &'static [u8] {
    // SAFETY: guaranteed by the caller; RAM is identity-mapped (or the MMU is off).
    unsafe { core::slice::from_raw_parts(pa as *const u8, len) }
}

/// Copies `data` to physical address `pa`, 64 bytes per iteration (the generic `memcpy` of the
/// soft-float target moves 8 bytes at a time, which dominated the boot time).
///
/// # Safety
/// `[pa, pa + data.len())` must be RAM of a partition none of whose vCPUs runs.
pub unsafe fn copy_to_phys(pa: u64, data: &[u8]) {
    let bulk = data.len() & !63;
    if bulk > 0 {
        // SAFETY: copies `bulk` bytes from `data` (readable) to `pa` (guaranteed writable by the
        // caller); unaligned ldp/stp are fine on normal memory; the ranges do not overlap.
        unsafe {
            core::arch::asm!(
                "1:",
                "ldp {a}, {b}, [{src}], #16",
                "ldp {c}, {d}, [{src}], #16",
                "stp {a}, {b}, [{dst}], #16",
                "stp {c}, {d}, [{dst}], #16",
                "ldp {a}, {b}, [{src}], #16",
                "ldp {c}, {d}, [{src}], #16",
                "stp {a}, {b}, [{dst}], #16",
                "stp {c}, {d}, [{dst}], #16",
                "subs {n}, {n}, #64",
                "b.ne 1b",
                src = inout(reg) data.as_ptr() => _,
                dst = inout(reg) pa => _,
                n = inout(reg) bulk => _,
                a = out(reg) _, b = out(reg) _, c = out(reg) _, d = out(reg) _,
                options(nostack),
            );
        }
    }
    for (offset, byte) in data.iter().enumerate().skip(bulk) {
        // SAFETY: as above, for the tail.
        unsafe { ((pa + offset as u64) as *mut u8).write(*byte) };
    }
}

/// Fills `[pa, pa + len)` with zeros.
///
/// # Safety
/// As for [`copy_to_phys`].
pub unsafe fn zero_phys(pa: u64, len: u64) {
    // SAFETY: guaranteed by the caller.
    unsafe { core::ptr::write_bytes(pa as *mut u8, 0, len as usize) };
}

/// Reads a 32-bit word of RAM at physical address `pa` (for fault reports).
///
/// # Safety
/// `pa` must be 4-byte aligned RAM mapped at EL2.
pub unsafe fn read_phys_u32(pa: u64) -> u32 {
    // SAFETY: guaranteed by the caller.
    unsafe { (pa as *const u32).read_volatile() }
}

/// Reads the total size of the flattened device tree at `pa` (its header's `totalsize`), if
/// `pa` holds one.
///
/// # Safety
/// `pa` must be readable RAM, at least 8 bytes.
pub unsafe fn fdt_size(pa: u64) -> Option<usize> {
    // SAFETY: guaranteed by the caller.
    let header = unsafe { phys_slice(pa, 8) };
    let magic = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    let size = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
    (magic == 0xd00d_feed && (64..=2 << 20).contains(&size)).then_some(size as usize)
}

/// Copies `out.len()` bytes of guest RAM at physical address `pa` into `out`, one byte at a
/// time with volatile reads (the guest's other vCPUs may be writing the same bytes).
///
/// # Safety
/// `[pa, pa + out.len())` must be RAM of one partition, identity-mapped at EL2 (checked by the
/// caller against that partition's stage-2 RAM map).
pub unsafe fn read_guest_phys(pa: u64, out: &mut [u8]) {
    let base = pa as *const u8;
    for (offset, byte) in out.iter_mut().enumerate() {
        // SAFETY: `offset < out.len()`, so the address lies in the range the caller vouched for.
        *byte = unsafe { base.add(offset).read_volatile() };
    }
}

/// Copies `data` into guest RAM at physical address `pa`, one byte at a time with volatile
/// writes.
///
/// # Safety
/// As for [`read_guest_phys`]; the range must belong to the partition the data is meant for.
pub unsafe fn write_guest_phys(pa: u64, data: &[u8]) {
    let base = pa as *mut u8;
    for (offset, byte) in data.iter().enumerate() {
        // SAFETY: `offset < data.len()`, so the address lies in the range the caller vouched
        // for.
        unsafe { base.add(offset).write_volatile(*byte) };
    }
}

/// Releases a secondary CPU parked on a spin table: writes `entry` to its release address,
/// cleans the line (the CPU polls with its caches off) and signals an event.
///
/// # Safety
/// `release_address` must be the `cpu-release-addr` the device tree gives for a CPU that is
/// still parked, in RAM mapped at EL2 and owned by no partition.
pub unsafe fn release_spin_table(release_address: u64, entry: u64) {
    // SAFETY: guaranteed by the caller.
    unsafe { (release_address as *mut u64).write_volatile(entry) };
    super::clean_dcache_range(release_address, 8);
    super::send_event();
}
