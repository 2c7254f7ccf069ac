//! The fake machine's PMU, debug and ID registers and its record of RAM cleans, for the host
//! tests of [`super::sysreg`].

use std::collections::BTreeMap;
use std::vec::Vec;

use crate::system::Partition;
use crate::trap::SysRegId;

use super::fake::FakeMachine;
use super::sysreg::SysRegMachine;

/// The registers behind [`SysRegMachine`], as plain data.
#[derive(Debug, Default)]
pub struct FakeSysRegs {
    /// Partition ids whose RAM was cleaned, in order.
    pub cleaned: Vec<usize>,
    /// The hardware's ID registers by (CRm, op2); absent ones read 0.
    pub id: BTreeMap<(u8, u8), u64>,
    /// The PMU registers as written (absent ones read 0).
    pub pmu: BTreeMap<(u8, u8, u8, u8, u8), u64>,
    /// PMCR_EL0.N.
    pub counters: u8,
    /// MDSCR_EL1.
    pub mdscr: u64,
    /// Injected data aborts: (FAR, write).
    pub injected: Vec<(u64, bool)>,
    /// The guest's EL1 exception registers a fault report reads.
    pub guest_exception: crate::partition::GuestException,
}

fn key(r: SysRegId) -> (u8, u8, u8, u8, u8) {
    (r.op0, r.op1, r.crn, r.crm, r.op2)
}

impl FakeSysRegs {
    /// The PMU register `register` as last written.
    pub fn pmu_value(&self, register: SysRegId) -> Option<u64> {
        self.pmu.get(&key(register)).copied()
    }
}

impl SysRegMachine for FakeMachine {
    fn clean_partition_ram(&mut self, partition: &Partition) {
        self.sysregs.cleaned.push(partition.id);
    }
    fn id_register(&self, crm: u8, op2: u8) -> u64 {
        self.sysregs.id.get(&(crm, op2)).copied().unwrap_or(0)
    }
    fn pmu_read(&mut self, register: SysRegId) -> u64 {
        self.sysregs.pmu.get(&key(register)).copied().unwrap_or(0)
    }
    fn pmu_write(&mut self, register: SysRegId, value: u64) {
        self.sysregs.pmu.insert(key(register), value);
    }
    fn pmu_counters(&self) -> u8 {
        self.sysregs.counters
    }
    fn monitor_control(&self) -> u64 {
        self.sysregs.mdscr
    }
    fn set_monitor_control(&mut self, value: u64) {
        self.sysregs.mdscr = value;
    }
    fn inject_data_abort(&mut self, far: u64, write: bool) {
        self.sysregs.injected.push((far, write));
    }
    fn guest_exception(&self) -> crate::partition::GuestException {
        self.sysregs.guest_exception
    }
}
