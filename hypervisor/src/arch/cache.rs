//! Data and instruction cache maintenance by virtual address.

use super::sysreg::CTR_EL0;
use tock_registers::interfaces::Readable;

/// CTR_EL0.DminLine, bits [19:16]: log2 of the smallest data cache line, in words.
const CTR_DMINLINE_SHIFT: u64 = 16;

/// log2 of the smallest data cache line of the CPU (CTR_EL0.DminLine), in bytes.
fn dcache_line_shift() -> u64 {
    2 + ((CTR_EL0.get() >> CTR_DMINLINE_SHIFT) & 0xf)
}

/// Which maintenance [`by_line`] does.
#[derive(Clone, Copy)]
enum Op {
    /// `dc cvac`: write back.
    Clean,
    /// `dc civac`: write back and drop.
    CleanInvalidate,
}

/// `dc <op>` on `$lines` lines from `$first`, `$line` bytes apart: four per iteration, then the
/// rest one at a time, then `dsb sy`. One loop for every data cache operation of [`by_line`].
macro_rules! dc_lines {
    ($op:literal, $first:expr, $lines:expr, $line:expr) => {
        core::arch::asm!(
            "cmp {n}, #4",
            "b.lo 2f",
            concat!("1: dc ", $op, ", {a}"),
            "add {a}, {a}, {line}",
            concat!("dc ", $op, ", {a}"),
            "add {a}, {a}, {line}",
            concat!("dc ", $op, ", {a}"),
            "add {a}, {a}, {line}",
            concat!("dc ", $op, ", {a}"),
            "add {a}, {a}, {line}",
            "sub {n}, {n}, #4",
            "cmp {n}, #4",
            "b.hs 1b",
            "2: cbz {n}, 4f",
            concat!("3: dc ", $op, ", {a}"),
            "add {a}, {a}, {line}",
            "subs {n}, {n}, #1",
            "b.ne 3b",
            "4: dsb sy",
            a = inout(reg) $first => _,
            n = inout(reg) $lines => _,
            line = in(reg) $line,
            options(nostack),
        )
    };
}

/// Runs `op` on every data cache line of `[start, start + len)`, four lines per iteration (the
/// loop's own instructions were half the cost of a line at a time), then `dsb sy`.
fn by_line(op: Op, start: u64, len: u64) {
    let shift = dcache_line_shift();
    let line = 1 << shift;
    let first = start & !(line - 1);
    let end = start.saturating_add(len);
    // `first <= start <= end`; a partial last line counts (a shift, not a division).
    let span = end - first;
    let lines = (span >> shift) + u64::from(span & (line - 1) != 0);
    // SAFETY: `dc cvac`/`dc civac` on the `lines` lines from `first`, addresses mapped at EL2
    // (the callers' ranges, rounded out to whole lines): they only write back (and drop) cache
    // lines. Groups of four first, then the remaining `lines % 4` one at a time; nothing if
    // `lines` is 0.
    unsafe {
        match op {
            Op::Clean => dc_lines!("cvac", first, lines, line),
            Op::CleanInvalidate => dc_lines!("civac", first, lines, line),
        }
    }
}

/// Cleans `[start, start + len)` to the point of coherency, so that a CPU or guest with its MMU
/// off (non-cacheable accesses) sees what this CPU wrote through its cache.
pub fn clean_dcache_range(start: u64, len: u64) {
    by_line(Op::Clean, start, len);
}

/// Cleans and invalidates `[start, start + len)` to the point of coherency, so no stale line of
/// a previous run can later be written back over what a restarted guest writes.
pub fn clean_invalidate_dcache_range(start: u64, len: u64) {
    by_line(Op::CleanInvalidate, start, len);
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
