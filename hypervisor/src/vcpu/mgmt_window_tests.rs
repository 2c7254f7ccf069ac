//! Host tests of the management window over the fake machine: calls made by writing CALL go
//! through the SMCCC dispatcher (privilege checked there), management actions are carried out,
//! LIST records land in the window's DATA area.

use bulkhead_abi::{mgmt, vendor};
use bulkhead_config::model::OnStop;
use bulkhead_config::range::Range;

use super::fake::{system, FakeMachine, RAM};
use super::machine::Power;
use super::outcome::Next;
use super::policy::{handle_exit, Trap};
use crate::devices::mgmt_window::{reg, MgmtWindow};
use crate::management::PartitionStatus;
use crate::partition::PartitionState;
use crate::system::{ManagementWindow, System};
use crate::trap::{AccessWidth, Exit, MmioAccess};
use crate::vgic::distributor::GicVersion;

const WINDOW: u64 = 0x0a4f_0000;
const IL: u64 = 1 << 25;
const DENIED: u64 = -5i64 as u64;
const NOT_SUPPORTED: u64 = -1i64 as u64;

/// Linux (partition 1, CPUs 0-1) with a management window, `privileged` or not, beside the RTOS.
fn window_system(privileged: bool) -> System {
    let mut system = system(OnStop::Off);
    let gic = system.gic;
    let linux = &mut system.partitions[0];
    linux.privileged = privileged;
    linux.management = Some(ManagementWindow {
        window: Range {
            start: WINDOW,
            size: 0x1000,
        },
        state: spin::Mutex::new(MgmtWindow::new()),
    });
    linux.bus = Default::default();
    linux.register_devices(&gic).unwrap();
    system
}

fn machine(system: &System) -> FakeMachine {
    let mut m = FakeMachine::new(GicVersion::V3);
    m.power = [Power::On, Power::On, Power::On, Power::Off];
    m.in_guest = [true, true, true, false];
    m.statuses = system
        .partitions
        .iter()
        .map(|p| PartitionStatus::of(p, &|_| [0; mgmt::TRAP_COUNTERS]))
        .collect();
    m
}

/// A 64-bit access of x1 at `offset` of the window from Linux's vCPU 0.
fn access(system: &System, offset: u64, store: Option<u64>, m: &mut FakeMachine) -> u64 {
    let mut x = [0u64; 31];
    x[1] = store.unwrap_or(0);
    let write = store.is_some();
    let access = MmioAccess {
        write,
        width: AccessWidth::Double,
        register: 1,
        sign_extend: false,
        sixty_four: true,
    };
    let ipa = WINDOW + offset;
    let trap = Trap {
        exit: Exit::DataAbort {
            ipa,
            far: ipa,
            access: Some(access),
            write,
            stage1_walk: false,
        },
        esr: IL,
        x: &x,
        elr: RAM,
    };
    let outcome = handle_exit(system, 0, &trap, m);
    assert_eq!(outcome.next, Next::Resume, "the access is emulated");
    outcome.load.map_or(0, |(_, value)| value)
}

/// Makes `function(args)` through the window; X0..X3.
fn call(system: &System, function: u32, args: [u64; 3], m: &mut FakeMachine) -> [u64; 4] {
    access(system, reg::FUNCTION, Some(u64::from(function)), m);
    for (i, arg) in args.into_iter().enumerate() {
        access(system, reg::ARG1 + 8 * i as u64, Some(arg), m);
    }
    access(system, reg::CALL, Some(1), m);
    core::array::from_fn(|i| access(system, reg::RESULT0 + 8 * i as u64, None, m))
}

#[test]
fn the_privileged_partition_stops_and_starts_another_through_the_window() {
    let system = window_system(true);
    let mut m = machine(&system);
    assert_eq!(call(&system, vendor::MGMT_STOP, [2, 0, 0], &mut m)[0], 0);
    assert_eq!(system.partitions[1].state(), PartitionState::Stopped);
    assert!(m.printed("HIL:PART rtos STOPPED reason=management"));
    assert_eq!(
        call(&system, vendor::MGMT_STOP, [2, 0, 0], &mut m)[0],
        -6i64 as u64,
        "WRONG_STATE: already stopped"
    );
    assert_eq!(call(&system, vendor::MGMT_START, [2, 0, 0], &mut m)[0], 0);
    assert_eq!(system.partitions[1].state(), PartitionState::Running);
    assert_eq!(m.power[2], Power::OnPending);
    assert_eq!(
        call(&system, vendor::MGMT_RESTART, [1, 0, 0], &mut m)[0],
        -3i64 as u64,
        "not itself"
    );
}

#[test]
fn list_writes_its_records_into_the_windows_data_area_only() {
    let system = window_system(true);
    let mut m = machine(&system);
    let data = WINDOW + reg::DATA;
    let results = call(&system, vendor::MGMT_LIST, [data, 256, 0], &mut m);
    assert_eq!(results, [0, 2, 2, mgmt::RECORD_SIZE as u64]);
    let name = access(&system, reg::DATA + mgmt::RECORD_SIZE as u64, None, &mut m);
    assert_eq!(name & 0xffff_ffff, u64::from(u32::from_le_bytes(*b"rtos")));
    // A buffer anywhere else (the partition's own RAM included) is refused.
    for ipa in [RAM, data + 8, WINDOW] {
        let results = call(&system, vendor::MGMT_LIST, [ipa, 256, 0], &mut m);
        assert_eq!(results[0], -3i64 as u64, "{ipa:#x}");
    }
}

#[test]
fn an_unprivileged_partition_is_denied_and_only_management_calls_are_made() {
    let system = window_system(false);
    let mut m = machine(&system);
    for function in [vendor::MGMT_LIST, vendor::MGMT_STOP, vendor::MGMT_RESTART] {
        assert_eq!(call(&system, function, [2, 0, 0], &mut m)[0], DENIED);
    }
    assert_eq!(system.partitions[1].state(), PartitionState::Running);
    let system = window_system(true);
    let mut m = machine(&system);
    // PSCI SYSTEM_OFF through the window does nothing.
    assert_eq!(call(&system, 0x8400_0008, [0; 3], &mut m)[0], NOT_SUPPORTED);
    assert_eq!(system.partitions[0].state(), PartitionState::Running);
    assert_eq!(system.partitions[1].state(), PartitionState::Running);
}
