//! Host tests of the trap policy over the fake machine: MMIO emulation through the device bus
//! (widths, alignment, sign extension), SGI routing, PSCI vCPU power calls, stops and restarts,
//! fault reports, and what a CPU does between guests.

use bulkhead_config::model::OnStop;

use super::entry::try_enter;
use super::fake::{system, FakeMachine, GICR, RAM, UART};

fn writes(outcome: &Outcome) -> Vec<(u8, u64)> {
    outcome.writes().collect()
}
use super::machine::Power;
use super::outcome::{Next, Outcome};
use super::policy::{handle_exit, Trap};
use crate::partition::PartitionState;
use crate::system::System;
use crate::trap::{AccessWidth, Conduit, Exit, MmioAccess, SysRegId};
use crate::vgic::distributor::GicVersion;

const GICD: u64 = super::fake::GICD;
/// ESR with IL set (a 32-bit instruction).
const IL: u64 = 1 << 25;

const PSCI_CPU_SUSPEND: u64 = 0x8400_0001;
const PSCI_CPU_OFF: u64 = 0x8400_0002;
const PSCI_CPU_ON: u64 = 0xc400_0003;
const PSCI_AFFINITY_INFO: u64 = 0xc400_0004;
const PSCI_SYSTEM_OFF: u64 = 0x8400_0008;
const PSCI_SYSTEM_RESET: u64 = 0x8400_0009;
const NOT_SUPPORTED: u64 = -1i64 as u64;
const INVALID_PARAMETERS: u64 = -2i64 as u64;

fn machine() -> FakeMachine {
    let mut m = FakeMachine::new(GicVersion::V3);
    m.power = [Power::On, Power::On, Power::On, Power::Off];
    m.in_guest = [true, true, true, false];
    m
}

fn hvc(x: &[u64]) -> ([u64; 31], Exit) {
    let mut regs = [0u64; 31];
    regs[..x.len()].copy_from_slice(x);
    (
        regs,
        Exit::Call {
            conduit: Conduit::Hvc,
            aarch32: false,
            imm: 0,
        },
    )
}

fn run(system: &System, cpu: usize, exit: Exit, x: &[u64; 31], m: &mut FakeMachine) -> Outcome {
    let trap = Trap {
        exit,
        esr: IL,
        x,
        elr: RAM + 0x100,
    };
    handle_exit(system, cpu, &trap, m)
}

fn call(system: &System, cpu: usize, x: &[u64], m: &mut FakeMachine) -> Outcome {
    let (regs, exit) = hvc(x);
    run(system, cpu, exit, &regs, m)
}

fn mmio(write: bool, size: u8, register: u8, sign_extend: bool, sixty_four: bool) -> MmioAccess {
    MmioAccess {
        write,
        width: AccessWidth::from_bytes(size).unwrap(),
        register,
        sign_extend,
        sixty_four,
    }
}

fn data_abort(ipa: u64, access: MmioAccess) -> Exit {
    Exit::DataAbort {
        ipa,
        far: ipa,
        access: Some(access),
        write: access.write,
        stage1_walk: false,
    }
}

// ---- MMIO through the device bus --------------------------------------------------------

#[test]
fn a_word_read_of_the_console_flag_register_steps_over_the_load() {
    let system = system(OnStop::Off);
    let mut m = machine();
    let outcome = run(
        &system,
        0,
        data_abort(UART + 0x18, mmio(false, 4, 5, false, false)),
        &[0; 31],
        &mut m,
    );
    assert_eq!(outcome.step, 4);
    assert_eq!(outcome.next, Next::Resume);
    // UARTFR: TXFE | RXFE (PL011 TRM 3.3.3).
    assert_eq!(writes(&outcome).as_slice(), &[(5, 0x90)]);
}

#[test]
fn ldrsb_from_an_emulated_device_is_sign_extended() {
    // Regression: MmioAccess::sign_extend was decoded but never applied (0x90 came back
    // instead of 0xffff_ffff_ffff_ff90 for `ldrsb x3, [UARTFR]`).
    let system = system(OnStop::Off);
    let mut m = machine();
    let outcome = run(
        &system,
        0,
        data_abort(UART + 0x18, mmio(false, 1, 3, true, true)),
        &[0; 31],
        &mut m,
    );
    assert_eq!(writes(&outcome).as_slice(), &[(3, 0xffff_ffff_ffff_ff90)]);
    let outcome = run(
        &system,
        0,
        data_abort(UART + 0x18, mmio(false, 1, 3, true, false)),
        &[0; 31],
        &mut m,
    );
    assert_eq!(
        writes(&outcome).as_slice(),
        &[(3, 0xffff_ff90)],
        "ldrsb w3: 32-bit result"
    );
}

#[test]
fn byte_reads_return_the_addressed_lane_of_a_register() {
    let system = system(OnStop::Off);
    let mut m = machine();
    // UARTPeriphID2 (0xfe8) = 0x34; a byte read of its second byte lane is 0.
    let outcome = run(
        &system,
        0,
        data_abort(UART + 0xfe8, mmio(false, 1, 1, false, true)),
        &[0; 31],
        &mut m,
    );
    assert_eq!(writes(&outcome).as_slice(), &[(1, 0x34)]);
    let outcome = run(
        &system,
        0,
        data_abort(UART + 0xfe9, mmio(false, 1, 1, false, true)),
        &[0; 31],
        &mut m,
    );
    assert_eq!(writes(&outcome).as_slice(), &[(1, 0)]);
}

#[test]
fn console_stores_write_the_low_byte_of_the_register() {
    let system = system(OnStop::Off);
    let mut m = machine();
    let mut x = [0u64; 31];
    x[7] = 0xffff_ff41;
    let outcome = run(
        &system,
        2,
        data_abort(UART, mmio(true, 4, 7, false, false)),
        &x,
        &mut m,
    );
    assert_eq!(outcome.step, 4);
    assert!(writes(&outcome).is_empty());
    assert_eq!(m.console_bytes, b"A");
}

#[test]
fn a_load_into_the_zero_register_writes_nothing() {
    let system = system(OnStop::Off);
    let mut m = machine();
    let outcome = run(
        &system,
        0,
        data_abort(UART + 0x18, mmio(false, 4, 31, false, false)),
        &[0; 31],
        &mut m,
    );
    assert!(writes(&outcome).is_empty());
    assert_eq!(outcome.step, 4);
}

#[test]
fn an_unaligned_access_to_an_emulated_device_stops_the_partition_with_a_report() {
    let system = system(OnStop::Off);
    let mut m = machine();
    let outcome = run(
        &system,
        2,
        data_abort(UART + 0x1a, mmio(false, 4, 0, false, false)),
        &[0; 31],
        &mut m,
    );
    assert_eq!(outcome.next, Next::Leave);
    assert!(
        m.printed("partition \"rtos\" (id 2) stopped: unaligned 4-byte read of an emulated device")
    );
    assert!(m.printed("HIL:PART rtos STOPPED reason=fault"));
    assert_eq!(system.partitions[1].state(), PartitionState::Stopped);
    assert_eq!(
        system.partitions[0].state(),
        PartitionState::Running,
        "only the faulting partition"
    );
}

#[test]
fn a_pair_access_to_an_emulated_device_says_why_it_cannot_be_emulated() {
    let system = system(OnStop::Off);
    let mut m = machine();
    let exit = Exit::DataAbort {
        ipa: GICD,
        far: GICD,
        access: None,
        write: true,
        stage1_walk: false,
    };
    let outcome = run(&system, 2, exit, &[0; 31], &mut m);
    assert_eq!(outcome.next, Next::Leave);
    assert!(m.printed("without a usable syndrome"));
}

#[test]
fn an_access_outside_every_device_and_ram_is_a_fault() {
    let system = system(OnStop::Off);
    let mut m = machine();
    let outcome = run(
        &system,
        2,
        data_abort(0x1000_0000, mmio(true, 4, 0, false, false)),
        &[0; 31],
        &mut m,
    );
    assert_eq!(outcome.next, Next::Leave);
    assert!(m.printed("write outside its memory at IPA 0x0000000010000000"));
}

#[test]
fn distributor_accesses_reach_the_model_with_the_vcpu_and_width() {
    let system = system(OnStop::Off);
    let mut m = machine();
    // GICD_TYPER (0x004) of a GICv3 distributor: a nonzero ITLinesNumber.
    let outcome = run(
        &system,
        1,
        data_abort(GICD + 4, mmio(false, 4, 2, false, false)),
        &[0; 31],
        &mut m,
    );
    let (reg, value) = writes(&outcome)[0];
    assert_eq!(reg, 2);
    assert_ne!(value, 0);
    // A write of GICD_CTLR reads back (enable group 1).
    let mut x = [0u64; 31];
    x[4] = 0x2;
    run(
        &system,
        1,
        data_abort(GICD, mmio(true, 4, 4, false, false)),
        &x,
        &mut m,
    );
    let outcome = run(
        &system,
        1,
        data_abort(GICD, mmio(false, 4, 4, false, false)),
        &[0; 31],
        &mut m,
    );
    assert_eq!(writes(&outcome)[0].1 & 0x2, 0x2);
}

#[test]
fn redistributor_frames_beyond_the_partition_read_as_zero_and_ignore_writes() {
    let system = system(OnStop::Off);
    let mut m = machine();
    let third_frame = GICR + 2 * crate::vgic::redistributor::FRAME_STRIDE;
    let outcome = run(
        &system,
        0,
        data_abort(third_frame + 8, mmio(false, 8, 0, false, true)),
        &[0; 31],
        &mut m,
    );
    assert_eq!(writes(&outcome).as_slice(), &[(0, 0)]);
    run(
        &system,
        0,
        data_abort(third_frame, mmio(true, 4, 0, false, false)),
        &[0; 31],
        &mut m,
    );
    assert_eq!(m.ignored_writes, 1);
    // The second vCPU's GICR_TYPER says Last and Aff0 = 1.
    let second_frame = GICR + crate::vgic::redistributor::FRAME_STRIDE;
    let outcome = run(
        &system,
        0,
        data_abort(second_frame + 8, mmio(false, 8, 0, false, true)),
        &[0; 31],
        &mut m,
    );
    let typer = writes(&outcome)[0].1;
    assert_eq!(typer >> 32, 1);
    assert_ne!(typer & (1 << 4), 0);
}

// ---- SGIs --------------------------------------------------------------------------------

fn sgi1r_write(rt: u8) -> Exit {
    Exit::SysReg {
        register: SysRegId::ICC_SGI1R_EL1,
        rt,
        read: false,
    }
}

#[test]
fn an_sgi_to_a_vcpu_of_the_partition_is_sent_and_the_msr_stepped_over() {
    let system = system(OnStop::Off);
    let mut m = machine();
    let mut x = [0u64; 31];
    x[9] = 5 << 24 | 0b10;
    let outcome = run(&system, 0, sgi1r_write(9), &x, &mut m);
    assert_eq!(outcome, Outcome::step(4));
    assert_eq!(m.sgis, [(0, 5, 0b10)]);
    assert_eq!(m.ignored_writes, 0);
}

#[test]
fn sgis_naming_cpus_outside_the_partition_are_counted_and_not_sent() {
    let system = system(OnStop::Off);
    let mut m = machine();
    let mut x = [0u64; 31];
    // The RTOS (one vCPU) names Aff0 1..15, and then range selector 15 (Aff0 240..255).
    x[0] = 0xfffe;
    run(&system, 2, sgi1r_write(0), &x, &mut m);
    x[0] = 15 << 44 | 0xffff;
    run(&system, 2, sgi1r_write(0), &x, &mut m);
    assert!(m.sgis.is_empty());
    assert_eq!(m.ignored_writes, 2);
}

#[test]
fn sgi_register_reads_are_zero_and_group0_sgis_are_ignored() {
    let system = system(OnStop::Off);
    let mut m = machine();
    let read = Exit::SysReg {
        register: SysRegId::ICC_SGI1R_EL1,
        rt: 3,
        read: true,
    };
    assert_eq!(
        writes(&run(&system, 0, read, &[7; 31], &mut m)).as_slice(),
        &[(3, 0)]
    );
    let group0 = Exit::SysReg {
        register: SysRegId::ICC_SGI0R_EL1,
        rt: 3,
        read: false,
    };
    assert_eq!(run(&system, 0, group0, &[1; 31], &mut m), Outcome::step(4));
    assert!(m.sgis.is_empty());
}

#[test]
fn other_system_registers_stop_the_partition() {
    let system = system(OnStop::Off);
    let mut m = machine();
    let other = Exit::SysReg {
        register: SysRegId {
            op0: 3,
            op1: 4,
            crn: 1,
            crm: 1,
            op2: 0,
        },
        rt: 0,
        read: true,
    };
    let trap = Trap {
        exit: other,
        esr: 0x18 << 26 | IL,
        x: &[0; 31],
        elr: RAM,
    };
    assert_eq!(handle_exit(&system, 2, &trap, &mut m).next, Next::Leave);
    assert!(m.printed("unhandled trap: MSR/MRS/system instruction"));
}

// ---- Calls and PSCI ----------------------------------------------------------------------

#[test]
fn hvc_results_land_in_x0_to_x3_without_stepping() {
    let system = system(OnStop::Off);
    let mut m = machine();
    let outcome = call(&system, 0, &[0x8400_0000], &mut m);
    assert_eq!(outcome.step, 0);
    assert_eq!(
        writes(&outcome).as_slice(),
        &[(0, 0x0001_0001), (1, 0), (2, 0), (3, 0)]
    );
}

#[test]
fn a_trapped_smc_is_stepped_over_by_its_length() {
    let system = system(OnStop::Off);
    let mut m = machine();
    let mut x = [0u64; 31];
    x[0] = 0x8400_0000;
    let exit = Exit::Call {
        conduit: Conduit::Smc,
        aarch32: false,
        imm: 0,
    };
    assert_eq!(run(&system, 0, exit, &x, &mut m).step, 4);
    let trap = Trap {
        exit,
        esr: 0,
        x: &x,
        elr: 0,
    };
    assert_eq!(
        handle_exit(&system, 0, &trap, &mut m).step,
        2,
        "IL = 0: 16-bit"
    );
}

#[test]
fn calls_with_a_nonzero_immediate_are_not_supported() {
    let system = system(OnStop::Off);
    let mut m = machine();
    let mut x = [0u64; 31];
    x[0] = PSCI_SYSTEM_OFF;
    let exit = Exit::Call {
        conduit: Conduit::Hvc,
        aarch32: false,
        imm: 1,
    };
    let outcome = run(&system, 2, exit, &x, &mut m);
    assert_eq!(writes(&outcome)[0], (0, NOT_SUPPORTED));
    assert_eq!(outcome.next, Next::Resume);
    assert_eq!(system.partitions[1].state(), PartitionState::Running);
}

#[test]
fn cpu_on_of_an_off_vcpu_records_the_entry_and_kicks_its_cpu() {
    let system = system(OnStop::Off);
    let mut m = machine();
    m.power[1] = Power::Off;
    let outcome = call(&system, 0, &[PSCI_CPU_ON, 1, RAM + 0x80, 0x1234], &mut m);
    assert_eq!(writes(&outcome)[0], (0, 0));
    assert_eq!(m.power[1], Power::OnPending);
    assert_eq!(m.boot[1], (RAM + 0x80, 0x1234));
    assert_eq!(m.kicks, [1]);
}

#[test]
fn cpu_on_answers_already_on_on_pending_and_invalid_parameters() {
    let system = system(OnStop::Off);
    let mut m = machine();
    let x0 = |o: Outcome| writes(&o)[0].1;
    assert_eq!(
        x0(call(&system, 0, &[PSCI_CPU_ON, 1, RAM, 0], &mut m)),
        -4i64 as u64
    );
    m.power[1] = Power::OnPending;
    assert_eq!(
        x0(call(&system, 0, &[PSCI_CPU_ON, 1, RAM, 0], &mut m)),
        -5i64 as u64
    );
    // vCPU 2 does not exist; MPIDRs with higher affinity name other partitions' CPUs.
    for target in [2, 0x100, 1 << 32] {
        assert_eq!(
            x0(call(&system, 0, &[PSCI_CPU_ON, target, RAM, 0], &mut m)),
            INVALID_PARAMETERS
        );
    }
    m.power[1] = Power::Off;
    // An entry point outside the partition's RAM: INVALID_ADDRESS.
    assert_eq!(
        x0(call(&system, 0, &[PSCI_CPU_ON, 1, 0x1000, 0], &mut m)),
        -9i64 as u64
    );
    assert!(m.kicks.is_empty());
}

#[test]
fn affinity_info_reports_each_vcpu_power_state() {
    let system = system(OnStop::Off);
    let mut m = machine();
    let x0 = |o: Outcome| writes(&o)[0].1;
    assert_eq!(x0(call(&system, 0, &[PSCI_AFFINITY_INFO, 1, 0], &mut m)), 0);
    m.power[1] = Power::Off;
    assert_eq!(x0(call(&system, 0, &[PSCI_AFFINITY_INFO, 1, 0], &mut m)), 1);
    m.power[1] = Power::OnPending;
    assert_eq!(x0(call(&system, 0, &[PSCI_AFFINITY_INFO, 1, 0], &mut m)), 2);
    assert_eq!(
        x0(call(&system, 0, &[PSCI_AFFINITY_INFO, 1, 1], &mut m)),
        INVALID_PARAMETERS
    );
    assert_eq!(
        x0(call(&system, 0, &[PSCI_AFFINITY_INFO, 5, 0], &mut m)),
        INVALID_PARAMETERS
    );
}

#[test]
fn cpu_suspend_is_a_standby_that_returns_success() {
    let system = system(OnStop::Off);
    let mut m = machine();
    let outcome = call(&system, 0, &[PSCI_CPU_SUSPEND, 0, 0, 0], &mut m);
    assert!(outcome.standby);
    assert_eq!(writes(&outcome)[0], (0, 0));
    assert_eq!(outcome.next, Next::Resume);
}

#[test]
fn cpu_off_of_one_vcpu_leaves_the_guest_and_keeps_the_partition() {
    let system = system(OnStop::Off);
    let mut m = machine();
    let outcome = call(&system, 1, &[PSCI_CPU_OFF], &mut m);
    assert_eq!(outcome.next, Next::Leave);
    assert_eq!(m.power[1], Power::Off);
    assert!(!m.in_guest[1]);
    assert_eq!(m.quiesced, [1]);
    assert_eq!(system.partitions[0].state(), PartitionState::Running);
}

#[test]
fn cpu_off_of_the_last_vcpu_stops_the_partition_as_system_off_would() {
    let system = system(OnStop::Off);
    let mut m = machine();
    m.power[1] = Power::Off;
    m.in_guest[1] = false;
    let outcome = call(&system, 0, &[PSCI_CPU_OFF], &mut m);
    assert_eq!(outcome.next, Next::Leave);
    assert_eq!(system.partitions[0].state(), PartitionState::Stopped);
    assert!(m.printed("HIL:PART linux STOPPED reason=cpu-off"));
}

#[test]
fn forwarded_firmware_calls_return_the_firmware_answer_or_not_supported() {
    let system = system(OnStop::Off);
    let mut m = machine();
    m.firmware = Some([7, 8, 9, 10]);
    let outcome = call(&system, 0, &[0xc200_0001, 1, 2, 3, 4], &mut m);
    assert_eq!(
        writes(&outcome).as_slice(),
        &[(0, 7), (1, 8), (2, 9), (3, 10)]
    );
    assert_eq!(m.firmware_calls, [(0xc200_0001, [1, 2, 3])]);
    m.firmware = None;
    let outcome = call(&system, 0, &[0xc200_0001], &mut m);
    assert_eq!(writes(&outcome)[0], (0, NOT_SUPPORTED));
}

// ---- Stops and restarts -------------------------------------------------------------------

#[test]
fn system_off_recalls_every_vcpu_and_reports_the_stop() {
    let system = system(OnStop::Off);
    let mut m = machine();
    let outcome = call(&system, 0, &[PSCI_SYSTEM_OFF], &mut m);
    assert_eq!(outcome.next, Next::Leave);
    assert_eq!(m.power[..2], [Power::Off, Power::Off]);
    assert_eq!(m.kicks, [1], "the other vCPU is recalled");
    assert!(m.printed("HIL:TRAPS partition=linux"));
    assert!(m.printed("HIL:PART linux STOPPED reason=system-off"));
    assert_eq!(m.interrupt_resets, 1);
    assert_eq!(m.reloads, 0);
    assert_eq!(system.partitions[1].state(), PartitionState::Running);
}

#[test]
fn the_last_partition_to_stop_powers_the_machine_off() {
    let system = system(OnStop::Off);
    let mut m = machine();
    assert_eq!(
        call(&system, 2, &[PSCI_SYSTEM_OFF], &mut m).next,
        Next::Leave
    );
    assert_eq!(
        call(&system, 0, &[PSCI_SYSTEM_OFF], &mut m).next,
        Next::PowerOff
    );
}

#[test]
fn system_reset_reloads_the_images_and_restarts_vcpu_0() {
    let system = system(OnStop::Off);
    let mut m = machine();
    let outcome = call(&system, 1, &[PSCI_SYSTEM_RESET], &mut m);
    assert_eq!(outcome.next, Next::Leave);
    assert!(m.printed("HIL:PART linux RESTART reason=system-reset"));
    assert_eq!(m.reloads, 1);
    assert_eq!(system.partitions[0].state(), PartitionState::Running);
    assert_eq!(m.power[0], Power::OnPending);
    assert_eq!(m.power[1], Power::Off);
    assert_eq!(m.boot[0], (RAM, RAM + 0xf0_0000));
    assert!(m.kicks.contains(&0), "vCPU 0's CPU is woken to boot");
    assert!(!m.printed("STOPPED"));
}

#[test]
fn a_fault_in_a_restart_partition_restarts_it() {
    let system = system(OnStop::Restart);
    let mut m = machine();
    let outcome = run(
        &system,
        2,
        data_abort(0x10, mmio(false, 4, 0, false, false)),
        &[0; 31],
        &mut m,
    );
    assert_eq!(outcome.next, Next::Leave);
    assert!(m.printed("HIL:PART rtos RESTART reason=fault"));
    assert_eq!(m.power[2], Power::OnPending);
    assert!(
        m.kicks.is_empty(),
        "its boot CPU is this one: it enters from its loop"
    );
}

#[test]
fn a_second_vcpu_stopping_a_partition_already_stopping_only_leaves() {
    let system = system(OnStop::Off);
    let mut m = machine();
    system.partitions[0].set_state(PartitionState::Stopped);
    let outcome = call(&system, 1, &[PSCI_SYSTEM_OFF], &mut m);
    assert_eq!(outcome.next, Next::Leave);
    assert!(!m.printed("STOPPED"));
    assert_eq!(m.interrupt_resets, 0);
}

#[test]
fn fault_reports_name_the_partition_vcpu_and_instruction() {
    let system = system(OnStop::Off);
    let mut m = machine();
    m.instruction = Some(0xb900_0020);
    let exit = Exit::InstructionAbort {
        ipa: 0x2000_0000,
        far: 0x2000_0000,
    };
    run(&system, 1, exit, &[0; 31], &mut m);
    assert!(m.printed("partition \"linux\" (id 1) stopped: instruction fetch outside its memory"));
    assert!(m.printed("vCPU 1 on CPU 1"));
    assert!(m.printed("0xb9000020"));
}

// ---- Interrupts and the CPU loop --------------------------------------------------------

#[test]
fn an_interrupt_resumes_the_guest_unless_it_carried_a_stop() {
    let system = system(OnStop::Off);
    let mut m = machine();
    assert_eq!(
        run(&system, 2, Exit::Irq, &[0; 31], &mut m),
        Outcome::resume()
    );
    m.on_interrupt_power = Some((2, Power::Off));
    assert_eq!(
        run(&system, 2, Exit::Irq, &[0; 31], &mut m).next,
        Next::Leave
    );
    assert_eq!(m.quiesced, [2]);
    assert_eq!(m.interrupts_handled, 2);
}

#[test]
fn wfi_and_wfe_are_stepped_over() {
    let system = system(OnStop::Off);
    let mut m = machine();
    assert_eq!(
        run(&system, 0, Exit::Wfx { wfe: true }, &[0; 31], &mut m),
        Outcome::step(4)
    );
}

#[test]
fn an_on_pending_vcpu_enters_with_its_boot_request() {
    let system = system(OnStop::Off);
    let mut m = machine();
    m.power[1] = Power::OnPending;
    m.in_guest[1] = false;
    m.boot[1] = (RAM + 0x40, 9);
    let entry = try_enter(&system, 1, &mut m).unwrap();
    assert_eq!(
        (entry.entry, entry.x0, entry.vmpidr),
        (RAM + 0x40, 9, 1 << 31 | 1)
    );
    assert_eq!(m.power[1], Power::On);
    assert!(m.in_guest[1]);
    assert_eq!(m.resets, [1]);
    assert!(m.printed("HIL:PART linux UP cpu=1 vcpu=1 entry=0x40000040"));
}

#[test]
fn a_vcpu_of_a_stopped_partition_stays_out() {
    let system = system(OnStop::Off);
    let mut m = machine();
    m.power[2] = Power::OnPending;
    m.in_guest[2] = false;
    system.partitions[1].set_state(PartitionState::Stopped);
    assert_eq!(try_enter(&system, 2, &mut m), None);
    assert_eq!(m.power[2], Power::Off);
    assert!(!m.in_guest[2]);
    m.power[3] = Power::OnPending;
    assert_eq!(try_enter(&system, 3, &mut m), None, "CPU 3 has no vCPU");
    assert_eq!(try_enter(&system, 0, &mut m), None, "already on");
}

#[test]
fn a_trap_on_a_cpu_without_a_vcpu_leaves() {
    let system = system(OnStop::Off);
    let mut m = machine();
    assert_eq!(
        run(&system, 3, Exit::Irq, &[0; 31], &mut m).next,
        Next::Leave
    );
}
