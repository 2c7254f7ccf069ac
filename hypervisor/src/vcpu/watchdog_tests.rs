//! Host tests of a partition's watchdog over the fake machine: guest accesses through the trap
//! policy arm the EL2 timer, ticks raise WS0's interrupt and apply the partition's policy at
//! WS1, on a CPU in its guest (an IRQ exit) and on one between guests.

use bulkhead_config::model::OnStop;
use bulkhead_config::range::Range;

use super::fake::{system, FakeMachine, RAM};
use super::machine::Power;
use super::outcome::Next;
use super::policy::{handle_exit, Trap};
use super::watchdog::{tick, tick_between_guests};
use crate::devices::sbsa_watchdog::{SbsaWatchdog, WCS_EN, WCS_WS0};
use crate::system::{System, VirtualWatchdog};
use crate::trap::{Exit, MmioAccess};
use crate::vgic::distributor::GicVersion;

const CONTROL: u64 = 0x0a44_0000;
const REFRESH: u64 = 0x0a45_0000;
const WDOG_INTID: u32 = 47;
const WCS: u64 = CONTROL;
const WOR: u64 = CONTROL + 8;
const WCV: u64 = CONTROL + 0x10;
const WRR: u64 = REFRESH;
const IL: u64 = 1 << 25;

/// The fake system with a watchdog in "linux" (CPUs 0 and 1).
fn watchdog_system(on_stop: OnStop) -> System {
    let mut system = system(on_stop);
    let linux = &mut system.partitions[0];
    linux.watchdog = Some(VirtualWatchdog {
        control: Range {
            start: CONTROL,
            size: 0x1000,
        },
        refresh: Range {
            start: REFRESH,
            size: 0x1000,
        },
        intid: WDOG_INTID,
        state: spin::Mutex::new(SbsaWatchdog::new()),
    });
    let gic = system.gic;
    let linux = &mut system.partitions[0];
    linux.bus = Default::default();
    linux.register_devices(&gic).unwrap();
    system
}

fn machine() -> FakeMachine {
    let mut m = FakeMachine::new(GicVersion::V3);
    m.power = [Power::On, Power::On, Power::On, Power::Off];
    m.in_guest = [true, true, true, false];
    m
}

/// A 32-bit guest access of x1 at `ipa` from the vCPU on `cpu` (a store when `write`).
fn access(
    system: &System,
    cpu: usize,
    ipa: u64,
    write: bool,
    value: u64,
    m: &mut FakeMachine,
) -> u64 {
    m.current = cpu;
    let mut x = [0u64; 31];
    x[1] = value;
    let access = MmioAccess {
        write,
        width: crate::trap::AccessWidth::Word,
        register: 1,
        sign_extend: false,
        sixty_four: false,
    };
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
    let outcome = handle_exit(system, cpu, &trap, m);
    assert_eq!(outcome.next, Next::Resume, "the access is emulated");
    assert_eq!(outcome.step, 4);
    outcome.load.map_or(0, |(_, value)| value)
}

/// What Linux's sbsa_gwdt does to start the watchdog: WOR, then WCS.EN.
fn start(system: &System, cpu: usize, wor: u64, m: &mut FakeMachine) {
    access(system, cpu, WOR, true, wor, m);
    access(system, cpu, WCS, true, u64::from(WCS_EN), m);
}

fn irq(system: &System, cpu: usize, m: &mut FakeMachine) -> Next {
    m.current = cpu;
    let x = [0u64; 31];
    let trap = Trap {
        exit: Exit::Irq,
        esr: 0,
        x: &x,
        elr: RAM,
    };
    handle_exit(system, cpu, &trap, m).next
}

#[test]
fn starting_the_watchdog_arms_the_accessing_cpus_el2_timer_for_its_deadline() {
    let system = watchdog_system(OnStop::Restart);
    let mut m = machine();
    m.now = 1_000;
    start(&system, 1, 500, &mut m);
    // DEN0029: WCS written: WCV = counter + WOR; WS0 rises once the counter is past WCV.
    assert_eq!(m.hyp_timer[1], Some(1_501));
    assert_eq!(m.hyp_timer[0], None);
    assert_eq!(access(&system, 1, WCV, false, 0, &mut m), 1_500);
    assert_eq!(access(&system, 1, WCS, false, 0, &mut m), u64::from(WCS_EN));
}

#[test]
fn ws0_makes_the_watchdog_interrupt_pending_and_rearms_the_timer() {
    let system = watchdog_system(OnStop::Restart);
    let mut m = machine();
    start(&system, 0, 500, &mut m);
    m.now = 501;
    assert_eq!(irq(&system, 0, &mut m), Next::Resume);
    assert_eq!(m.rings, [(0, WDOG_INTID)], "linux's own virtual SPI 47");
    // The timeout refresh: WCV = 500 + WOR.
    assert_eq!(m.hyp_timer[0], Some(1_001));
    assert_eq!(
        access(&system, 0, WCS, false, 0, &mut m),
        u64::from(WCS_EN | WCS_WS0)
    );
}

#[test]
fn ws1_restarts_a_restart_partition_and_reports_the_watchdog() {
    let system = watchdog_system(OnStop::Restart);
    let mut m = machine();
    start(&system, 0, 500, &mut m);
    m.now = 501;
    irq(&system, 0, &mut m);
    m.now = 1_002;
    assert_eq!(irq(&system, 0, &mut m), Next::Leave);
    assert!(
        m.printed("HIL:WATCHDOG partition=linux ws1"),
        "{:?}",
        m.lines
    );
    assert!(
        m.printed("HIL:PART linux RESTART reason=watchdog"),
        "{:?}",
        m.lines
    );
    assert_eq!(m.reloads, 1);
    assert_eq!(m.power[0], Power::OnPending, "vCPU 0 boots again");
    assert_eq!(m.power[2], Power::On, "rtos untouched");
    // The restarted partition's watchdog is back in its reset state: disabled.
    assert_eq!(access(&system, 0, WCS, false, 0, &mut m), 0);
    // Back in its guest, the restarted partition's watchdog never fires until started again.
    m.power[0] = Power::On;
    m.in_guest[0] = true;
    m.now = 1_000_000;
    assert_eq!(irq(&system, 0, &mut m), Next::Resume);
    assert_eq!(m.hyp_timer[0], None);
}

#[test]
fn ws1_stops_an_off_partition_with_a_report() {
    let system = watchdog_system(OnStop::Off);
    let mut m = machine();
    start(&system, 1, 10, &mut m);
    m.now = 100;
    // A late tick: both signals at once.
    assert_eq!(irq(&system, 1, &mut m), Next::Leave);
    assert!(
        m.printed("HIL:PART linux STOPPED reason=watchdog"),
        "{:?}",
        m.lines
    );
    assert_eq!(m.reloads, 0);
    assert_eq!(m.power[0], Power::Off);
}

#[test]
fn a_partition_that_keeps_refreshing_is_never_stopped() {
    let system = watchdog_system(OnStop::Restart);
    let mut m = machine();
    start(&system, 0, 1_000, &mut m);
    for step in 1..100u64 {
        m.now = step * 900;
        // Refreshed from either vCPU: WRR written (any value).
        access(&system, (step % 2) as usize, WRR, true, 0, &mut m);
        m.now += 899;
        assert_eq!(irq(&system, 0, &mut m), Next::Resume);
        assert_eq!(irq(&system, 1, &mut m), Next::Resume);
    }
    assert!(m.rings.is_empty());
    assert!(!m.printed("RESTART"));
}

#[test]
fn an_early_tick_on_a_cpu_armed_for_an_older_deadline_rearms_for_the_current_one() {
    let system = watchdog_system(OnStop::Restart);
    let mut m = machine();
    start(&system, 0, 1_000, &mut m);
    assert_eq!(m.hyp_timer[0], Some(1_001));
    m.now = 800;
    access(&system, 1, WRR, true, 0, &mut m);
    assert_eq!(m.hyp_timer[1], Some(1_801));
    m.now = 1_001;
    assert_eq!(irq(&system, 0, &mut m), Next::Resume);
    assert!(m.rings.is_empty(), "not due: refreshed at 800");
    assert_eq!(m.hyp_timer[0], Some(1_801));
}

#[test]
fn a_cpu_between_guests_keeps_its_partitions_watchdog_and_stops_it() {
    let system = watchdog_system(OnStop::Restart);
    let mut m = machine();
    start(&system, 1, 10, &mut m);
    // vCPU 1 goes off (CPU_OFF); its CPU waits at EL2, where its timer fires.
    m.power[1] = Power::Off;
    m.in_guest[1] = false;
    m.current = 1;
    m.now = 11;
    assert_eq!(tick_between_guests(&system, 1, &mut m), None);
    assert_eq!(m.rings, [(0, WDOG_INTID)]);
    m.now = 22;
    assert_eq!(tick_between_guests(&system, 1, &mut m), Some(Next::Leave));
    assert!(m.printed("HIL:PART linux RESTART reason=watchdog"));
    assert_eq!(m.kicks, [0, 0], "vCPU 0 recalled, then booted again");
    assert_eq!(m.power[0], Power::OnPending);
}

#[test]
fn a_partition_without_a_watchdog_never_ticks_and_a_stopped_one_disarms() {
    let system = watchdog_system(OnStop::Off);
    let mut m = machine();
    m.current = 2;
    assert_eq!(
        tick_between_guests(&system, 2, &mut m),
        None,
        "rtos has none"
    );
    start(&system, 0, 10, &mut m);
    system.partitions[0].set_state(crate::partition::PartitionState::Stopped);
    m.current = 0;
    m.now = 1_000;
    assert_eq!(tick(&system, &system.partitions[0], 0, &mut m), None);
    assert_eq!(m.hyp_timer[0], None);
    assert!(m.rings.is_empty());
}
