//! Data shared with the doorbell fast path (`doorbell_fast_path.S`): a doorbell ring answered at
//! the sender's synchronous vector and taken at the receiver's IRQ vector, with nothing saved
//! and no lock (GICv3 only).
//!
//! The tables are written by the interrupt glue (`interrupts::fast_doorbells`) from the
//! partitions' virtual distributors, and read by the assembly:
//! - [`FAST_RINGS`], per sender CPU and doorbell index: the ICC_SGI1R_EL1 value that sends
//!   [`crate::vgic::DOORBELL_SGI`] to the CPU the peer routes its doorbell to, with the index of
//!   the receiving flag in bits [63:56] (RES0 in the register; masked off before the write), and
//!   the address of the peer partition's state (the ring is taken only while it reads
//!   `Running`, 0). 0 = the general path.
//! - [`FAST_DOORBELL_FLAGS`], per receiving CPU and the receiver's doorbell index: a byte the
//!   sender sets to 1 before its SGI and the receiver clears before it injects. Bytes, so
//!   neither side needs a read-modify-write (exclusives) to share them.
//! - [`FAST_DOORBELL_LRS`], per receiving CPU and doorbell index: the ICH_LR<n>_EL2 value that
//!   injects that doorbell into the vCPU (its INTID, priority, group), or 0 while the guest
//!   has it disabled or routed elsewhere (the general path then decides).
//! - [`FAST_ALL_LRS`]: the bitmap of implemented list registers. The receiver injects only
//!   when every one is empty (so list register 0 is free and no other holds the same INTID);
//!   anything else goes to the general path, which merges.

use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use bulkhead_config::MAX_CHANNELS;

/// One sender table entry (keep in sync with `doorbell_fast_path.S`: 16 bytes).
#[repr(C)]
pub struct FastRing {
    /// Flag index << 56 | ICC_SGI1R_EL1 value; 0 = the general path.
    word: AtomicU64,
    /// The address of the peer partition's state byte.
    state: AtomicU64,
}

const _: () = assert!(core::mem::size_of::<FastRing>() == 16);
const _: () = assert!(
    MAX_CHANNELS == 16,
    "doorbell_fast_path.S shifts by log2(16)"
);
// A flag index (cpu * MAX_CHANNELS + slot) fits the byte above the SGI1R value.
const _: () = assert!(crate::MAX_CPUS * MAX_CHANNELS <= 256);

/// Per sender CPU, per doorbell index.
#[no_mangle]
static FAST_RINGS: [[FastRing; MAX_CHANNELS]; crate::MAX_CPUS] = [const {
    [const {
        FastRing {
            word: AtomicU64::new(0),
            state: AtomicU64::new(0),
        }
    }; MAX_CHANNELS]
}; crate::MAX_CPUS];

/// Per receiving CPU, per doorbell index of the partition running there.
#[no_mangle]
static FAST_DOORBELL_FLAGS: [[AtomicU8; MAX_CHANNELS]; crate::MAX_CPUS] =
    [const { [const { AtomicU8::new(0) }; MAX_CHANNELS] }; crate::MAX_CPUS];

/// Per receiving CPU, per doorbell index: the list register value, or 0.
#[no_mangle]
static FAST_DOORBELL_LRS: [[AtomicU64; MAX_CHANNELS]; crate::MAX_CPUS] =
    [const { [const { AtomicU64::new(0) }; MAX_CHANNELS] }; crate::MAX_CPUS];

/// The implemented list registers, as a bitmap (every CPU has the same GIC).
#[no_mangle]
static FAST_ALL_LRS: AtomicU64 = AtomicU64::new(0);

/// Records how many list registers the CPUs have.
pub fn set_list_register_count(count: usize) {
    let mask = if count >= 64 {
        u64::MAX
    } else {
        (1u64 << count).wrapping_sub(1)
    };
    FAST_ALL_LRS.store(mask, Ordering::Relaxed);
}

/// Sets sender CPU `cpu`'s entry for its doorbell `index`: ring `target_cpu`'s flag `slot` with
/// `sgi1r`, while the byte at `peer_state` reads 0; `None` (or a zero `sgi1r`) = the general
/// path.
pub fn set_ring(cpu: usize, index: usize, ring: Option<(u64, usize, usize, usize)>) {
    let Some(entry) = FAST_RINGS.get(cpu).and_then(|row| row.get(index)) else {
        return;
    };
    let word = ring.and_then(|(sgi1r, target_cpu, slot, peer_state)| {
        let flag = target_cpu
            .checked_mul(MAX_CHANNELS)?
            .checked_add(slot)
            .filter(|_| slot < MAX_CHANNELS && target_cpu < crate::MAX_CPUS)?;
        entry.state.store(peer_state as u64, Ordering::Relaxed);
        (sgi1r != 0 && sgi1r >> 56 == 0).then_some(((flag as u64) << 56) | sgi1r)
    });
    // Release: the state address is in place before the word that makes the entry live.
    entry.word.store(word.unwrap_or(0), Ordering::Release);
}

/// Sets receiving CPU `cpu`'s list register value for doorbell `slot` (0: the general path).
pub fn set_doorbell_lr(cpu: usize, slot: usize, value: u64) {
    if let Some(lr) = FAST_DOORBELL_LRS.get(cpu).and_then(|row| row.get(slot)) {
        lr.store(value, Ordering::Release);
    }
}

/// Takes (clears) receiving CPU `cpu`'s raised flags: bit `slot` set for each.
pub fn take_flags(cpu: usize) -> u32 {
    let Some(row) = FAST_DOORBELL_FLAGS.get(cpu) else {
        return 0;
    };
    let mut taken = 0;
    for (slot, flag) in row.iter().enumerate() {
        if flag.swap(0, Ordering::AcqRel) != 0 {
            taken |= 1 << slot;
        }
    }
    taken
}

/// The fast path's tables for CPU `cpu` as receiver go back to "general path" and its flags
/// are dropped (its vCPU stopped).
pub fn clear_receiver(cpu: usize) {
    for slot in 0..MAX_CHANNELS {
        set_doorbell_lr(cpu, slot, 0);
    }
    let _ = take_flags(cpu);
}
