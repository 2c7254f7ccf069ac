//! Per-CPU trap counters, by cause, reported when a partition stops (`HIL:TRAPS ...`), so the
//! cost of virtualization can be read off a run: in a static partitioning hypervisor almost
//! every trap should be interrupt injection.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::MAX_CPUS;

/// Why the guest left (one counter each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum Cause {
    /// HVC/SMC through the general dispatcher.
    Call = 0,
    /// Emulated MMIO (virtual GIC, virtual UART).
    Mmio = 1,
    /// Trapped system register (SGI generation).
    SysReg = 2,
    /// Physical interrupt through the general path.
    Irq = 3,
    /// WFI/WFE.
    Wfx = 4,
    /// A fault that stopped the partition.
    Fault = 5,
}

/// Number of causes counted in Rust (the three assembly fast paths are counted in `vectors.S`
/// and `console_fast_path.S`).
const CAUSES: usize = 6;
/// Names, in [`Cause`] order, then the fast paths'.
const NAMES: [&str; CAUSES + 3] = [
    "call",
    "mmio",
    "sysreg",
    "irq",
    "wfx",
    "fault",
    "call-fast",
    "mmio-fast",
    "irq-fast",
];

static COUNTS: [[AtomicU64; CAUSES]; MAX_CPUS] =
    [const { [const { AtomicU64::new(0) }; CAUSES] }; MAX_CPUS];
/// The counter value when each CPU last entered its guest.
static SINCE: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

/// Counts one trap of `cause` on `cpu` (called only on `cpu` itself: each counter has one
/// writer, so a plain load and store do, without an exclusive read-modify-write).
pub fn count(cpu: usize, cause: Cause) {
    if let Some(counter) = COUNTS.get(cpu).and_then(|c| c.get(cause as usize)) {
        counter.store(
            counter.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Relaxed,
        );
    }
}

/// The counts of `cpu` by cause, in [`Cause`] order.
pub fn counts(cpu: usize) -> [u64; CAUSES] {
    let mut out = [0u64; CAUSES];
    if let Some(counters) = COUNTS.get(cpu) {
        for (slot, counter) in out.iter_mut().zip(counters) {
            *slot = counter.load(Ordering::Relaxed);
        }
    }
    out
}

/// Starts counting afresh on `cpu` (its vCPU is entered at counter value `now`).
pub fn reset(cpu: usize, now: u64, fast: &[&AtomicU64; 3]) {
    if let Some(counters) = COUNTS.get(cpu) {
        for counter in counters {
            counter.store(0, Ordering::Relaxed);
        }
    }
    for counter in fast {
        counter.store(0, Ordering::Relaxed);
    }
    if let Some(since) = SINCE.get(cpu) {
        since.store(now, Ordering::Relaxed);
    }
}

/// Writes `HIL:TRAPS partition=<name> cpu=<n> ticks=<guest counter ticks> <cause>=<count>...`.
pub fn report(
    out: &mut dyn core::fmt::Write,
    partition: &str,
    cpu: usize,
    now: u64,
    fast: [u64; 3],
) {
    let ticks = now.saturating_sub(SINCE.get(cpu).map_or(0, |s| s.load(Ordering::Relaxed)));
    let _ = write!(
        out,
        "HIL:TRAPS partition={partition} cpu={cpu} ticks={ticks}"
    );
    if let Some(counters) = COUNTS.get(cpu) {
        for (name, counter) in NAMES.iter().zip(counters.iter()) {
            let _ = write!(out, " {name}={}", counter.load(Ordering::Relaxed));
        }
    }
    for (name, value) in NAMES.iter().skip(CAUSES).zip(fast) {
        let _ = write!(out, " {name}={value}");
    }
}
