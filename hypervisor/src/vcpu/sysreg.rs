//! What a trapped system register access or system instruction means for a partition (other
//! than the SGI registers, which `policy` handles): set/way cache maintenance, ID registers,
//! the PMU, profiling and debug registers ([`crate::trap::sysreg`] classifies, [`super::traps`]
//! holds the values). Each is carried out on the vCPU's own CPU through [`SysRegMachine`].

use bulkhead_config::model::Pmu;

use crate::system::Partition;
use crate::trap::sysreg::{set_way_operand, PmuRegister, SysRegClass};
use crate::trap::SysRegId;

use super::traps;

/// What the system-register policy asks of the machine (a supertrait of
/// [`super::Machine`]): all of it acts on this CPU, which runs only this vCPU.
pub trait SysRegMachine {
    /// Cleans and invalidates every line of `partition`'s RAM to the point of coherency, by
    /// address (what a set/way loop asks for, on the partition's memory only).
    fn clean_partition_ram(&mut self, partition: &Partition);
    /// The hardware's ID register at op0 3, op1 0, CRn 0, (`crm`, `op2`), `crm` in 1..=7.
    fn id_register(&self, crm: u8, op2: u8) -> u64;
    /// Reads this CPU's PMU register `register` (0 for an encoding that is no PMU register).
    fn pmu_read(&mut self, register: SysRegId) -> u64;
    /// Writes this CPU's PMU register `register` (nothing for one that is no PMU register).
    fn pmu_write(&mut self, register: SysRegId, value: u64);
    /// PMCR_EL0.N: the event counters this CPU has.
    fn pmu_counters(&self) -> u8;
    /// MDSCR_EL1 of this CPU.
    fn monitor_control(&self) -> u64;
    /// Sets MDSCR_EL1 of this CPU.
    fn set_monitor_control(&mut self, value: u64);
    /// Makes the vCPU on this CPU take a synchronous external abort at guest VA `far` (a
    /// store if `write`) at the trapped instruction, through its own vectors, when it resumes.
    fn inject_data_abort(&mut self, far: u64, write: bool);
    /// The guest's own EL1 exception registers on this CPU (for fault reports).
    fn guest_exception(&self) -> crate::partition::GuestException;
}

/// MDSCR_EL1 bits a partition may set: SS [0] (software step), TDCC [12] (trap EL0 DCC to
/// EL1), KDE [13] (debug exceptions at EL1). MDE [15] (breakpoints and watchpoints) stays clear:
/// they are not the partition's.
const MDSCR_WRITABLE: u64 = (1 << 0) | (1 << 12) | (1 << 13);
/// OSLSR_EL1 a partition reads: OSLM = 0b10 (an OS lock is implemented), unlocked.
const OSLSR_UNLOCKED: u64 = 0b1000;

/// Carries out the access to `register` (`read`, or a write of `value`) of `partition`'s vCPU:
/// `None` if it is nothing this policy handles (the caller reports a fault); otherwise
/// `Some(read value)` (`Some(None)` for a write).
pub fn access<M: SysRegMachine>(
    partition: &Partition,
    register: SysRegId,
    read: bool,
    value: u64,
    m: &mut M,
) -> Option<Option<u64>> {
    let result = match SysRegClass::of(register) {
        SysRegClass::SetWay => {
            // One flush per level of a whole-cache loop: at the line of set 0, way 0. Any other
            // line's operation is done by that flush (set/way is only meaningful for a whole
            // cache); every line is cleaned, never discarded (DC ISW too).
            if set_way_operand(value).1 {
                m.clean_partition_ram(partition);
            }
            None
        }
        SysRegClass::Id { crm, op2 } => {
            read.then(|| traps::id_register(crm, op2, m.id_register(crm, op2), partition.pmu))
        }
        SysRegClass::Pmu(pmu_register) => match partition.pmu {
            Pmu::Deny => read.then_some(0),
            Pmu::Virtual => virtual_pmu(pmu_register, register, read, value, m),
        },
        // Read as zero, writes ignored: breakpoints, watchpoints, claim tags, OS lock and double
        // lock, power-down, ROM address, the DCC, and profiling.
        SysRegClass::Profiling | SysRegClass::Debug => read.then_some(0),
        SysRegClass::OsLockStatus => read.then_some(OSLSR_UNLOCKED),
        SysRegClass::MonitorControl => {
            if read {
                Some(m.monitor_control() & MDSCR_WRITABLE)
            } else {
                m.set_monitor_control(value & MDSCR_WRITABLE);
                None
            }
        }
        SysRegClass::Other => return None,
    };
    Some(result)
}

/// PMSELR_EL0: the counter PMXEVTYPER_EL0 and PMXEVCNTR_EL0 reach.
const PMSELR: SysRegId = pmu_id(9, 12, 5);
/// PMXEVTYPER_EL0.
const PMXEVTYPER: SysRegId = pmu_id(9, 13, 1);
/// PMXEVCNTR_EL0.
const PMXEVCNTR: SysRegId = pmu_id(9, 13, 2);

/// The EL0 PMU register at op0 3, op1 3, (`crn`, `crm`, `op2`).
const fn pmu_id(crn: u8, crm: u8, op2: u8) -> SysRegId {
    SysRegId {
        op0: 3,
        op1: 3,
        crn,
        crm,
        op2,
    }
}

/// A PMU access of a partition with a virtual PMU, on its vCPU's own PMU.
fn virtual_pmu<M: SysRegMachine>(
    class: PmuRegister,
    register: SysRegId,
    read: bool,
    value: u64,
    m: &mut M,
) -> Option<u64> {
    let present = |n: u8, m: &M| n < m.pmu_counters();
    if register == PMXEVTYPER || register == PMXEVCNTR {
        // Through PMSELR_EL0: a selector past the counters (or the cycle counter's, for
        // PMXEVCNTR) is CONSTRAINED UNPREDICTABLE, possibly UNDEFINED at EL2: RAZ/WI instead.
        let selected = (m.pmu_read(PMSELR) & 0x1f) as u8;
        let cycle_filter = selected == 31 && register == PMXEVTYPER;
        if !cycle_filter && !present(selected, m) {
            return read.then_some(0);
        }
    }
    if register == PMSELR && !read {
        m.pmu_write(register, value & 0x1f);
        return None;
    }
    match class {
        PmuRegister::EventType(Some(n)) | PmuRegister::EventCounter(n) if !present(n, m) => {
            // A counter the CPU does not have: RAZ/WI (the hardware would UNDEF).
            read.then_some(0)
        }
        PmuRegister::EventType(_) if !read => {
            m.pmu_write(register, traps::event_type(value));
            None
        }
        PmuRegister::Control if !read => {
            m.pmu_write(register, value & traps::PMCR_WRITABLE);
            None
        }
        // No overflow interrupt reaches a partition: the enables read 0, writes ignored.
        PmuRegister::InterruptEnable => read.then_some(0),
        _ if read => Some(m.pmu_read(register)),
        _ => {
            m.pmu_write(register, value);
            None
        }
    }
}
