//! Host tests of the restart rate limit (`max-restarts`) and of management stops, starts and
//! restarts of another partition, over the fake machine.

use bulkhead_config::model::{OnStop, RestartLimit};

use super::fake::{system, FakeMachine, RAM};
use super::machine::Power;
use super::manage::{manage, manage_for, ManageError, ManageOp};
use super::outcome::Next;
use super::policy::{handle_exit, Trap};
use crate::partition::PartitionState;
use crate::system::System;
use crate::trap::{Conduit, Exit};
use crate::vgic::distributor::GicVersion;

const PSCI_SYSTEM_RESET: u64 = 0x8400_0009;
const LINUX: usize = 0;
const RTOS: usize = 1;

fn machine() -> FakeMachine {
    let mut m = FakeMachine::new(GicVersion::V3);
    m.power = [Power::On, Power::On, Power::On, Power::Off];
    m.in_guest = [true, true, true, false];
    m
}

/// The RTOS (CPU 2) calls SYSTEM_RESET.
fn rtos_resets(system: &System, m: &mut FakeMachine) -> Next {
    let mut x = [0u64; 31];
    x[0] = PSCI_SYSTEM_RESET;
    let trap = Trap {
        exit: Exit::Call {
            conduit: Conduit::Hvc,
            aarch32: false,
            imm: 0,
        },
        esr: 1 << 25,
        x: &x,
        elr: RAM,
    };
    handle_exit(system, 2, &trap, m).next
}

/// The RTOS's vCPU enters again after a restart.
fn rtos_enters(m: &mut FakeMachine) {
    assert_eq!(m.power[2], Power::OnPending, "restarted");
    m.power[2] = Power::On;
    m.in_guest[2] = true;
}

fn limited(count: u32, seconds: u32) -> System {
    let mut system = system(OnStop::Restart);
    system.partitions[RTOS].max_restarts = Some(RestartLimit { count, seconds });
    system
}

#[test]
fn restarts_within_the_limit_are_reported_with_cause_and_count() {
    let system = limited(3, 60);
    let mut m = machine();
    for n in 1..=3u64 {
        m.now = n * 1000;
        assert_eq!(rtos_resets(&system, &mut m), Next::Leave);
        assert!(m.printed(&format!(
            "HIL:PART rtos RESTART reason=system-reset restarts={n} took-ticks=0"
        )));
        rtos_enters(&mut m);
    }
    assert_eq!(system.partitions[RTOS].restarts.count(), 3);
}

#[test]
fn a_partition_over_its_restart_rate_stays_off_and_says_why() {
    let system = limited(3, 60);
    let mut m = machine();
    for n in 0..3u64 {
        m.now = n * 1000;
        rtos_resets(&system, &mut m);
        rtos_enters(&mut m);
    }
    m.now = 59_999;
    assert_eq!(rtos_resets(&system, &mut m), Next::Leave);
    assert!(m.printed(
        "HIL:PART rtos STOPPED reason=restart-limit cause=system-reset restarts=3 max-restarts=3/60s"
    ));
    assert_eq!(system.partitions[RTOS].state(), PartitionState::Stopped);
    assert_eq!(m.power[2], Power::Off, "not restarted");
    assert_eq!(m.reloads, 3);
    assert_eq!(
        system.partitions[RTOS].restarts.last_reason(),
        bulkhead_abi::mgmt::REASON_RESTART_LIMIT
    );
    assert_eq!(system.partitions[LINUX].state(), PartitionState::Running);
}

#[test]
fn restarts_spread_over_time_are_never_limited() {
    let system = limited(3, 60);
    let mut m = machine();
    for n in 0..100u64 {
        m.now = n * 20_001;
        rtos_resets(&system, &mut m);
        rtos_enters(&mut m);
    }
    assert_eq!(system.partitions[RTOS].restarts.count(), 100);
}

#[test]
fn without_a_limit_a_partition_restarts_for_ever() {
    let system = system(OnStop::Restart);
    let mut m = machine();
    for _ in 0..2000 {
        rtos_resets(&system, &mut m);
        rtos_enters(&mut m);
    }
    assert_eq!(system.partitions[RTOS].restarts.count(), 2000);
}

#[test]
fn a_stop_for_a_device_fault_says_so_and_records_it() {
    let system = system(OnStop::Off);
    let mut m = machine();
    let reason = crate::partition::StopReason::DeviceFault;
    assert_eq!(
        manage_for(&system, ManageOp::Stop, LINUX, reason, &mut m),
        Ok(())
    );
    assert!(m.printed("HIL:PART linux STOPPED reason=device-fault"));
    assert!(!m.printed("reason=management"));
    assert_eq!(system.partitions[LINUX].state(), PartitionState::Stopped);
    assert_eq!(
        system.partitions[LINUX].restarts.last_reason(),
        bulkhead_abi::mgmt::REASON_DEVICE_FAULT
    );
    assert_eq!(m.power[2], Power::On, "the other partition runs on");
}

#[test]
fn a_stop_by_management_kicks_a_busy_target_and_waits_for_it() {
    let system = system(OnStop::Off);
    let mut m = machine();
    assert_eq!(manage(&system, ManageOp::Stop, LINUX, &mut m), Ok(()));
    assert_eq!(
        m.kicks,
        [0, 1],
        "both of its CPUs are kicked out of their guest"
    );
    assert_eq!(m.power[..2], [Power::Off, Power::Off]);
    assert_eq!(m.in_guest[..2], [false, false]);
    assert!(m.printed("HIL:PART linux STOPPED reason=management"));
    assert_eq!(system.partitions[LINUX].state(), PartitionState::Stopped);
    assert_eq!(m.power[2], Power::On, "the other partition runs on");
    assert_eq!(
        manage(&system, ManageOp::Stop, LINUX, &mut m),
        Err(ManageError::WrongState)
    );
}

#[test]
fn a_start_by_management_boots_a_stopped_partition_from_its_images() {
    let system = system(OnStop::Off);
    let mut m = machine();
    assert_eq!(
        manage(&system, ManageOp::Start, RTOS, &mut m),
        Err(ManageError::WrongState),
        "it runs"
    );
    manage(&system, ManageOp::Stop, RTOS, &mut m).unwrap();
    m.kicks.clear();
    assert_eq!(manage(&system, ManageOp::Start, RTOS, &mut m), Ok(()));
    assert!(m.printed("HIL:PART rtos START reason=management"));
    assert_eq!(m.reloads, 1);
    assert_eq!(m.power[2], Power::OnPending);
    assert_eq!(m.boot[2], (RAM, RAM + 0xf0_0000));
    assert_eq!(m.kicks, [2]);
    assert_eq!(system.partitions[RTOS].state(), PartitionState::Running);
}

#[test]
fn a_restart_by_management_works_on_running_and_stopped_partitions() {
    let system = system(OnStop::Off);
    let mut m = machine();
    assert_eq!(manage(&system, ManageOp::Restart, RTOS, &mut m), Ok(()));
    assert!(m.printed("HIL:PART rtos RESTART reason=management restarts=1"));
    assert_eq!(m.power[2], Power::OnPending);
    assert!(m.kicks.contains(&2));
    rtos_enters(&mut m);
    manage(&system, ManageOp::Stop, RTOS, &mut m).unwrap();
    assert_eq!(manage(&system, ManageOp::Restart, RTOS, &mut m), Ok(()));
    assert!(m.printed("HIL:PART rtos RESTART reason=management restarts=2"));
    assert_eq!(system.partitions[RTOS].state(), PartitionState::Running);
}

#[test]
fn refused_and_missing_partitions_cannot_be_managed() {
    let system = system(OnStop::Off);
    let mut m = machine();
    system.partitions[RTOS].set_state(PartitionState::Refused);
    for op in [ManageOp::Start, ManageOp::Stop, ManageOp::Restart] {
        assert_eq!(
            manage(&system, op, RTOS, &mut m),
            Err(ManageError::WrongState)
        );
        assert_eq!(
            manage(&system, op, 7, &mut m),
            Err(ManageError::NoSuchPartition)
        );
    }
    assert!(m.kicks.is_empty());
}
