//! The first instructions: the arm64 Image header (so QEMU's `-kernel` and Bulkhead load the
//! same flat image), then the stack, `.bss`, the vector base and the jump to `rtos_main`
//! (defined by [`crate::entry!`]) with x0 = the device tree and x1 = the counter at entry.
//!
//! The load CPUs of a bare-metal run enter at `rtos_secondary_entry` (PSCI CPU_ON) with their
//! slot in x0, each on its own 16 KiB stack.

use core::sync::atomic::{AtomicUsize, Ordering};

core::arch::global_asm!(
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
