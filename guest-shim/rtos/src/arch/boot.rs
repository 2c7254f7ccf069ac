//! The first instructions: the arm64 Image header (so QEMU's `-kernel` and Bulkhead load the
//! same flat image), the MMU and caches on, then the stack, `.bss`, the vector base and the
//! jump to `rtos_main` (defined by [`crate::entry!`]) with x0 = the device tree and x1 = the
//! counter at entry.
//!
//! The MMU and caches go on before anything else, on every board: with the MMU off every
//! access is Device memory, so on real hardware the RTOS's timing would have nothing to do with
//! a cached run, and on the BCM2711 its atomics (exclusives) would never complete. The map is
//! an identity map of 1 GiB blocks (one level-1 table at `__page_table`): the block holding the
//! image (its RAM) Normal write-back, every other block Device-nGnRE and never executable
//! (the devices: the partition's stage 2 says which exist). Before the table is written, the
//! image's lines are cleaned and invalidated to the point of coherency, so no line the loader
//! left in the caches shadows what is then written with the caches off.
//!
//! The load CPUs of a bare-metal run enter at `rtos_secondary_entry` (PSCI CPU_ON) with their
//! slot in x0, turn on their MMU with the same table, each then on its own 16 KiB stack.

use core::sync::atomic::{AtomicUsize, Ordering};

core::arch::global_asm!(
    // MAIR_EL1: attribute 0 Normal write-back (read/write-allocate), 1 Device-nGnRE.
    ".equ RTOS_MAIR, 0x04ff",
    // TCR_EL1: T0SZ = 25 (39-bit VA, walks start at level 1), write-back inner-shareable walks,
    // 4 KiB granule, no TTBR1 walks (EPD1), IPS = 40 bits.
    ".equ RTOS_TCR, 25 | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 23) | (2 << 32)",
    // Level-1 block descriptors: AF, inner shareable, AttrIndx 0 (Normal) / 1 (Device, PXN/UXN).
    ".equ RTOS_BLOCK_NORMAL, 0x701",
    ".equ RTOS_BLOCK_DEVICE, 0x405 | (3 << 53)",
    // SCTLR_EL1: M, C, I.
    ".equ RTOS_SCTLR_ON, (1 << 0) | (1 << 2) | (1 << 12)",
    // Turns on the MMU and caches with the table at __page_table (clobbers x9, x10).
    ".macro RTOS_MMU_ON",
    "    ldr x9, =RTOS_MAIR",
    "    msr mair_el1, x9",
    "    ldr x9, =RTOS_TCR",
    "    msr tcr_el1, x9",
    "    adrp x9, __page_table",
    "    msr ttbr0_el1, x9",
    "    isb",
    "    tlbi vmalle1",
    "    dsb nsh",
    "    isb",
    "    mrs x9, sctlr_el1",
    "    ldr x10, =RTOS_SCTLR_ON",
    "    orr x9, x9, x10",
    "    msr sctlr_el1, x9",
    "    isb",
    ".endm",
    "",
    ".section .text.head, \"ax\"",
    ".global _start",
    "_start:",
    // Linux Documentation/arch/arm64/booting.rst, "Call the kernel image".
    "    b 1f",                // code0
    "    .long 0",             // code1
    "    .quad 0x200000",      // text_offset: 2 MiB above a 2 MiB aligned RAM base
    "    .quad __image_size",  // image_size, .bss and stacks included
    "    .quad 2",             // flags: little endian, 4 KiB pages, placed at text_offset
    "    .quad 0, 0, 0",       // res2..res4
    "    .ascii \"ARM\\x64\"", // magic
    "    .long 0",             // res5
    "1:  mrs x1, cntvct_el0",  // the counter at the first instruction after the header
    "    mov x19, x0",
    "    mov x20, x1",
    "    msr daifset, #0xf",
    // Clean and invalidate the image (text to the page table) to the point of coherency.
    "    adrp x2, __image_start",
    "    adrp x3, __image_end",
    "    mrs x4, ctr_el0",
    "    ubfx x4, x4, #16, #4", // DminLine: log2 of the smallest line in words
    "    mov x5, #4",
    "    lsl x5, x5, x4",
    "6:  dc civac, x2",
    "    add x2, x2, x5",
    "    cmp x2, x3",
    "    b.lo 6b",
    "    dsb sy",
    // The level-1 table: entry i maps [i GiB, i+1 GiB); the image's own block is Normal.
    "    adrp x2, __page_table",
    "    adrp x3, __image_start",
    "    lsr x3, x3, #30",
    "    mov x4, #0",
    "7:  lsl x5, x4, #30",
    "    cmp x4, x3",
    "    ldr x6, =RTOS_BLOCK_NORMAL",
    "    ldr x7, =RTOS_BLOCK_DEVICE",
    "    csel x6, x6, x7, eq",
    "    orr x5, x5, x6",
    "    str x5, [x2, x4, lsl #3]",
    "    add x4, x4, #1",
    "    cmp x4, #512",
    "    b.lo 7b",
    "    dsb sy",
    "    RTOS_MMU_ON",
    "    adrp x2, rtos_vectors",
    "    add x2, x2, :lo12:rtos_vectors",
    "    msr vbar_el1, x2",
    "    isb",
    "    adrp x2, __stack_top",
    "    add x2, x2, :lo12:__stack_top",
    "    mov sp, x2",
    "    adrp x2, __bss_start",
    "    add x2, x2, :lo12:__bss_start",
    "    adrp x3, __bss_end",
    "    add x3, x3, :lo12:__bss_end",
    "2:  cmp x2, x3",
    "    b.hs 3f",
    "    str xzr, [x2], #8",
    "    b 2b",
    "3:  mov x0, x19",
    "    mov x1, x20",
    "    bl rtos_main",
    "4:  wfi",
    "    b 4b",
    "",
    ".section .text.secondary, \"ax\"",
    ".global rtos_secondary_entry",
    "rtos_secondary_entry:",
    "    msr daifset, #0xf",
    "    RTOS_MMU_ON",
    "    adrp x1, rtos_vectors",
    "    add x1, x1, :lo12:rtos_vectors",
    "    msr vbar_el1, x1",
    "    isb",
    "    adrp x1, __secondary_stacks",
    "    add x1, x1, :lo12:__secondary_stacks",
    "    add x2, x0, #1",
    "    lsl x2, x2, #14",
    "    add sp, x1, x2",
    "    bl rtos_secondary_main",
    "5:  wfi",
    "    b 5b",
    ".ltorg",
);

/// How many CPUs besides the boot CPU can be started (one stack each in the link script).
pub const SECONDARY_SLOTS: usize = 4;

/// The code each started CPU runs, by slot (a `fn(usize) -> !` as an address; 0 = none).
static SECONDARY_MAIN: [AtomicUsize; SECONDARY_SLOTS] =
    [const { AtomicUsize::new(0) }; SECONDARY_SLOTS];

extern "C" {
    fn rtos_secondary_entry();
}

// PSCI CPU_ON (SMC64), DEN0022.
use guest_shim::psci::CPU_ON_64 as PSCI_CPU_ON;

/// Starts the CPU with affinity `mpidr` (PSCI CPU_ON through `hvc`), running `main(slot)` on
/// the stack of `slot`. Returns PSCI's answer (0 on success).
pub fn start_secondary(slot: usize, mpidr: u64, main: fn(usize) -> !) -> i64 {
    let Some(entry) = SECONDARY_MAIN.get(slot) else {
        return -2; // PSCI INVALID_PARAMETERS
    };
    entry.store(main as usize, Ordering::Release);
    let address = rtos_secondary_entry as *const () as usize as u64;
    guest_shim::smccc::call(PSCI_CPU_ON, [mpidr, address, slot as u64, 0, 0, 0])[0] as i64
}

#[no_mangle]
extern "C" fn rtos_secondary_main(slot: usize) -> ! {
    let main = SECONDARY_MAIN
        .get(slot)
        .map_or(0, |m| m.load(Ordering::Acquire));
    if main != 0 {
        // SAFETY: only `start_secondary` stores into SECONDARY_MAIN, and it stores a
        // `fn(usize) -> !`.
        let main: fn(usize) -> ! = unsafe { core::mem::transmute(main) };
        main(slot)
    }
    loop {
        super::cpu::wait_for_interrupt();
    }
}

/// Defines the program's entry: `$main(device_tree: usize, boot_counter: u64) -> !` runs on
/// the boot CPU with the vectors installed, `.bss` zeroed and IRQs masked.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[no_mangle]
        extern "C" fn rtos_main(device_tree: usize, boot_counter: u64) -> ! {
            let main: fn(usize, u64) -> ! = $main;
            main(device_tree, boot_counter)
        }
    };
}

/// The flattened device tree at `address` (x0 at entry), bounded by its header's `totalsize`.
pub fn device_tree(address: usize) -> Option<&'static [u8]> {
    /// The FDT header's magic (Devicetree Specification 5.2).
    const FDT_MAGIC: u32 = 0xd00d_feed;
    /// The largest device tree accepted.
    const MAX_SIZE: usize = 2 << 20;
    if address == 0 || !address.is_multiple_of(8) {
        return None;
    }
    // SAFETY: the boot protocol puts a device tree at x0, in RAM this guest owns and never
    // writes; reading its 8-byte header (magic, totalsize) is in bounds of any device tree.
    let header = unsafe { core::slice::from_raw_parts(address as *const u8, 8) };
    let word = |at: usize| {
        header
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
    };
    if word(0)? != FDT_MAGIC {
        return None;
    }
    let size = usize::try_from(word(4)?).ok()?;
    if !(8..=MAX_SIZE).contains(&size) {
        return None;
    }
    // SAFETY: as above; `totalsize` bytes are the device tree the loader placed there.
    Some(unsafe { core::slice::from_raw_parts(address as *const u8, size) })
}
