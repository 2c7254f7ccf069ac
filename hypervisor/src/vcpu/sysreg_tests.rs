//! Host tests of the system-register policy through `handle_exit`: set/way cache maintenance,
//! ID registers, a denied and a virtual PMU, debug registers and the OS lock.

use bulkhead_config::model::{OnStop, Pmu};

use super::fake::{system, FakeMachine, RAM};
use super::machine::Power;
use super::outcome::{Next, Outcome};
use super::policy::{handle_exit, Trap};
use crate::system::System;
use crate::trap::{Exit, SysRegId};
use crate::vgic::distributor::GicVersion;

/// ESR_EL2 of a 32-bit MSR/MRS/system instruction trap.
const ESR: u64 = (0x18 << 26) | (1 << 25);
/// The RTOS's CPU (partition 2, one vCPU) in the fake system.
const RTOS: usize = 2;

fn machine() -> FakeMachine {
    let mut m = FakeMachine::new(GicVersion::V3);
    m.power = [Power::On, Power::On, Power::On, Power::Off];
    m.in_guest = [true, true, true, false];
    m.sysregs.counters = 6;
    m
}

fn reg(op0: u8, op1: u8, crn: u8, crm: u8, op2: u8) -> SysRegId {
    SysRegId {
        op0,
        op1,
        crn,
        crm,
        op2,
    }
}

fn access(
    system: &System,
    m: &mut FakeMachine,
    register: SysRegId,
    read: bool,
    xt: u64,
) -> Outcome {
    let mut x = [0u64; 31];
    x[4] = xt;
    let trap = Trap {
        exit: Exit::SysReg {
            register,
            rt: 4,
            read,
        },
        esr: ESR,
        x: &x,
        elr: RAM + 0x80,
    };
    handle_exit(system, RTOS, &trap, m)
}

fn read(system: &System, m: &mut FakeMachine, register: SysRegId) -> Option<u64> {
    let outcome = access(system, m, register, true, 0);
    assert_eq!(outcome.step, 4);
    assert_eq!(outcome.next, Next::Resume);
    outcome.load.map(|(rt, value)| {
        assert_eq!(rt, 4);
        value
    })
}

fn with_pmu(pmu: Pmu) -> System {
    let mut system = system(OnStop::Off);
    system.partitions[1].pmu = pmu;
    system
}

const DC_CISW: SysRegId = SysRegId {
    op0: 1,
    op1: 0,
    crn: 7,
    crm: 14,
    op2: 2,
};
const PMCCFILTR: SysRegId = SysRegId {
    op0: 3,
    op1: 3,
    crn: 14,
    crm: 15,
    op2: 7,
};
const PMCR: SysRegId = SysRegId {
    op0: 3,
    op1: 3,
    crn: 9,
    crm: 12,
    op2: 0,
};

#[test]
fn a_set_way_loop_cleans_the_partitions_own_ram_once_per_level() {
    let system = system(OnStop::Off);
    let mut m = machine();
    // A whole-cache loop over two levels, 4 ways x 4 sets each (set bits [7:6], way [31:30]).
    for level in 0..2u64 {
        for way in 0..4u64 {
            for set in 0..4u64 {
                let xt = (way << 30) | (set << 6) | (level << 1);
                assert_eq!(
                    access(&system, &mut m, DC_CISW, false, xt),
                    Outcome::step(4)
                );
            }
        }
    }
    assert_eq!(
        m.sysregs.cleaned,
        [2, 2],
        "the RTOS's RAM (id 2), once per level"
    );
    // DC ISW (invalidate) is cleaned too, never discarded: the same clean.
    access(&system, &mut m, reg(1, 0, 7, 6, 2), false, 0);
    assert_eq!(m.sysregs.cleaned.len(), 3);
}

#[test]
fn a_denied_pmu_reads_as_zero_ignores_writes_and_is_not_in_the_id_registers() {
    let system = with_pmu(Pmu::Deny);
    let mut m = machine();
    m.sysregs.id.insert((5, 0), 0x1030_5106);
    m.sysregs.pmu.insert((3, 3, 9, 12, 0), 0x4100_3000);
    assert_eq!(read(&system, &mut m, PMCR), Some(0));
    access(&system, &mut m, PMCCFILTR, false, 1 << 27);
    assert_eq!(
        m.sysregs.pmu_value(PMCCFILTR),
        None,
        "nothing reached the PMU"
    );
    let dfr0 = read(&system, &mut m, reg(3, 0, 0, 5, 0)).unwrap();
    assert_eq!((dfr0 >> 8) & 0xf, 0, "PMUVer 0: no PMU");
    assert_eq!(dfr0 & 0xf, 6, "DebugVer as the hardware has it");
}

#[test]
fn a_virtual_pmu_never_counts_at_el2() {
    let system = with_pmu(Pmu::Virtual);
    let mut m = machine();
    m.sysregs.id.insert((5, 0), 0x1030_5106);
    // The attack: count cycles at EL2 (PMCCFILTR_EL0.NSH) and an event at EL2 on counter 2.
    access(&system, &mut m, PMCCFILTR, false, 1 << 27);
    assert_eq!(m.sysregs.pmu_value(PMCCFILTR), Some(0));
    let pmevtyper2 = reg(3, 3, 14, 12, 2);
    access(&system, &mut m, pmevtyper2, false, (1 << 27) | 0x11);
    assert_eq!(m.sysregs.pmu_value(pmevtyper2), Some(0x11));
    // Counters past PMCR.N: RAZ/WI.
    let pmevcntr7 = reg(3, 3, 14, 8, 7);
    access(&system, &mut m, pmevcntr7, false, 5);
    assert_eq!(m.sysregs.pmu_value(pmevcntr7), None);
    assert_eq!(read(&system, &mut m, pmevcntr7), Some(0));
    // PMXEVTYPER through a selector past the counters: RAZ/WI; the cycle filter through 31.
    let pmselr = reg(3, 3, 9, 12, 5);
    let pmxevtyper = reg(3, 3, 9, 13, 1);
    access(&system, &mut m, pmselr, false, 20);
    access(&system, &mut m, pmxevtyper, false, 0x11);
    assert_eq!(m.sysregs.pmu_value(pmxevtyper), None);
    access(&system, &mut m, pmselr, false, 0xff);
    assert_eq!(m.sysregs.pmu_value(pmselr), Some(31));
    access(&system, &mut m, pmxevtyper, false, (1 << 27) | (1 << 31));
    assert_eq!(m.sysregs.pmu_value(pmxevtyper), Some((1 << 31) | (1 << 26)));
    // The cycle counter itself is the vCPU's.
    let pmccntr = reg(3, 3, 9, 13, 0);
    m.sysregs.pmu.insert((3, 3, 9, 13, 0), 1234);
    assert_eq!(read(&system, &mut m, pmccntr), Some(1234));
    // PMCR: only its architected control bits.
    access(&system, &mut m, PMCR, false, u64::MAX);
    assert_eq!(m.sysregs.pmu_value(PMCR), Some(0xff));
    // No overflow interrupt.
    let pmintenset = reg(3, 0, 9, 14, 1);
    access(&system, &mut m, pmintenset, false, u64::MAX);
    assert_eq!(m.sysregs.pmu_value(pmintenset), None);
    let dfr0 = read(&system, &mut m, reg(3, 0, 0, 5, 0)).unwrap();
    assert_eq!((dfr0 >> 8) & 0xf, 1, "PMUv3 is there");
}

#[test]
fn debug_registers_os_lock_and_dcc_read_zero_and_mdscr_keeps_only_step_bits() {
    let system = system(OnStop::Off);
    let mut m = machine();
    // DBGBCR0_EL1, DBGWVR1_EL1, OSLAR_EL1, OSDLR_EL1, MDCCSR_EL0, DBGDTR_EL0, MDRAR_EL1.
    for register in [
        reg(2, 0, 0, 0, 5),
        reg(2, 0, 0, 1, 6),
        reg(2, 0, 1, 0, 4),
        reg(2, 0, 1, 3, 4),
        reg(2, 3, 0, 1, 0),
        reg(2, 3, 0, 4, 0),
        reg(2, 0, 1, 0, 0),
    ] {
        assert_eq!(
            access(&system, &mut m, register, false, u64::MAX),
            Outcome::step(4)
        );
        assert_eq!(read(&system, &mut m, register), Some(0), "{register:?}");
    }
    assert_eq!(
        read(&system, &mut m, reg(2, 0, 1, 1, 4)),
        Some(0b1000),
        "OSLSR: unlocked"
    );
    let mdscr = reg(2, 0, 0, 2, 2);
    access(&system, &mut m, mdscr, false, u64::MAX);
    assert_eq!(
        m.sysregs.mdscr,
        (1 << 0) | (1 << 12) | (1 << 13),
        "SS, TDCC, KDE; no MDE"
    );
    assert_eq!(read(&system, &mut m, mdscr), Some(m.sysregs.mdscr));
    // Reads into xzr write nothing, and still step.
    let trap = Trap {
        exit: Exit::SysReg {
            register: mdscr,
            rt: 31,
            read: true,
        },
        esr: ESR,
        x: &[0; 31],
        elr: RAM,
    };
    assert_eq!(handle_exit(&system, RTOS, &trap, &mut m), Outcome::step(4));
}

#[test]
fn id_registers_other_than_the_sanitised_ones_read_as_the_hardware_has_them() {
    let system = system(OnStop::Off);
    let mut m = machine();
    m.sysregs.id.insert((7, 0), 0x0000_1122);
    assert_eq!(read(&system, &mut m, reg(3, 0, 0, 7, 0)), Some(0x1122));
    // A write to an ID register (read-only) is ignored, never a fault.
    assert_eq!(
        access(&system, &mut m, reg(3, 0, 0, 7, 0), false, 1),
        Outcome::step(4)
    );
}

#[test]
fn a_partition_that_takes_its_faults_gets_a_wild_write_injected_and_keeps_running() {
    let mut system = system(OnStop::Off);
    system.partitions[1].on_fault = bulkhead_config::model::OnFault::Inject;
    let mut m = machine();
    let wild = Exit::DataAbort {
        ipa: 0x1_0000_0000,
        far: 0x1_0000_0000,
        access: None,
        write: true,
        stage1_walk: false,
    };
    let trap = Trap {
        exit: wild,
        esr: (0x24 << 26) | (1 << 25) | (1 << 6),
        x: &[0; 31],
        elr: RAM + 0x40,
    };
    let outcome = handle_exit(&system, RTOS, &trap, &mut m);
    assert_eq!(
        outcome,
        Outcome {
            inject: true,
            ..Outcome::resume()
        }
    );
    assert_eq!(m.sysregs.injected, [(0x1_0000_0000, true)]);
    assert!(m.printed("HIL:FAULT partition=rtos vcpu=0 injected=data-abort ipa=0x100000000"));
    assert_eq!(m.power[RTOS], Power::On, "still running");
    // An instruction abort still stops it.
    let fetch = Trap {
        exit: Exit::InstructionAbort {
            ipa: 0x1_0000_0000,
            far: 0x1_0000_0000,
        },
        esr: 0x20 << 26,
        x: &[0; 31],
        elr: 0x1_0000_0000,
    };
    assert_eq!(handle_exit(&system, RTOS, &fetch, &mut m).next, Next::Leave);
    // A partition that does not take its faults is stopped by the same write.
    let system = super::fake::system(OnStop::Off);
    let mut m = machine();
    assert_eq!(handle_exit(&system, RTOS, &trap, &mut m).next, Next::Leave);
    assert!(m.sysregs.injected.is_empty());
}
