//! The trap policy (`vcpu::policy::handle_exit`) on random exits, registers and CPUs over the
//! fake machine, with the real SMCCC dispatcher and device models behind it: it never panics,
//! every outcome is well-formed (ELR stepped by 0, 2 or 4; no write to x31; x0..x3 only as a
//! whole SMCCC result), a vCPU that resumes is on and in its guest, and a partition is running
//! or stopped, never anything else. Between traps every on-pending vCPU may enter, as its CPU's
//! loop would let it. Partitions may have a virtual PMU and take their own data aborts, and
//! system-register traps may name the set/way, PMU, debug and ID encodings the policy handles.
#![no_main]

use arbitrary::Arbitrary;
use bulkhead::partition::PartitionState;
use bulkhead::trap::{Exit, Snapshot, VectorKind};
use bulkhead::vcpu::entry::try_enter;
use bulkhead::vcpu::fake::{system, FakeMachine, CPUS, GICD, GICR, RAM, UART};
use bulkhead::vcpu::policy::{handle_exit, Trap};
use bulkhead::vcpu::{Next, Power};
use bulkhead::vgic::distributor::GicVersion;
use bulkhead_config::model::{OnFault, OnStop, Pmu};
use libfuzzer_sys::fuzz_target;

/// Function IDs worth hitting often (PSCI, the vendor service, the architecture calls).
const FUNCTIONS: [u64; 12] = [
    0x8400_0000,
    0x8400_0001,
    0x8400_0002,
    0xc400_0003,
    0xc400_0004,
    0x8400_0008,
    0x8400_0009,
    0x8600_0100,
    0x8600_0400,
    0x8600_04ff,
    0x8000_0000,
    0xc200_0001,
];

/// System-register encodings worth hitting (op0, op1, CRn, CRm, op2): DC ISW/CSW/CISW, PMCR,
/// PMSELR, PMXEVTYPER, PMXEVCNTR, PMCCFILTR, PMEVTYPER0, PMEVCNTR30, PMINTENSET, MDSCR,
/// OSLSR, DBGBCR0, MDCCSR, ID_AA64DFR0, ID_AA64PFR0, and an SGI register.
const SYSREGS: [(u64, u64, u64, u64, u64); 19] = [
    (1, 0, 7, 6, 2),
    (1, 0, 7, 10, 2),
    (1, 0, 7, 14, 2),
    (3, 3, 9, 12, 0),
    (3, 3, 9, 12, 5),
    (3, 3, 9, 13, 1),
    (3, 3, 9, 13, 2),
    (3, 3, 14, 15, 7),
    (3, 3, 14, 12, 0),
    (3, 3, 14, 11, 6),
    (3, 0, 9, 14, 1),
    (2, 0, 0, 2, 2),
    (2, 0, 1, 1, 4),
    (2, 0, 0, 0, 5),
    (2, 3, 0, 1, 0),
    (3, 0, 0, 5, 0),
    (3, 0, 0, 4, 0),
    (3, 0, 9, 9, 0),
    (3, 0, 12, 11, 5),
];

/// Addresses worth hitting: the emulated devices, RAM, and around them.
const ADDRESSES: [u64; 6] = [GICD, GICR, UART, RAM, UART + 0x1000, GICD - 4];

#[derive(Arbitrary, Debug)]
struct Input {
    restart: bool,
    gic_v2: bool,
    /// Partition 2 has a virtual PMU (else denied).
    virtual_pmu: bool,
    /// Partition 1 takes its own data aborts (`on-fault = "inject"`).
    inject: bool,
    /// PMCR_EL0.N of the fake CPU.
    counters: u8,
    firmware: bool,
    traps: Vec<RawTrap>,
}

#[derive(Arbitrary, Debug)]
struct RawTrap {
    cpu: u8,
    kind: u8,
    esr: u64,
    far: u64,
    hpfar: u64,
    /// Point FAR/HPFAR at one of [`ADDRESSES`] (plus `far`'s low 12 bits) instead.
    address: Option<u8>,
    /// Take x0 from [`FUNCTIONS`] instead of `x[0]`.
    function: Option<u8>,
    /// Make the trap a system register access of [`SYSREGS`] (ISS from `esr`'s Rt and
    /// direction) instead.
    sysreg: Option<u8>,
    x: [u64; 8],
    /// Fill x8..x30 with this (MMIO and system-register transfers use any register).
    rest: u64,
    elr: u64,
    /// A kick that carried a power change arrives with the next interrupt.
    kick: Option<(u8, u8)>,
}

fuzz_target!(|input: Input| {
    let mut system = system(if input.restart {
        OnStop::Restart
    } else {
        OnStop::Off
    });
    if input.virtual_pmu {
        system.partitions[1].pmu = Pmu::Virtual;
    }
    if input.inject {
        system.partitions[0].on_fault = OnFault::Inject;
    }
    let mut m = FakeMachine::new(if input.gic_v2 {
        GicVersion::V2
    } else {
        GicVersion::V3
    });
    m.power = [Power::On, Power::On, Power::On, Power::Off];
    m.in_guest = [true, true, true, false];
    m.firmware = input.firmware.then_some([1, 2, 3, 4]);
    m.sysregs.counters = input.counters % 32;
    for raw in input.traps.iter().take(256) {
        let cpu = usize::from(raw.cpu) % CPUS;
        let (far, hpfar) = match raw.address {
            Some(pick) => {
                let ipa = ADDRESSES[usize::from(pick) % ADDRESSES.len()] + (raw.far & 0xfff);
                (ipa, (ipa >> 12) << 4)
            }
            None => (raw.far, raw.hpfar),
        };
        let esr = match raw.sysreg {
            Some(pick) => {
                let (op0, op1, crn, crm, op2) = SYSREGS[usize::from(pick) % SYSREGS.len()];
                (0x18 << 26)
                    | (1 << 25)
                    | (op0 << 20)
                    | (op2 << 17)
                    | (op1 << 14)
                    | (crn << 10)
                    | (raw.esr & 0x3e1)
                    | (crm << 1)
            }
            None => raw.esr,
        };
        let snapshot = Snapshot {
            kind: VectorKind::lower(u64::from(raw.kind % 8)),
            esr,
            far,
            hpfar,
        };
        let mut x = [raw.rest; 31];
        x[..8].copy_from_slice(&raw.x);
        if let Some(pick) = raw.function {
            x[0] = FUNCTIONS[usize::from(pick) % FUNCTIONS.len()];
        }
        m.on_interrupt_power = raw
            .kick
            .map(|(c, p)| (usize::from(c) % CPUS, Power::from_u8(p % 3)));
        // Only a vCPU inside its guest traps.
        if !m.in_guest[cpu] || m.power[cpu] != Power::On {
            continue;
        }
        let exit = Exit::decode(&snapshot);
        let trap = Trap {
            exit,
            esr,
            x: &x,
            elr: raw.elr,
        };
        let outcome = handle_exit(&system, cpu, &trap, &mut m);
        assert!(matches!(outcome.step, 0 | 2 | 4), "{outcome:?}");
        if let Some((register, _)) = outcome.load {
            assert!(register < 31, "{outcome:?}");
        }
        match outcome.next {
            Next::Resume => assert!(
                m.power[cpu] == Power::On && m.in_guest[cpu],
                "a resumed vCPU is on and inside: {outcome:?} {exit:?}"
            ),
            Next::Leave | Next::PowerOff => {
                assert!(!m.in_guest[cpu], "a vCPU that left is outside: {exit:?}")
            }
        }
        for partition in &system.partitions {
            assert!(matches!(
                partition.state(),
                PartitionState::Running | PartitionState::Stopped
            ));
        }
        for c in 0..CPUS {
            let _ = try_enter(&system, c, &mut m);
        }
    }
});
