//! This CPU's EL2 physical timer (CNTHP, Arm ARM D11.2.4 "The EL2 physical timer"): the
//! hypervisor's own alarm, PPI 26 on every CPU, which interrupts EL2 whatever the guest does.
//!
//! Three users share it, each with its own deadline per CPU ([`Alarm`]): the console (a partial
//! line's quiet time, a full FIFO, typed bytes waiting for a partition's UART), partition
//! watchdogs (`vcpu::watchdog`) and the SMMU's event queue drain (`smmu::service`). The timer is programmed with the earliest of this CPU's
//! deadlines. When it fires, [`fired`] forgets every deadline that has passed (their owners
//! handle them and arm again: the console in its interrupt handler, the watchdog in the tick
//! after the exit), so a passed deadline can never keep the interrupt asserted.

use core::sync::atomic::{AtomicU64, Ordering};

use aarch64_cpu::registers::{Readable, Writeable, CNTHP_CTL_EL2, CNTPCT_EL0};

use super::registers::current_cpu;
use super::sysreg::CNTHP_CVAL_EL2;

/// The timer's interrupt (the EL2 physical timer PPI, GIC INTID 26, on QEMU virt and BCM2711).
pub const INTID: u32 = 26;

/// Who a deadline belongs to.
#[derive(Clone, Copy)]
pub enum Alarm {
    /// The console's drain and input retry.
    Console = 0,
    /// The partition watchdogs' next deadline on this CPU.
    Watchdog = 1,
    /// The SMMU's event queue drain (`smmu::service`), on the boot CPU.
    Smmu = 2,
}

const ALARMS: usize = 3;
const NONE: u64 = u64::MAX;

/// Each CPU's deadlines, by [`Alarm`]; `NONE` when unset. Only the CPU itself reads or writes its
/// row (with interrupts masked at EL2), so relaxed atomics suffice.
static DEADLINES: [[AtomicU64; ALARMS]; crate::MAX_CPUS] =
    [const { [const { AtomicU64::new(NONE) }; ALARMS] }; crate::MAX_CPUS];

fn row() -> Option<&'static [AtomicU64; ALARMS]> {
    DEADLINES.get(current_cpu())
}

/// Sets (`Some`) or clears (`None`) `alarm`'s deadline on this CPU and programs the timer for the
/// earliest one left (at once if it has already passed).
pub fn set(alarm: Alarm, deadline: Option<u64>) {
    let Some(row) = row() else { return };
    if let Some(slot) = row.get(alarm as usize) {
        slot.store(deadline.unwrap_or(NONE), Ordering::Relaxed);
    }
    program(row);
}

/// Each CPU's alarms that were due when its timer last fired (bit per [`Alarm`]), until their
/// owner takes them ([`take_due`]).
static DUE: [AtomicU64; crate::MAX_CPUS] = [const { AtomicU64::new(0) }; crate::MAX_CPUS];

/// The timer fired: forgets every deadline of this CPU that has passed (remembering it as due
/// for [`take_due`]) and programs the next.
pub fn fired() {
    let Some(row) = row() else { return };
    let now = CNTPCT_EL0.get();
    let mut due = 0;
    for (bit, slot) in row.iter().enumerate() {
        if slot.load(Ordering::Relaxed) <= now {
            slot.store(NONE, Ordering::Relaxed);
            due |= 1 << bit;
        }
    }
    if let Some(flags) = DUE.get(current_cpu()) {
        flags.store(flags.load(Ordering::Relaxed) | due, Ordering::Relaxed);
    }
    program(row);
}

/// Whether `alarm`'s deadline on this CPU passed at the last firing (and forgets it): so an
/// owner does its work only when its own alarm rang, not the other's (the console must not
/// drain other partitions' output on a real-time partition's CPU because a watchdog deadline
/// fired there).
pub fn take_due(alarm: Alarm) -> bool {
    let bit = 1 << (alarm as u64);
    // Only this CPU touches its flags (with interrupts masked): a load and a store suffice.
    DUE.get(current_cpu()).is_some_and(|flags| {
        let was = flags.load(Ordering::Relaxed);
        flags.store(was & !bit, Ordering::Relaxed);
        was & bit != 0
    })
}

fn program(row: &[AtomicU64; ALARMS]) {
    let earliest = row
        .iter()
        .map(|slot| slot.load(Ordering::Relaxed))
        .min()
        .unwrap_or(NONE);
    if earliest == NONE {
        CNTHP_CTL_EL2.write(CNTHP_CTL_EL2::ENABLE::CLEAR);
    } else {
        CNTHP_CVAL_EL2.set(earliest);
        CNTHP_CTL_EL2.write(CNTHP_CTL_EL2::ENABLE::SET + CNTHP_CTL_EL2::IMASK::CLEAR);
    }
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
}
