//! What boot refuses, and that it refuses it alone.

use std::format;
use std::vec::Vec;

use bulkhead_config::range::Range;

use super::*;

#[test]
fn a_missing_bundle_gives_no_partitions_and_the_machine_powers_off() {
    let (machine, booted, started) = boot(VIRT_GICV3, std::vec![0; 4096]);
    assert!(booted.expect("boots").system.partitions.is_empty());
    assert!(!started);
    assert!(machine.fast_calls.is_none() && machine.started.is_empty());
    assert_eq!(
        &machine.lines[1..],
        [
            "no configuration bundle after the image: build with `cargo xtask build`",
            "no partition can run"
        ]
    );
}

#[test]
fn a_corrupt_bundle_is_no_bundle() {
    let mut bytes = bundle(BARE_METAL, GUEST_IMAGES);
    bytes[24] ^= 0xff; // the entry count
    let (machine, booted, _) = boot(VIRT_GICV3, bytes);
    assert!(booted.unwrap().system.partitions.is_empty());
    assert_eq!(machine.lines_with("no configuration bundle").len(), 1);
}

#[test]
fn a_bundle_whose_configuration_does_not_parse_is_reported() {
    let images = [("test-guest.bin", 16)];
    let garbage = bulkhead_config::write_bundle(&[
        (bulkhead_config::CONFIG_ENTRY, b"not a device tree"),
        (images[0].0, &[0; 16]),
    ]);
    let (machine, booted, started) = boot(VIRT_GICV3, garbage);
    assert!(booted.unwrap().system.partitions.is_empty());
    assert!(!started);
    assert_eq!(
        machine.lines_with("config"),
        ["the bundle's config.dtb is not a valid configuration"]
    );
}

#[test]
fn no_host_device_tree_stops_boot_silently() {
    let mut machine = FakeMachine::new(None, Vec::new());
    let mut tables = FakeTables::new(64);
    assert!(init(&mut machine, &mut tables, system_slot()).is_none());
    let mut machine = FakeMachine::new(Some(b"\xd0\x0d\xfe\xed garbage"), Vec::new());
    assert!(init(&mut machine, &mut tables, system_slot()).is_none());
    assert!(machine.lines.is_empty() && machine.steps.is_empty());
}

#[test]
fn partitions_on_the_hypervisor_or_the_device_tree_are_refused_alone() {
    let dts = qemu_config(&[
        ("good", "0x1", RAM_16M),
        (
            "onhyp",
            "0x2",
            "memory@40000000 { reg = <0x0 0x40000000 0x0 0x01000000>; phys = <0x0 0x40000000>; };",
        ),
        (
            "ondtb",
            "0x3",
            "memory@40000000 { reg = <0x0 0x40000000 0x0 0x01000000>; phys = <0x0 0x48000000>; };",
        ),
        ("ghost", "0x7", RAM_16M),
    ]);
    let (machine, booted, started) = boot(VIRT_GICV3, bundle(&dts, GUEST_IMAGES));
    let booted = booted.unwrap();
    assert!(started, "the good partition runs");
    assert_eq!(state_of(&booted, "good"), PartitionState::Running);
    for name in ["onhyp", "ondtb", "ghost"] {
        assert_eq!(state_of(&booted, name), PartitionState::Refused, "{name}");
    }
    let refusals = |name: &str| machine.lines_with(&format!("partition \"{name}\" (id"));
    assert!(
        refusals("onhyp")[0].contains("refused: ")
            && refusals("onhyp")[0].contains("overlaps the hypervisor image and bundle"),
        "{:?}",
        refusals("onhyp")
    );
    assert!(
        refusals("ondtb")[0].contains("overlaps the host device tree"),
        "{:?}",
        refusals("ondtb")
    );
    assert_eq!(refusals("ghost").len(), 1);
    assert!(refusals("ghost")[0].starts_with("partition \"ghost\" (id 4) refused: "));
    assert!(refusals("ghost")[0].contains("CPU 0x7 does not exist on this board"));
    // Only the good partition was loaded, given a distributor and a CPU.
    assert_eq!(machine.loaded.iter().map(|l| l.0).collect::<Vec<_>>(), [1]);
    assert_eq!(machine.vgics.len(), 1);
    let system = &booted.system;
    assert_eq!(system.slots.iter().flatten().count(), 1);
    assert!(system
        .partitions
        .iter()
        .filter(|p| p.name != "good")
        .all(|p| p.memory.is_empty() && p.images.is_empty()));
}

#[test]
fn passing_through_the_console_uart_or_the_gic_is_refused() {
    let dts = qemu_config(&[
        (
            "uart",
            "0x1",
            &format!("{RAM_16M} device@9000000 {{ reg = <0x0 0x09000000 0x0 0x1000>; }};"),
        ),
        (
            "gic",
            "0x2",
            &format!("{RAM_16M} device@8000000 {{ reg = <0x0 0x08000000 0x0 0x10000>; }};"),
        ),
        ("fine", "0x3", RAM_16M),
    ]);
    let (machine, booted, _) = boot(VIRT_GICV3, bundle(&dts, GUEST_IMAGES));
    let booted = booted.unwrap();
    assert_eq!(state_of(&booted, "uart"), PartitionState::Refused);
    assert_eq!(state_of(&booted, "gic"), PartitionState::Refused);
    assert_eq!(state_of(&booted, "fine"), PartitionState::Running);
    assert!(machine.lines_with("\"uart\" (id 1) refused")[0].contains("its console UART"));
    assert!(machine.lines_with("\"gic\" (id 2) refused")[0].contains("its GIC distributor"));
}

#[test]
fn running_out_of_stage_2_tables_refuses_only_the_partitions_that_do_not_fit() {
    let mut machine = FakeMachine::new(Some(VIRT_GICV3), bundle(BARE_METAL, GUEST_IMAGES));
    let mut tables = FakeTables::new(3);
    let booted = init(&mut machine, &mut tables, system_slot()).unwrap();
    assert_eq!(state_of(&booted, "alpha"), PartitionState::Running);
    assert_eq!(state_of(&booted, "beta"), PartitionState::Refused);
    assert_eq!(tables.used(), 3);
    assert!(machine.lines_with("\"beta\" (id 2) refused: ")[0].contains("stage-2"));
}

#[test]
fn a_partition_larger_than_the_free_ram_is_refused() {
    let dts = qemu_config(&[
        ("small", "0x1", RAM_16M),
        (
            "huge",
            "0x2",
            "memory@40000000 { reg = <0x0 0x40000000 0x0 0x7f000000>; };",
        ),
    ]);
    let (machine, booted, _) = boot(VIRT_GICV3, bundle(&dts, GUEST_IMAGES));
    let booted = booted.unwrap();
    assert_eq!(state_of(&booted, "small"), PartitionState::Running);
    assert_eq!(state_of(&booted, "huge"), PartitionState::Refused);
    assert_eq!(
        machine.lines_with("\"huge\""),
        ["partition \"huge\" (id 2) refused: not enough free RAM"]
    );
}

#[test]
fn the_pi_board_is_checked_against_the_pis_own_tree() {
    let host = HostInfo::parse(RPI4).unwrap();
    let dts = "/dts-v1/;\n/ { compatible = \"bulkhead,config\"; board = \"rpi4\";\n\
        partitions { #address-cells = <2>; #size-cells = <2>;\n\
        rtos { #address-cells = <2>; #size-cells = <2>; cpus = <0x2>;\n\
        memory@40000000 { reg = <0x0 0x40000000 0x0 0x01000000>; };\n\
        kernel { file = \"test-guest.bin\"; load = <0x0 0x40000000>; };\n\
        device@fe215000 { reg = <0x0 0xfe215000 0x0 0x1000>; }; }; }; };\n";
    let bytes: &'static [u8] = std::boxed::Box::leak(bundle(dts, GUEST_IMAGES).into_boxed_slice());
    let machine = Machine {
        board: "rpi4",
        host: &host,
        hyp: Range::new(0x0020_0000, 2 * MIB),
        dtb: Range::new(0x0300_0000, 0x1_0000),
        cpu: BootCpu {
            mpidr: 0,
            pa_range: 1,
            gic_sysregs: false,
        },
    };
    let mut fake = FakeMachine::new(None, Vec::new());
    let system = build_system(&mut fake, &mut FakeTables::new(64), &machine, Some(bytes));
    assert_eq!(system.partitions[0].state(), PartitionState::Refused);
    assert!(
        fake.lines[0].contains("its console UART"),
        "{:?}",
        fake.lines
    );
    assert_eq!(system.pm_watchdog, Some(0xfe10_0000));
    assert!(!system.firmware_psci);
}

#[test]
fn a_configuration_for_another_board_is_reported_as_a_configuration_error() {
    let dts = BARE_METAL.replace("board = \"qemu-virt\"", "board = \"rpi4\"");
    let (machine, _, _) = boot(VIRT_GICV3, bundle(&dts, GUEST_IMAGES));
    assert_eq!(machine.lines_with("configuration error: ").len(), 1);
    assert!(machine.lines_with("configuration error: ")[0].contains("\"rpi4\""));
}
