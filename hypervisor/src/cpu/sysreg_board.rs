//! The board's [`SysRegMachine`]: the system-register policy's requests carried out on this
//! CPU's registers (`arch::trap_regs`), and the trap controls each CPU sets before it first
//! enters its guest.

use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use crate::arch::{self, partition_ram::PartitionRam, trap_regs};
use crate::system::Partition;
use crate::trap::SysRegId;
use crate::vcpu::sysreg::SysRegMachine;
use crate::vcpu::traps::{self, DebugFeatures};

use super::Board;

impl SysRegMachine for Board<'_> {
    fn clean_partition_ram(&mut self, partition: &Partition) {
        PartitionRam::of(partition).clean_invalidate_all();
    }

    fn id_register(&self, crm: u8, op2: u8) -> u64 {
        trap_regs::id_register(crm, op2)
    }

    fn pmu_read(&mut self, register: SysRegId) -> u64 {
        if register.op0 != 3 {
            return 0;
        }
        trap_regs::pmu_read(register.op1, register.crn, register.crm, register.op2)
    }

    fn pmu_write(&mut self, register: SysRegId, value: u64) {
        if register.op0 == 3 {
            trap_regs::pmu_write(
                register.op1,
                register.crn,
                register.crm,
                register.op2,
                value,
            );
        }
    }

    fn pmu_counters(&self) -> u8 {
        features().counters
    }

    fn monitor_control(&self) -> u64 {
        trap_regs::monitor_control()
    }

    fn set_monitor_control(&mut self, value: u64) {
        trap_regs::set_monitor_control(value);
    }

    fn guest_exception(&self) -> crate::partition::GuestException {
        let (esr, elr, far, vbar) = trap_regs::guest_exception();
        crate::partition::GuestException {
            esr,
            elr,
            far,
            vbar,
        }
    }

    fn inject_data_abort(&mut self, far: u64, write: bool) {
        let cpu = arch::current_cpu();
        if let (Some(kind), Some(address)) = (PENDING_KIND.get(cpu), PENDING_FAR.get(cpu)) {
            address.store(far, Ordering::Relaxed);
            kind.store(if write { WRITE } else { READ }, Ordering::Relaxed);
        }
    }
}

/// Per CPU: a data abort to inject into its guest when the trap's outcome is applied (none,
/// [`READ`] or [`WRITE`]), and its address. Each is written and read by its own CPU only.
static PENDING_KIND: [AtomicU8; crate::MAX_CPUS] = [const { AtomicU8::new(NONE) }; crate::MAX_CPUS];
static PENDING_FAR: [AtomicU64; crate::MAX_CPUS] = [const { AtomicU64::new(0) }; crate::MAX_CPUS];
const NONE: u8 = 0;
const READ: u8 = 1;
const WRITE: u8 = 2;

/// Injects the data abort the policy asked for on this trap, if any: returns where the guest
/// then resumes (its vector), or `elr` when there is none (one load).
#[inline(always)]
pub fn apply_injection(cpu: usize, elr: u64) -> u64 {
    let (Some(kind), Some(address)) = (PENDING_KIND.get(cpu), PENDING_FAR.get(cpu)) else {
        return elr;
    };
    let pending = kind.load(Ordering::Relaxed);
    if pending == NONE {
        return elr;
    }
    kind.store(NONE, Ordering::Relaxed);
    trap_regs::inject_data_abort(elr, address.load(Ordering::Relaxed), pending == WRITE)
}

/// This CPU's debug and PMU features.
fn features() -> DebugFeatures {
    let (dfr0, fine_grained_traps, counters) = trap_regs::debug_features();
    DebugFeatures {
        dfr0,
        fine_grained_traps,
        counters,
    }
}

/// Sets this CPU's MDCR_EL2 and HCR_EL2 trap bits for `partition` (after
/// `arch::prepare_el2_for_guests`).
pub fn set_trap_controls(partition: &Partition) {
    trap_regs::set_trap_controls(
        traps::mdcr_el2(&features(), partition.pmu),
        traps::hcr_trap_bits(),
    );
}

/// Clears what a vCPU's previous run left in this CPU's PMU and MDSCR_EL1.
pub fn reset_vcpu() {
    trap_regs::reset_pmu();
    arch::trap_regs::set_monitor_control(0);
}
