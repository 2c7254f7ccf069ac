//! The EL2 stacks: one per CPU, each with an unmapped guard page below it, plus a small
//! emergency stack per CPU for exceptions taken at EL2 (a stack overflow among them).
//!
//! Every guest entry and every trap starts at the top of this CPU's stack: `enter_guest_asm`
//! and [`reset_stack_and_call`] reset SP to [`top`], so leaving a guest can never nest. The
//! stacks are painted at each CPU's first guest entry; [`high_water`] measures the deepest use
//! since. On the boot CPU only the top [`PRIMARY_MEASURED_SIZE`] bytes are painted and measured:
//! the trap path's reach (the rest of its 256 KiB only ever held boot's frames).

use core::mem::size_of;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The guard page below each stack (left unmapped in the EL2 map).
pub const GUARD_SIZE: usize = 4096;
/// Size of the boot CPU's EL2 stack: building the system from the configuration needs
/// large frames (the parsed configuration and its validation report live on it).
pub const PRIMARY_STACK_SIZE: usize = 256 * 1024;
/// Size of each secondary CPU's EL2 stack (the trap path only).
pub const SECONDARY_STACK_SIZE: usize = 16 * 1024;
/// Size of each CPU's emergency stack (the report of an exception taken at EL2); with its guard
/// page it spans `1 << EMERGENCY_SHIFT` bytes, so `vectors.S` finds it with a shift.
pub const EMERGENCY_STACK_SIZE: usize = 12 * 1024;
/// How much of the boot CPU's stack, from its top, is painted and measured: the whole of a
/// secondary CPU's stack, which the trap path fits (every trap starts at the top of the stack).
/// Painting all 256 KiB cost 32,000 instructions of boot; a leak still shows, as a mark that
/// grows until it reaches this size.
pub const PRIMARY_MEASURED_SIZE: usize = SECONDARY_STACK_SIZE;
/// The bytes at the very top of each trap stack, above where every trap starts: the fast paths'
/// per-CPU counters ([`fast_counter_slots`]), which `vectors.S` reaches from SP, so the fast
/// paths need neither a free register nor this CPU's index to count.
pub const TOP_RESERVED: usize = 16;
/// log2 of an emergency stack's stride.
pub const EMERGENCY_SHIFT: usize = 14;
/// What unused stack holds (checked by [`high_water`]).
const PAINT: u64 = 0x5354_4143_4b21_5354;

/// A stack of `N` bytes with its guard page below it.
#[repr(C, align(4096))]
pub struct GuardedStack<const N: usize> {
    guard: [u8; GUARD_SIZE],
    stack: [u8; N],
}

impl<const N: usize> GuardedStack<N> {
    const EMPTY: Self = GuardedStack {
        guard: [0; GUARD_SIZE],
        stack: [0; N],
    };
}

const PRIMARY_STRIDE: usize = size_of::<GuardedStack<PRIMARY_STACK_SIZE>>();
const SECONDARY_STRIDE: usize = size_of::<GuardedStack<SECONDARY_STACK_SIZE>>();
const EMERGENCY_STRIDE: usize = size_of::<GuardedStack<EMERGENCY_STACK_SIZE>>();
const _: () = assert!(PRIMARY_STRIDE == GUARD_SIZE + PRIMARY_STACK_SIZE);
const _: () = assert!(SECONDARY_STRIDE == GUARD_SIZE + SECONDARY_STACK_SIZE);
const _: () = assert!(EMERGENCY_STRIDE == GUARD_SIZE + EMERGENCY_STACK_SIZE);
const _: () = assert!(EMERGENCY_STRIDE == 1 << EMERGENCY_SHIFT);

/// The boot CPU's stack (CPU 0's for ever), used by `entry.S` before Rust runs.
#[no_mangle]
#[link_section = ".el2_stacks"]
pub static mut PRIMARY_STACK: GuardedStack<PRIMARY_STACK_SIZE> = GuardedStack::EMPTY;

/// Secondary CPUs' stacks (index = logical CPU; entry 0 is unused), used by `entry.S`.
#[no_mangle]
#[link_section = ".el2_stacks"]
pub static mut SECONDARY_STACKS: [GuardedStack<SECONDARY_STACK_SIZE>; crate::MAX_CPUS] =
    [GuardedStack::EMPTY; crate::MAX_CPUS];

/// Every CPU's emergency stack, used by `vectors.S` for exceptions taken at EL2.
#[no_mangle]
#[link_section = ".el2_stacks"]
pub static mut EMERGENCY_STACKS: [GuardedStack<EMERGENCY_STACK_SIZE>; crate::MAX_CPUS] =
    [GuardedStack::EMPTY; crate::MAX_CPUS];

/// Strides and sizes `entry.S` and `vectors.S` compute stack tops with.
pub(super) mod layout {
    pub const PRIMARY_PAGES: usize = super::PRIMARY_STRIDE >> 12;
    pub const SECONDARY_STRIDE: usize = super::SECONDARY_STRIDE;
}

/// `[bottom, top)` of `cpu`'s EL2 stack (the trap stack), without its guard page and without
/// the [`TOP_RESERVED`] bytes above its top.
pub fn bounds(cpu: usize) -> Option<(u64, u64)> {
    let (guard, size) = if cpu == 0 {
        (
            core::ptr::addr_of!(PRIMARY_STACK) as u64,
            PRIMARY_STACK_SIZE,
        )
    } else if cpu < crate::MAX_CPUS {
        let base = core::ptr::addr_of!(SECONDARY_STACKS) as u64;
        (base + (cpu * SECONDARY_STRIDE) as u64, SECONDARY_STACK_SIZE)
    } else {
        return None;
    };
    let bottom = guard + GUARD_SIZE as u64;
    Some((bottom, bottom + (size - TOP_RESERVED) as u64))
}

/// The top of `cpu`'s EL2 stack: where every guest entry and every trap starts.
pub fn top(cpu: usize) -> Option<u64> {
    bounds(cpu).map(|(_, top)| top)
}

/// `cpu`'s fast-path counters, the [`TOP_RESERVED`] bytes above its stack's top: constant
/// hypercalls answered by `fast_hvc`, then virtual timer interrupts injected by `fast_irq`.
/// Only that CPU's fast paths write them (a plain 64-bit load and store, with interrupts masked);
/// other CPUs read them, and [`crate::cpu`] resets them when the vCPU is reset.
pub fn fast_counter_slots(cpu: usize) -> Option<&'static [AtomicU64; 2]> {
    let top = top(cpu)?;
    const _: () = assert!(size_of::<[AtomicU64; 2]>() == TOP_RESERVED);
    // SAFETY: `top` is 16-byte aligned (a page-aligned stack's end less 16) and the 16 bytes from
    // it lie inside the stack's static, above every frame (`el2_stack_top` and `top` stop below
    // them, and nothing else in Rust refers to them); the static is zeroed at load and lives for
    // ever. AtomicU64 has interior mutability, and the fast paths' accesses are single-copy
    // atomic 64-bit loads and stores of the same words, so a shared reference is sound.
    Some(unsafe { &*(top as *const [AtomicU64; 2]) })
}

/// Every guard page, as `(address, cpu, emergency)`: below the boot CPU's stack, below each
/// secondary CPU's stack, and below each emergency stack.
pub fn guard_pages() -> impl Iterator<Item = (u64, usize, bool)> {
    let trap = (0..crate::MAX_CPUS)
        .filter_map(|cpu| bounds(cpu).map(|(bottom, _)| (bottom - GUARD_SIZE as u64, cpu, false)));
    let emergency_base = core::ptr::addr_of!(EMERGENCY_STACKS) as u64;
    let emergency = (0..crate::MAX_CPUS)
        .map(move |cpu| (emergency_base + (cpu * EMERGENCY_STRIDE) as u64, cpu, true));
    trap.chain(emergency)
}

/// All of the stacks with their guard pages: `[start, end)`, page-aligned.
pub fn region() -> (u64, u64) {
    extern "C" {
        static __stacks_start: u8;
        static __stacks_end: u8;
    }
    (
        core::ptr::addr_of!(__stacks_start) as u64,
        core::ptr::addr_of!(__stacks_end) as u64,
    )
}

/// The CPU whose guard page holds `address`, if any (whether it guards an emergency stack).
pub fn guard_page_of(address: u64) -> Option<(usize, bool)> {
    guard_pages()
        .find(|&(page, _, _)| address.wrapping_sub(page) < GUARD_SIZE as u64)
        .map(|(_, cpu, emergency)| (cpu, emergency))
}

/// `[bottom, top)` of the part of `cpu`'s stack that is painted and measured: the top
/// [`PRIMARY_MEASURED_SIZE`] bytes of the boot CPU's, all of a secondary CPU's.
fn measured(cpu: usize) -> Option<(u64, u64)> {
    let (bottom, top) = bounds(cpu)?;
    Some((bottom.max(top - PRIMARY_MEASURED_SIZE as u64), top))
}

/// Whether each CPU's stack was painted.
static PAINTED: [AtomicBool; crate::MAX_CPUS] = [const { AtomicBool::new(false) }; crate::MAX_CPUS];

/// Paints the unused part of this CPU's measured stack, below the caller's frame, the first
/// time it is called on this CPU, so that [`high_water`] can tell how deep it was used since
/// (the first guest entry calls it: everything after that starts at the top of the stack).
pub fn paint_once(cpu: usize) {
    let Some((bottom, _)) = measured(cpu) else {
        return;
    };
    if PAINTED
        .get(cpu)
        .is_none_or(|p| p.swap(true, Ordering::AcqRel))
    {
        return;
    }
    // SAFETY: writes the paint from `bottom` (page-aligned) up to at least 256 bytes below SP,
    // 128 bytes at a time: memory of this CPU's own stack that no live frame uses (interrupts
    // are masked at EL2, so nothing else pushes onto it while this runs; the margin covers this
    // function's own frame). If SP is below `bottom` nothing is written.
    unsafe {
        core::arch::asm!(
            "mov {end}, sp",
            "sub {end}, {end}, #256",
            "and {end}, {end}, #~127",
            "b 2f",
            "1: stp {paint}, {paint}, [{p}]",
            "stp {paint}, {paint}, [{p}, #16]",
            "stp {paint}, {paint}, [{p}, #32]",
            "stp {paint}, {paint}, [{p}, #48]",
            "stp {paint}, {paint}, [{p}, #64]",
            "stp {paint}, {paint}, [{p}, #80]",
            "stp {paint}, {paint}, [{p}, #96]",
            "stp {paint}, {paint}, [{p}, #112]",
            "add {p}, {p}, #128",
            "2: cmp {p}, {end}",
            "b.lo 1b",
            p = inout(reg) bottom => _,
            end = out(reg) _,
            paint = in(reg) PAINT,
            options(nostack),
        );
    }
}

/// The deepest `cpu`'s stack was used since it was painted, in bytes from its top, and the size
/// of its measured part (all of a secondary CPU's stack, the top [`PRIMARY_MEASURED_SIZE`] of
/// the boot CPU's: a mark equal to it means at least that deep); a high-water mark of 0 while it
/// was never painted (its CPU never entered a guest).
pub fn high_water(cpu: usize) -> Option<(u64, u64)> {
    let (bottom, top) = measured(cpu)?;
    if !PAINTED.get(cpu)?.load(Ordering::Acquire) {
        return Some((0, top - bottom));
    }
    let mut address = bottom;
    while address < top {
        // SAFETY: `address` is an 8-byte aligned word of `cpu`'s stack, mapped RW at EL2; a
        // volatile read of a word another CPU may be writing is only a stale value.
        if unsafe { (address as *const u64).read_volatile() } != PAINT {
            break;
        }
        address += 8;
    }
    Some((top - address, top - bottom))
}

extern "C" {
    fn reset_stack_and_call_asm(argument: usize, f: extern "C" fn(usize) -> !) -> !;
}

/// Resets SP to the top of this CPU's EL2 stack and calls `f(argument)` there: everything on
/// the stack is abandoned, so a CPU that leaves its guest from deep inside the trap path
/// returns to its loop at the same depth every time.
///
/// # Safety
/// Nothing on this CPU's stack may be used after the call: no other CPU may hold a reference
/// into it, no lock guard (or any value whose destructor matters) may be live on it, and no
/// pinned value may live on it. Interrupts must be masked (they are at EL2).
pub unsafe fn reset_stack_and_call(argument: usize, f: extern "C" fn(usize) -> !) -> ! {
    // SAFETY: guaranteed by the caller; `reset_stack_and_call_asm` (entry.S) only moves SP to
    // this CPU's stack top (from TPIDR_EL2) and branches to `f`.
    unsafe { reset_stack_and_call_asm(argument, f) }
}
