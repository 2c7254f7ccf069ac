//! Starting the secondaries and the fast-call table.

use std::vec::Vec;

use bulkhead_config::range::Range;

use super::*;

#[test]
fn secondaries_are_started_with_psci_on_qemu_and_a_refusal_is_reported() {
    let mut machine = FakeMachine::new(Some(VIRT_GICV3), bundle(BARE_METAL, GUEST_IMAGES));
    machine.psci_results.push((2, -4));
    let mut tables = FakeTables::new(64);
    let booted = init(&mut machine, &mut tables, system_slot()).expect("boots");
    assert!(booted.running);
    assert_eq!(machine.mpidrs, [0, 1, 2, 3]);
    let plan: Vec<(usize, u64, StartMethod)> = machine
        .started
        .iter()
        .map(|s| (s.cpu, s.mpidr, s.method))
        .collect();
    assert_eq!(
        plan,
        [
            (1, 1, StartMethod::Psci),
            (2, 2, StartMethod::Psci),
            (3, 3, StartMethod::Psci)
        ]
    );
    assert_eq!(
        machine.lines_with("did not start"),
        ["CPU 2 (MPIDR 0x2) did not start: PSCI error -4"]
    );
}

#[test]
fn a_boot_cpu_listed_later_in_the_tree_becomes_logical_cpu_0() {
    let mut machine = FakeMachine::new(Some(VIRT_GICV3), bundle(BARE_METAL, GUEST_IMAGES));
    machine.cpu.mpidr = 2;
    let mut tables = FakeTables::new(64);
    let booted = init(&mut machine, &mut tables, system_slot()).expect("boots");
    assert_eq!(booted.system.cpus[0], 2);
    assert!(booted.running);
    assert!(machine.started.iter().all(|s| s.mpidr != 2));
    // Partition beta (MPIDR 2) now runs on logical CPU 0.
    assert_eq!(
        booted.system.slots[0],
        Some(VcpuSlot {
            partition: 1,
            vcpu: 0
        })
    );
}

#[test]
fn the_pi_starts_its_secondaries_from_the_spin_table_and_never_calls_psci() {
    let host = HostInfo::parse(RPI4).unwrap();
    let plan: Vec<StartMethod> = secondary_start_plan(&host)
        .iter()
        .map(|s| s.method)
        .collect();
    assert_eq!(
        plan,
        [
            StartMethod::SpinTable { release: 0xe0 },
            StartMethod::SpinTable { release: 0xe8 },
            StartMethod::SpinTable { release: 0xf0 }
        ]
    );
    let mut machine = FakeMachine::new(Some(RPI4), Vec::new());
    start_secondaries(&mut machine, &host);
    assert_eq!(machine.started.len(), 3);
    assert!(machine.lines.is_empty());
}

#[test]
fn a_cpu_with_neither_psci_nor_a_release_address_stays_off_and_is_named() {
    let mut host = HostInfo::parse(RPI4).unwrap();
    host.release_addresses[3] = 0;
    let mut machine = FakeMachine::new(None, Vec::new());
    start_secondaries(&mut machine, &host);
    assert_eq!(
        machine.started.iter().map(|s| s.cpu).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(
        machine.lines,
        ["CPU 3 (MPIDR 0x3): no PSCI and no spin table; it stays off"]
    );
}

#[test]
fn the_fast_call_table_holds_the_dispatchers_constant_answers() {
    let (machine, _, _) = boot(VIRT_GICV3, bundle(BARE_METAL, GUEST_IMAGES));
    let table = machine.fast_calls.expect("installed");
    let functions: Vec<u32> = table.iter().map(|c| c.function).collect();
    assert_eq!(functions, crate::smccc::constant::CONSTANT_CALLS);
    let x0 = |function: u32| {
        table
            .iter()
            .find(|c| c.function == function)
            .map(|c| c.values[0])
    };
    assert_eq!(x0(0x8400_0000), Some(0x1_0001), "PSCI 1.1");
    assert_eq!(x0(0x8000_0000), Some(0x1_0002), "SMCCC 1.2");
    // TRNG_VERSION is in the table too; its answer depends on the entropy the boot found.
}

#[test]
fn without_a_running_partition_the_fast_call_table_is_empty() {
    let host = HostInfo::parse(VIRT_GICV3).unwrap();
    let machine = Machine {
        board: "qemu-virt",
        host: &host,
        hyp: Range::new(0x4000_0000, 2 * MIB),
        dtb: Range::new(DTB_PA, 0x1000),
        cpu: BootCpu {
            mpidr: 0,
            pa_range: 2,
            gic_sysregs: true,
        },
    };
    assert!(fast_call_table(&partitions::empty_system(&machine)).is_empty());
}
