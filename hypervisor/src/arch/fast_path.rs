//! Data shared with the assembly fast paths in `vectors.S`: constant hypercall answers and the
//! list register value that injects this CPU's virtual timer.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// One constant SMCCC answer: `function` returns `values` in x0..x3.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct FastCall {
    /// The 32-bit function ID, zero-extended (0 ends the table).
    pub function: u64,
    /// x0..x3.
    pub values: [u64; 4],
}

const _: () = assert!(core::mem::size_of::<FastCall>() == 40);

/// The most constant answers the fast path holds.
pub const MAX_FAST_CALLS: usize = 15;

/// The table `fast_hvc` scans; the entry after the last is all zeros.
#[no_mangle]
static mut FAST_CALLS: [FastCall; MAX_FAST_CALLS + 1] = [FastCall {
    function: 0,
    values: [0; 4],
}; MAX_FAST_CALLS + 1];

/// Per CPU: the ICH_LR<n>_EL2 value injecting the vCPU's virtual timer, or 0 (use the general
/// path).
#[no_mangle]
static VTIMER_LR: [AtomicU64; crate::MAX_CPUS] = [const { AtomicU64::new(0) }; crate::MAX_CPUS];

/// Per CPU: an interrupt `fast_irq` acknowledged but did not handle (1023 = none).
#[no_mangle]
static PENDING_ACK: [AtomicU32; crate::MAX_CPUS] =
    [const { AtomicU32::new(crate::vgic::SPURIOUS) }; crate::MAX_CPUS];

/// Fills the constant-answer table.
///
/// # Safety
/// Must be called before any CPU enters a guest (nothing may read the table concurrently).
pub unsafe fn set_fast_calls(calls: &[FastCall]) {
    let table = core::ptr::addr_of_mut!(FAST_CALLS);
    for (index, call) in calls.iter().take(MAX_FAST_CALLS).enumerate() {
        // SAFETY: the caller guarantees no concurrent reader; `index` is within the table.
        unsafe { (*table)[index] = *call };
    }
}

/// Sets the list register value for this CPU's virtual timer (0 disables the fast path).
pub fn set_vtimer_lr(cpu: usize, value: u64) {
    if let Some(slot) = VTIMER_LR.get(cpu) {
        slot.store(value, Ordering::Release);
    }
}

/// Takes the interrupt the fast path acknowledged and passed on, if any.
pub fn take_pending_ack(cpu: usize) -> Option<u32> {
    let intid = PENDING_ACK
        .get(cpu)?
        .swap(crate::vgic::SPURIOUS, Ordering::AcqRel);
    (intid != crate::vgic::SPURIOUS).then_some(intid)
}

/// The fast paths' counters of `cpu`: (calls, timer interrupts). They live above the top of
/// the CPU's EL2 stack ([`super::stack::fast_counter_slots`]), where SP reaches them.
pub fn fast_counts(cpu: usize) -> [u64; 2] {
    fast_counters(cpu).map_or([0; 2], |slots| slots.map(|c| c.load(Ordering::Relaxed)))
}

/// The fast paths' counters of `cpu`, for resetting.
pub fn fast_counters(cpu: usize) -> Option<[&'static AtomicU64; 2]> {
    let [calls, irqs] = super::stack::fast_counter_slots(cpu)?;
    Some([calls, irqs])
}
