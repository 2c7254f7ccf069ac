//! Boot from the host device-tree fixtures and bundles built with the configuration crate's
//! writer, on a fake machine.

use std::format;
use std::vec::Vec;

use bulkhead_config::range::Range;

use super::fake::{bundle, FakeMachine, FakeTables, DTB_PA, IMAGE_END};
use super::*;
use crate::host_dt::HostInfo;
use crate::partition::PartitionState;
use crate::system::VcpuSlot;
use crate::vgic::distributor::GicVersion;

const VIRT_GICV3: &[u8] = include_bytes!("../../tests/fixtures/qemu-virt-gicv3.dtb");
const VIRT_GICV2: &[u8] = include_bytes!("../../tests/fixtures/qemu-virt-gicv2.dtb");
const RPI4: &[u8] = include_bytes!("../../tests/fixtures/bcm2711-rpi-4-b.dtb");
const BARE_METAL: &str = include_str!("../../../device-trees/qemu-virt/bare-metal.dts");
const PASSTHROUGH: &str = include_str!("../../../device-trees/qemu-virt/passthrough.dts");
const DOORBELL: &str = include_str!("../../../device-trees/qemu-virt/doorbell.dts");

const MIB: u64 = 1 << 20;
const KERNEL_SIZE: usize = 5000;
const DTB_SIZE: usize = 300;

/// The images the qemu-virt configurations name.
const GUEST_IMAGES: &[(&str, usize)] = &[
    ("test-guest.bin", KERNEL_SIZE),
    ("heartbeat.dtb", DTB_SIZE),
    ("passthrough-uart.dtb", DTB_SIZE),
    ("doorbell-ping.dtb", DTB_SIZE),
    ("doorbell-pong.dtb", DTB_SIZE),
    ("doorbell-bystander.dtb", DTB_SIZE),
];

/// Boots `host` with `after_image` behind the image, through both halves of boot.
fn boot(host: &'static [u8], after_image: Vec<u8>) -> (FakeMachine, Option<Booted>, bool) {
    let mut machine = FakeMachine::new(Some(host), after_image);
    let tables = spin::Mutex::new(FakeTables::new(64));
    let booted = build(&mut machine, &tables);
    let started = booted
        .as_ref()
        .is_some_and(|b| start(&mut machine, &b.host, &b.system));
    (machine, booted, started)
}

/// A qemu-virt configuration with one partition per `(name, cpus, body)`.
fn qemu_config(partitions: &[(&str, &str, &str)]) -> std::string::String {
    let mut dts = std::string::String::from(
        "/dts-v1/;\n/ { compatible = \"bulkhead,config\"; board = \"qemu-virt\";\n\
         partitions { #address-cells = <2>; #size-cells = <2>;\n",
    );
    for (name, cpus, body) in partitions {
        dts += &format!(
            "{name} {{ #address-cells = <2>; #size-cells = <2>; cpus = <{cpus}>;\n\
             {body}\nkernel {{ file = \"test-guest.bin\"; load = <0x0 0x40000000>; }};\n}};\n"
        );
    }
    dts + "}; };\n"
}

const RAM_16M: &str = "memory@40000000 { reg = <0x0 0x40000000 0x0 0x01000000>; };";

fn state_of(booted: &Booted, name: &str) -> PartitionState {
    booted
        .system
        .partitions
        .iter()
        .find(|p| p.name.as_str() == name)
        .map(|p| p.state())
        .expect("the partition exists")
}

#[test]
fn the_bare_metal_configuration_boots_two_partitions_on_qemu_virt_gicv3() {
    let (machine, booted, started) = boot(VIRT_GICV3, bundle(BARE_METAL, GUEST_IMAGES));
    let booted = booted.expect("boots");
    assert!(started);
    assert_eq!(
        machine.steps,
        ["console", "mmu", "entropy", "gic", "fast-calls", "mpidrs"]
    );
    assert_eq!(
        machine.lines.first().map(std::string::String::as_str),
        Some("HIL:BOOT Bulkhead 0.1.0 el=2 board=qemu-virt cpus=4 ram=2048MiB gic=v3 psci=smc counter=1234")
    );
    let system = &booted.system;
    assert_eq!(system.partitions.len(), 2);
    assert!(system.gic_sysregs);
    assert!(system.firmware_psci);
    assert_eq!(system.gic.distributor, Range::new(0x0800_0000, 0x1_0000));
    assert_eq!(
        system.gic.redistributors,
        Some(Range::new(0x080a_0000, 0xf6_0000))
    );
    let ram = Range::new(0x4000_0000, 2 << 30);
    let hyp = hypervisor_reservation(fake::IMAGE_START, IMAGE_END, 0);
    let mut placed: Vec<Range> = Vec::new();
    for (index, partition) in system.partitions.iter().enumerate() {
        assert_eq!(partition.state(), PartitionState::Running);
        assert_eq!(partition.id, index + 1);
        let [memory] = partition.memory.as_slice() else {
            panic!("one region: {:?}", partition.memory)
        };
        let range = Range::new(memory.pa, memory.size);
        assert_eq!((memory.ipa, memory.size), (0x4000_0000, 16 * MIB));
        assert_eq!(memory.pa % (2 * MIB), 0, "2 MiB aligned like its IPA");
        assert!(ram.contains(&range));
        assert!(!range.overlaps(&hyp), "clear of the hypervisor");
        assert!(!range.overlaps(&Range::new(DTB_PA, VIRT_GICV3.len() as u64)));
        assert!(placed.iter().all(|other| !other.overlaps(&range)));
        placed.push(range);
        // Kernel at the start of its RAM, device tree 15 MiB in.
        let images: Vec<(u64, usize)> = partition
            .images
            .iter()
            .map(|i| (i.pa, i.data.len()))
            .collect();
        assert_eq!(
            images,
            [(memory.pa, KERNEL_SIZE), (memory.pa + 0xf0_0000, DTB_SIZE)]
        );
        assert_eq!(partition.images[0].data, &[b't'; KERNEL_SIZE][..]);
        assert_eq!(partition.dtb, 0x40f0_0000);
        assert!(partition.console.is_some());
        assert_eq!(partition.vttbr >> 48, partition.id as u64, "VMID = id");
        assert_eq!(
            machine.lines_with(&format!(
                "partition \"{}\" (id {})",
                partition.name, partition.id
            )),
            [format!(
                "partition \"{}\" (id {}): 16 MiB at PA {:#x}, 0 device(s), vCPUs on MPIDR [{}]",
                partition.name,
                partition.id,
                memory.pa,
                index + 1
            )]
        );
    }
    assert_eq!(system.slots[0], None, "the boot CPU runs no vCPU");
    assert_eq!(
        system.slots[1],
        Some(VcpuSlot {
            partition: 0,
            vcpu: 0
        })
    );
    assert_eq!(
        system.slots[2],
        Some(VcpuSlot {
            partition: 1,
            vcpu: 0
        })
    );
    assert_eq!(system.slots[3], None);
    assert_eq!(machine.loaded.len(), 2, "both partitions' images loaded");
    assert_eq!(
        machine.loaded[0].1,
        [
            (placed[0].start, KERNEL_SIZE),
            (placed[0].start + 0xf0_0000, DTB_SIZE)
        ]
    );
    let vgics: Vec<(usize, GicVersion, usize)> = machine
        .vgics
        .iter()
        .map(|(i, g)| (*i, g.version, g.vcpus))
        .collect();
    assert_eq!(vgics, [(0, GicVersion::V3, 1), (1, GicVersion::V3, 1)]);
    assert!(machine.routes.is_empty(), "no device, no hardware SPI");
}

#[test]
fn secondaries_are_started_with_psci_on_qemu_and_a_refusal_is_reported() {
    let mut machine = FakeMachine::new(Some(VIRT_GICV3), bundle(BARE_METAL, GUEST_IMAGES));
    machine.psci_results.push((2, -4));
    let tables = spin::Mutex::new(FakeTables::new(64));
    let booted = build(&mut machine, &tables).expect("boots");
    assert!(start(&mut machine, &booted.host, &booted.system));
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
    let tables = spin::Mutex::new(FakeTables::new(64));
    let booted = build(&mut machine, &tables).expect("boots");
    assert_eq!(booted.system.cpus[0], 2);
    assert!(start(&mut machine, &booted.host, &booted.system));
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
    let tables = spin::Mutex::new(FakeTables::new(64));
    assert!(build(&mut machine, &tables).is_none());
    let mut machine = FakeMachine::new(Some(b"\xd0\x0d\xfe\xed garbage"), Vec::new());
    assert!(build(&mut machine, &tables).is_none());
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
fn a_passthrough_device_is_mapped_and_its_spi_routed_to_the_partitions_cpu() {
    let (machine, booted, _) = boot(VIRT_GICV3, bundle(PASSTHROUGH, GUEST_IMAGES));
    let booted = booted.unwrap();
    let beta = &booted.system.partitions[1];
    assert_eq!(beta.devices.len(), 1);
    assert_eq!(
        (beta.devices[0].ipa, beta.devices[0].pa),
        (0x0904_0000, 0x0904_0000)
    );
    assert_eq!(machine.routes, [(40, 2)], "INTID 40 to logical CPU 2");
    let (index, gic) = &machine.vgics[1];
    assert_eq!(*index, 1);
    assert!(gic.hardware.contains(40) && !gic.hardware.contains(41));
    assert_eq!(hardware_spis_of(gic), [40]);
    assert_eq!(
        machine.lines_with("(id 2):")[0].split(", ").nth(1),
        Some("1 device(s)")
    );
}

fn hardware_spis_of(gic: &VirtualGic) -> Vec<u32> {
    vgic::hardware_spis(gic).collect()
}

#[test]
fn doorbells_become_software_spis_and_channels_are_announced() {
    let (machine, booted, _) = boot(VIRT_GICV3, bundle(DOORBELL, GUEST_IMAGES));
    let booted = booted.unwrap();
    assert_eq!(booted.system.partitions.len(), 3);
    let ping = &machine.vgics[0].1;
    assert!(ping.software.contains(48) && !ping.software.contains(49));
    assert!(
        ping.hardware.word(1) == 0,
        "doorbells are not hardware SPIs"
    );
    assert!(
        machine.vgics[2].1.software.word(1) == 0,
        "the bystander has none"
    );
    assert_eq!(
        machine.lines_with("channel"),
        ["channel \"ping\": partition \"ping\" receives INTID 48, partition \"pong\" INTID 49"]
    );
}

#[test]
fn on_gicv2_each_partition_sees_the_virtual_cpu_interface_at_the_gicc_address() {
    let mut machine = FakeMachine::new(Some(VIRT_GICV2), bundle(BARE_METAL, GUEST_IMAGES));
    machine.cpu.gic_sysregs = false;
    let tables = spin::Mutex::new(FakeTables::new(64));
    let booted = build(&mut machine, &tables).unwrap();
    assert!(machine.lines[0].contains(" gic=v2 "));
    assert!(!booted.system.gic_sysregs);
    assert_eq!(booted.system.gic.redistributors, None);
    let mut tables = tables.lock();
    for partition in &booted.system.partitions {
        let root = partition.vttbr & 0x0000_ffff_ffff_fffe;
        assert_eq!(
            tables.translate(root, 0x0801_0000),
            Some(0x0804_0000),
            "GICC -> GICV"
        );
        assert_eq!(tables.translate(root, 0x0801_1004), Some(0x0804_1004));
        assert_eq!(tables.translate(root, 0x0801_2000), None, "two pages only");
        let ram = partition.memory[0];
        assert_eq!(
            tables.translate(root, 0x4000_0000 + 0x1234),
            Some(ram.pa + 0x1234)
        );
        assert_eq!(
            tables.translate(root, 0x0900_0000),
            None,
            "the console is trapped"
        );
    }
    assert_eq!(machine.vgics[0].1.version, GicVersion::V2);
}

#[test]
fn running_out_of_stage_2_tables_refuses_only_the_partitions_that_do_not_fit() {
    let mut machine = FakeMachine::new(Some(VIRT_GICV3), bundle(BARE_METAL, GUEST_IMAGES));
    let tables = spin::Mutex::new(FakeTables::new(3));
    let booted = build(&mut machine, &tables).unwrap();
    assert_eq!(state_of(&booted, "alpha"), PartitionState::Running);
    assert_eq!(state_of(&booted, "beta"), PartitionState::Refused);
    assert_eq!(tables.lock().used(), 3);
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
fn fixed_physical_memory_is_kept_from_the_allocator() {
    let dts = qemu_config(&[
        (
            "fixed",
            "0x1",
            "memory@40000000 { reg = <0x0 0x40000000 0x0 0x01000000>; phys = <0x0 0xbf000000>; };",
        ),
        ("floating", "0x2", RAM_16M),
    ]);
    let (_, booted, _) = boot(VIRT_GICV3, bundle(&dts, GUEST_IMAGES));
    let booted = booted.unwrap();
    let fixed = booted.system.partitions[0].memory[0];
    let floating = booted.system.partitions[1].memory[0];
    assert_eq!(fixed.pa, 0xbf00_0000);
    assert!(!Range::new(fixed.pa, fixed.size).overlaps(&Range::new(floating.pa, floating.size)));
}

#[test]
fn smc_allow_lists_reach_the_firmware_allow_list() {
    let dts = qemu_config(&[(
        "caller",
        "0x1",
        &format!("smc-allow = <0x8200ff01>; {RAM_16M}"),
    )]);
    let (machine, _, _) = boot(VIRT_GICV3, bundle(&dts, GUEST_IMAGES));
    assert_eq!(machine.allowed, [(1, std::vec![0x8200_ff01])]);
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

#[test]
fn a_gic_without_virtualization_frames_gives_no_interrupts() {
    let mut host = HostInfo::parse(VIRT_GICV2).unwrap();
    assert!(has_virtualization(host.gic));
    if let Some(crate::host_dt::Gic::V2 { hyp, .. }) = &mut host.gic {
        *hyp = None;
    }
    assert!(!has_virtualization(host.gic));
    assert!(!has_virtualization(None));
    let mut machine = FakeMachine::new(None, Vec::new());
    init_gic(&mut machine, &host);
    assert!(machine.steps.is_empty());
    assert_eq!(
        machine.lines,
        ["no GIC with virtualization support: partitions get no interrupts"]
    );
    host.gic = None;
    let bytes: &'static [u8] =
        std::boxed::Box::leak(bundle(BARE_METAL, GUEST_IMAGES).into_boxed_slice());
    let system = build_system(
        &mut machine,
        &mut FakeTables::new(64),
        &Machine {
            board: "qemu-virt",
            host: &host,
            hyp: Range::new(0x4000_0000, 2 * MIB),
            dtb: Range::new(DTB_PA, 0x1_0000),
            cpu: BootCpu {
                mpidr: 0,
                pa_range: 2,
                gic_sysregs: true,
            },
        },
        Some(bytes),
    );
    assert_eq!(system.partitions[0].state(), PartitionState::Running);
    assert!(machine.vgics.is_empty(), "no distributor without a GIC");
    assert_eq!(system.gic.distributor, Range::default());
}
