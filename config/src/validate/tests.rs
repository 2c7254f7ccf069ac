extern crate std;

use crate::error::{ConfigError, ErrorKind};
use crate::range::Range;
use crate::test_support::{
    config_dts, messages, partition, qemu_virt, validation_errors, with_parsed, LINUX,
};
use crate::text::bounded;
use crate::{validate, MAX_ERRORS};
use std::format;
use std::string::String;
use std::vec::Vec;

const EXAMPLE: &str = include_str!("../../tests/fixtures/example.dts");
const MEM: &str = "memory@40000000 { reg = <0x0 0x40000000 0x0 0x10000000>; };";
const KERNEL: &str = "kernel { file = \"test-guest.bin\"; load = <0x0 0x40080000>; };";

/// A second valid partition: CPU 2, 4 MiB at IPA 0, a kernel at 0.
const RTOS: &str = r#"
  rtos {
   #address-cells = <2>; #size-cells = <2>;
   cpus = <0x2>;
   memory@0 { reg = <0x0 0x0 0x0 0x00400000>; };
   kernel { file = "rtos.bin"; load = <0x0 0x0>; };
  };"#;

/// One partition `p` on CPU 0 with `props`, the usual memory and kernel, and
/// `nodes`.
fn p(props: &str, nodes: &str) -> String {
    config_dts(&partition(
        "p",
        &format!("cpus = <0>; {props} {MEM} {KERNEL} {nodes}"),
    ))
}

/// Validates and asserts there is exactly one error.
fn only(dts: &str) -> ConfigError {
    let errors = validation_errors(dts);
    assert_eq!(errors.len(), 1, "{}", messages(&errors));
    errors.into_iter().next().expect("one error")
}

fn name(s: &str) -> heapless::String<32> {
    bounded(s)
}

#[test]
fn example_config_is_valid_for_qemu_virt() {
    let errors = validation_errors(EXAMPLE);
    assert!(errors.is_empty(), "{}", messages(&errors));
}

#[test]
fn two_valid_partitions_have_no_errors() {
    let errors = validation_errors(&config_dts(&format!("{LINUX}{RTOS}")));
    assert!(errors.is_empty(), "{}", messages(&errors));
}

#[test]
fn config_for_another_board_is_rejected() {
    let dts = config_dts(LINUX).replace("\"qemu-virt\"", "\"rpi4\"");
    let e = only(&dts);
    assert_eq!(e.partition, None);
    assert_eq!(e.node.as_str(), "/");
    assert_eq!(
        e.kind,
        ErrorKind::BoardMismatch {
            config: name("rpi4"),
            board: name("qemu-virt")
        }
    );
}

#[test]
fn fixed_memory_overlapping_an_earlier_partition_is_reported_on_the_later_one() {
    let a = partition(
        "linux",
        &format!("cpus = <0>; {KERNEL} memory@40000000 {{ reg = <0 0x40000000 0 0x10000000>; phys = <0 0x50000000>; }};"),
    );
    let b = partition(
        "rtos",
        "cpus = <1>; memory@0 { reg = <0 0 0 0x100000>; phys = <0 0x5ff00000>; }; \
         kernel { file = \"rtos.bin\"; load = <0 0>; };",
    );
    let e = only(&config_dts(&format!("{a}{b}")));
    assert_eq!(e.partition, Some(1));
    assert_eq!(e.node.as_str(), "/partitions/rtos/memory@0");
    assert_eq!(
        e.kind,
        ErrorKind::MemoryOverlap {
            other: name("linux"),
            range: Range::new(0x5000_0000, 0x1000_0000)
        }
    );
    assert_eq!(
        format!("{e}"),
        "/partitions/rtos/memory@0: overlaps partition \"linux\" at \
         [0x0000_0000_5000_0000, 0x0000_0000_6000_0000); change `phys`, or drop it to let \
         the hypervisor allocate"
    );
}

#[test]
fn two_fixed_regions_of_one_partition_sharing_memory_are_rejected() {
    let dts = p(
        "",
        "memory@80000000 { reg = <0 0x80000000 0 0x1000>; phys = <0 0x60000000>; }; \
         memory@90000000 { reg = <0 0x90000000 0 0x1000>; phys = <0 0x60000000>; };",
    );
    let e = only(&dts);
    assert_eq!(e.node.as_str(), "/partitions/p/memory@90000000");
    assert!(
        matches!(&e.kind, ErrorKind::MemoryOverlap { other, .. } if other == "p"),
        "{e}"
    );
}

#[test]
fn fixed_memory_on_the_hypervisor_image_is_rejected() {
    let dts = p(
        "",
        "memory@80000000 { reg = <0 0x80000000 0 0x100000>; phys = <0 0x42000000>; };",
    );
    let e = only(&dts);
    assert_eq!(
        e.kind,
        ErrorKind::OverlapsReserved {
            why: "hypervisor image and bundle",
            range: Range::new(0x4000_0000, 0x0400_0000)
        }
    );
}

#[test]
fn fixed_memory_outside_ram_is_rejected() {
    let dts = p(
        "",
        "memory@80000000 { reg = <0 0x80000000 0 0x100000>; phys = <0 0xbff80000>; };",
    );
    let e = only(&dts);
    assert_eq!(
        e.kind,
        ErrorKind::NotInRam {
            range: Range::new(0xbff8_0000, 0x10_0000)
        }
    );
}

#[test]
fn regions_overlapping_in_ipa_are_rejected() {
    let dts = p("", "memory@4ffff000 { reg = <0 0x4ffff000 0 0x2000>; };");
    let e = only(&dts);
    assert_eq!(e.node.as_str(), "/partitions/p/memory@4ffff000");
    assert_eq!(
        e.kind,
        ErrorKind::RegionsOverlap {
            other: name("memory@40000000"),
            range: Range::new(0x4000_0000, 0x1000_0000)
        }
    );
}

#[test]
fn cpu_in_two_partitions_is_rejected() {
    let dts = config_dts(&format!("{LINUX}{}", RTOS.replace("<0x2>", "<0x1>")));
    let e = only(&dts);
    assert_eq!(e.partition, Some(1));
    assert_eq!(e.node.as_str(), "/partitions/rtos");
    assert_eq!(
        e.kind,
        ErrorKind::CpuTwice {
            mpidr: 1,
            other: name("linux")
        }
    );
}

#[test]
fn cpu_listed_twice_in_one_partition_is_rejected() {
    let dts = config_dts(&LINUX.replace("<0x0 0x1>", "<0x1 0x1>"));
    let e = only(&dts);
    assert_eq!(
        e.kind,
        ErrorKind::CpuTwice {
            mpidr: 1,
            other: name("linux")
        }
    );
}

#[test]
fn cpu_missing_from_the_board_is_rejected() {
    let e = only(&config_dts(&LINUX.replace("<0x0 0x1>", "<0x0 0x100>")));
    assert_eq!(e.kind, ErrorKind::NoSuchCpu { mpidr: 0x100 });
}

#[test]
fn value_with_bits_above_aff2_is_not_an_mpidr() {
    let e = only(&config_dts(&LINUX.replace("<0x0 0x1>", "<0x0 0x80000001>")));
    assert_eq!(e.kind, ErrorKind::InvalidMpidr { mpidr: 0x8000_0001 });
}

#[test]
fn unaligned_region_ipa_size_and_phys_are_each_reported() {
    let dts = p(
        "",
        "memory@80000800 { reg = <0 0x80000800 0 0x1800>; phys = <0 0x60000100>; };",
    );
    let errors = validation_errors(&dts);
    let kinds: Vec<_> = errors.iter().map(|e| e.kind.clone()).collect();
    let unaligned = |what, addr| ErrorKind::Unaligned {
        what,
        addr,
        align: 0x1000,
    };
    assert_eq!(
        kinds,
        [
            unaligned("IPA", 0x8000_0800),
            unaligned("size", 0x1800),
            unaligned("physical address", 0x6000_0100),
        ],
        "{}",
        messages(&errors)
    );
}

#[test]
fn image_spilling_past_its_region_is_rejected_with_the_room_left() {
    let dts = config_dts(&LINUX.replace("0x40080000", "0x4ffff000"));
    let e = only(&dts);
    assert_eq!(e.node.as_str(), "/partitions/linux/kernel");
    assert_eq!(
        e.kind,
        ErrorKind::ImageTooLarge {
            file: bounded("test-guest.bin"),
            size: 0x1_0000,
            room: 0x1000
        }
    );
}

#[test]
fn image_loaded_outside_memory_is_rejected() {
    let dts = p(
        "",
        "initrd { file = \"initrd.gz\"; load = <0 0x60000000>; };",
    );
    let e = only(&dts);
    assert_eq!(e.node.as_str(), "/partitions/p/initrd");
    assert_eq!(
        e.kind,
        ErrorKind::ImageOutsideMemory {
            file: bounded("initrd.gz"),
            load: 0x6000_0000
        }
    );
}

#[test]
fn entry_outside_memory_is_rejected() {
    let dts = config_dts(&LINUX.replace(
        "load = <0x0 0x40080000>;",
        "load = <0x0 0x40080000>; entry = <0x0 0x80000000>;",
    ));
    let e = only(&dts);
    assert_eq!(e.node.as_str(), "/partitions/linux/kernel");
    assert_eq!(e.kind, ErrorKind::EntryOutside { entry: 0x8000_0000 });
}

#[test]
fn missing_image_file_is_rejected() {
    let dts = config_dts(&LINUX.replace("test-guest.bin", "missing.bin"));
    let e = only(&dts);
    assert_eq!(
        e.kind,
        ErrorKind::MissingImage {
            file: bounded("missing.bin")
        }
    );
}

#[test]
fn overlapping_images_are_rejected() {
    let dts = p("", "dtb { file = \"guest.dtb\"; load = <0 0x40088000>; };");
    let e = only(&dts);
    assert_eq!(e.node.as_str(), "/partitions/p/dtb");
    assert_eq!(
        e.kind,
        ErrorKind::ImagesOverlap {
            other: "kernel",
            range: Range::new(0x4008_0000, 0x1_0000)
        }
    );
}

#[test]
fn device_in_two_partitions_is_rejected() {
    let dev = "device@9040000 { reg = <0x0 0x09040000 0x0 0x1000>; };";
    let a = LINUX.replace("};\n  };", &format!("}};\n {dev} }};"));
    let b = RTOS.replace("};\n  };", &format!("}};\n {dev} }};"));
    let e = only(&config_dts(&format!("{a}{b}")));
    assert_eq!(e.partition, Some(1));
    assert_eq!(e.node.as_str(), "/partitions/rtos/device@9040000");
    assert_eq!(
        e.kind,
        ErrorKind::DeviceTwice {
            range: Range::new(0x0904_0000, 0x1000),
            other: name("linux")
        }
    );
}

#[test]
fn device_on_the_hypervisor_uart_is_rejected() {
    let e = only(&p("", "device@9000000 { reg = <0 0x09000000 0 0x1000>; };"));
    assert_eq!(
        e.kind,
        ErrorKind::DeviceOverlapsHost {
            range: Range::new(0x0900_0000, 0x1000),
            what: "console UART"
        }
    );
}

#[test]
fn device_in_board_ram_is_rejected() {
    let e = only(&p(
        "",
        "device@60000000 { reg = <0 0x60000000 0 0x1000>; ipa = <0 0x10000000>; };",
    ));
    assert_eq!(
        e.kind,
        ErrorKind::DeviceInRam {
            range: Range::new(0x4000_0000, 0x8000_0000)
        }
    );
}

#[test]
fn device_ipa_on_partition_memory_is_rejected() {
    let e = only(&p(
        "",
        "device@9040000 { reg = <0 0x09040000 0 0x1000>; ipa = <0 0x40000000>; };",
    ));
    assert_eq!(
        e.kind,
        ErrorKind::DeviceOverlapsMemory {
            range: Range::new(0x4000_0000, 0x1000_0000)
        }
    );
}

#[test]
fn devices_sharing_an_ipa_are_rejected() {
    let e = only(&p(
        "",
        "device@9040000 { reg = <0 0x09040000 0 0x1000>; ipa = <0 0x10000000>; }; \
         device@9050000 { reg = <0 0x09050000 0 0x1000>; ipa = <0 0x10000000>; };",
    ));
    assert_eq!(e.node.as_str(), "/partitions/p/device@9050000");
    assert_eq!(
        e.kind,
        ErrorKind::DevicesOverlap {
            other: name("device@9040000"),
            range: Range::new(0x1000_0000, 0x1000)
        }
    );
}

#[test]
fn unaligned_device_is_rejected() {
    let e = only(&p(
        "",
        "device@9040800 { reg = <0 0x09040800 0 0x1000>; ipa = <0 0x10000000>; };",
    ));
    assert_eq!(
        e.kind,
        ErrorKind::Unaligned {
            what: "physical address",
            addr: 0x0904_0800,
            align: 0x1000
        }
    );
}

#[test]
fn interrupt_in_two_partitions_is_rejected() {
    let a = LINUX.replace(
        "};\n  };",
        "};\n device@9040000 { reg = <0 0x09040000 0 0x1000>; interrupts = <40>; }; };",
    );
    let b = RTOS.replace(
        "};\n  };",
        "};\n device@9050000 { reg = <0 0x09050000 0 0x1000>; interrupts = <41 40>; }; };",
    );
    let e = only(&config_dts(&format!("{a}{b}")));
    assert_eq!(e.partition, Some(1));
    assert_eq!(
        e.kind,
        ErrorKind::IrqTwice {
            intid: 40,
            other: name("linux")
        }
    );
}

#[test]
fn interrupt_listed_twice_in_one_device_is_rejected() {
    let e = only(&p(
        "",
        "device@9040000 { reg = <0 0x09040000 0 0x1000>; interrupts = <40 40>; };",
    ));
    assert_eq!(
        e.kind,
        ErrorKind::IrqTwice {
            intid: 40,
            other: name("p")
        }
    );
}

#[test]
fn interrupts_outside_the_spi_range_are_rejected() {
    let errors = validation_errors(&p(
        "",
        "device@9040000 { reg = <0 0x09040000 0 0x1000>; interrupts = <31 32 287 1020>; };",
    ));
    let kinds: Vec<_> = errors.iter().map(|e| e.kind.clone()).collect();
    assert_eq!(
        kinds,
        [
            ErrorKind::BadIrq { intid: 31 },
            ErrorKind::BadIrq { intid: 1020 }
        ]
    );
}

#[test]
fn interrupts_beyond_the_virtual_gic_are_rejected() {
    let e = only(&p(
        "",
        "device@9040000 { reg = <0 0x09040000 0 0x1000>; interrupts = <512>; };",
    ));
    assert_eq!(
        e.kind,
        ErrorKind::IrqBeyond {
            intid: 512,
            max: 511,
            what: "the virtual GIC"
        }
    );
    assert!(format!("{e}").contains("interrupt 512 is beyond what the virtual GIC supports"));
}

#[test]
fn interrupts_beyond_the_boards_gic_are_rejected() {
    // The test board is QEMU virt: 256 SPIs, INTIDs 32..=287.
    let e = only(&p(
        "",
        "device@9040000 { reg = <0 0x09040000 0 0x1000>; interrupts = <288>; };",
    ));
    assert_eq!(
        e.kind,
        ErrorKind::IrqBeyond {
            intid: 288,
            max: 287,
            what: "the board's GIC"
        }
    );
}

#[test]
fn console_on_partition_memory_is_rejected() {
    let e = only(&p("", "console { reg = <0 0x4ffff000 0 0x1000>; };"));
    assert_eq!(e.node.as_str(), "/partitions/p/console");
    assert_eq!(
        e.kind,
        ErrorKind::ConsoleOverlaps {
            range: Range::new(0x4000_0000, 0x1000_0000)
        }
    );
}

#[test]
fn console_on_a_device_is_rejected() {
    let e = only(&p(
        "",
        "console { reg = <0 0x09040000 0 0x1000>; }; \
         device@9040000 { reg = <0 0x09040000 0 0x1000>; };",
    ));
    assert_eq!(
        e.kind,
        ErrorKind::ConsoleOverlaps {
            range: Range::new(0x0904_0000, 0x1000)
        }
    );
}

#[test]
fn unaligned_console_is_rejected() {
    let e = only(&p("", "console { reg = <0 0x09000000 0 0x100>; };"));
    assert_eq!(
        e.kind,
        ErrorKind::Unaligned {
            what: "size",
            addr: 0x100,
            align: 0x1000
        }
    );
}

#[test]
fn sip_oem_and_trusted_os_calls_may_be_allow_listed() {
    let errors = validation_errors(&p(
        "smc-allow = <0x8200ff01 0xc2000010 0x83000001 0x81000000 0xbf00ff01>;",
        "",
    ));
    assert!(errors.is_empty(), "{}", messages(&errors));
}

#[test]
fn allow_listing_psci_is_rejected_on_the_partition() {
    let e = only(&p("smc-allow = <0x8200ff01 0x84000008>;", ""));
    assert_eq!(e.partition, Some(0));
    assert_eq!(e.node.as_str(), "/partitions/p");
    assert!(
        matches!(e.kind, ErrorKind::BadSmc { function: 0x8400_0008, why } if why.starts_with("owner 4 ")),
        "{e}"
    );
    assert_eq!(
        format!("{e}"),
        "/partitions/p: `smc-allow` entry 0x84000008 cannot go to the firmware: owner 4 \
         (standard secure services: PSCI, TRNG, ...) is served by Bulkhead itself; only fast \
         calls of the CPU (1), SiP (2), OEM (3) and trusted application and OS (48..=63) owners \
         can be allow-listed"
    );
}

#[test]
fn every_smc_allow_entry_that_cannot_be_forwarded_is_reported() {
    // Yielding SiP, reserved bits, Arm, TRNG, standard hypervisor, Bulkhead's own UID,
    // reserved owner 7.
    let bad = [
        0x0200_ff01,
        0x8240_0000,
        0x8000_0000,
        0x8400_0050,
        0x8500_0000,
        0x8600_ff01,
        0x8700_0000,
    ];
    let cells: String = bad.iter().map(|f| format!("{f:#x} ")).collect();
    let errors = validation_errors(&p(&format!("smc-allow = <{cells}>;"), ""));
    let functions: Vec<u32> = errors
        .iter()
        .map(|e| match e.kind {
            ErrorKind::BadSmc { function, .. } => function,
            ref other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(functions, bad);
}

#[test]
fn smc_allow_entry_listed_twice_is_rejected() {
    let e = only(&p("smc-allow = <0x8200ff01 0x82000001 0x8200ff01>;", ""));
    assert_eq!(e.node.as_str(), "/partitions/p");
    assert_eq!(
        e.kind,
        ErrorKind::SmcTwice {
            function: 0x8200_ff01
        }
    );
}

#[test]
fn the_same_smc_may_be_allow_listed_for_two_partitions() {
    let a = partition(
        "a",
        &format!("cpus = <0>; smc-allow = <0x8200ff01>; {MEM} {KERNEL}"),
    );
    let b = partition(
        "b",
        &format!("cpus = <1>; smc-allow = <0x8200ff01>; {MEM} {KERNEL}"),
    );
    let errors = validation_errors(&config_dts(&format!("{a}{b}")));
    assert!(errors.is_empty(), "{}", messages(&errors));
}

#[test]
fn partition_with_several_errors_reports_all_of_them() {
    let dts = config_dts(&partition(
        "p",
        "cpus = <0x0 0x9>; \
         memory@40000000 { reg = <0 0x40000000 0 0x1000>; phys = <0 0x40000000>; }; \
         kernel { file = \"missing.bin\"; load = <0 0x80000000>; }; \
         device@9000000 { reg = <0 0x09000000 0 0x1000>; interrupts = <7>; };",
    ));
    let errors = validation_errors(&dts);
    let text = messages(&errors);
    let expected = [
        "/partitions/p: CPU 0x9 does not exist",
        "/partitions/p/memory@40000000: overlaps the hypervisor image and bundle",
        "/partitions/p/kernel: image file \"missing.bin\" not found",
        "/partitions/p/kernel: load address 0x80000000 of \"missing.bin\"",
        "/partitions/p/kernel: entry point 0x80000000",
        "/partitions/p/device@9000000: physical range overlaps",
        "/partitions/p/device@9000000: interrupt 7 is not",
    ];
    for want in expected {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    assert_eq!(errors.len(), expected.len(), "{text}");
    assert!(errors.iter().all(|e| e.partition == Some(0)));
}

#[test]
fn more_errors_than_fit_end_with_more_errors() {
    let irqs: String = (0..8).map(|i| format!("{} ", i)).collect();
    let devices: String = (0..8)
        .map(|i| {
            format!("device@{i}0000 {{ reg = <0 0x0{i}0000 0 0x1000>; interrupts = <{irqs}>; }};")
        })
        .collect();
    let errors = validation_errors(&p("", &devices));
    assert_eq!(errors.len(), MAX_ERRORS);
    assert_eq!(errors.last().map(|e| &e.kind), Some(&ErrorKind::MoreErrors));
}

#[test]
fn validation_does_not_trust_hand_built_configs() {
    // A config built in code may hold values `parse` would reject.
    with_parsed(&config_dts(LINUX), |c| {
        let mut c = c.clone();
        let part = &mut c.partitions[0];
        part.memory[0].ipa = Range::new(u64::MAX - 0xfff, u64::MAX);
        part.memory[0].phys = Some(u64::MAX);
        part.kernel.load = u64::MAX;
        part.entry = u64::MAX;
        let errors = validate(&c, &qemu_virt(), &|_| Some(u64::MAX));
        assert!(!errors.is_empty());
    });
}

const CONSOLE: &str = "console { reg = <0 0x09000000 0 0x1000>; };";
const UART: &str = "device@9040000 { reg = <0 0x09040000 0 0x1000>; interrupts = <40>; };";

#[test]
fn a_console_node_means_a_virtual_console_and_none_means_none() {
    with_parsed(&p("", CONSOLE), |c| {
        assert_eq!(
            c.partitions[0].console_mode,
            crate::model::ConsoleMode::Virtual
        )
    });
    with_parsed(&p("", ""), |c| {
        assert_eq!(
            c.partitions[0].console_mode,
            crate::model::ConsoleMode::None
        )
    });
    with_parsed(&p("console-mode = \"passthrough\";", UART), |c| {
        assert_eq!(
            c.partitions[0].console_mode,
            crate::model::ConsoleMode::Passthrough
        )
    });
    assert!(validation_errors(&p("console-mode = \"passthrough\";", UART)).is_empty());
    assert!(validation_errors(&p("console-mode = \"virtual\";", CONSOLE)).is_empty());
}

#[test]
fn a_console_mode_that_contradicts_the_nodes_is_rejected_with_the_reason() {
    let cases = [
        ("console-mode = \"virtual\";", "", "needs a `console` node"),
        ("console-mode = \"none\";", CONSOLE, "remove one"),
        (
            "console-mode = \"passthrough\";",
            CONSOLE,
            "remove the `console` node",
        ),
        (
            "console-mode = \"passthrough\";",
            "",
            "needs the UART as a `device` node",
        ),
    ];
    for (props, nodes, why) in cases {
        let e = only(&p(props, nodes));
        assert_eq!(e.node.as_str(), "/partitions/p", "{props} {nodes}");
        assert!(format!("{e}").contains(why), "{e}");
    }
}

#[test]
fn console_focus_must_name_a_partition_with_a_virtual_console() {
    let with_focus = |focus: &str, nodes: &str| {
        p("", nodes).replace(
            "board = \"qemu-virt\";",
            &format!(
                "board = \"qemu-virt\"; console-focus = \"{focus}\"; console-baud = <115200>;"
            ),
        )
    };
    assert!(validation_errors(&with_focus("p", CONSOLE)).is_empty());
    with_parsed(&with_focus("p", CONSOLE), |c| {
        assert_eq!((c.console.focus, c.console.baud), (Some("p"), 115_200))
    });
    let e = only(&with_focus("nobody", CONSOLE));
    assert_eq!(e.node.as_str(), "/");
    assert_eq!(
        e.kind,
        ErrorKind::ConsoleFocus {
            name: name("nobody")
        }
    );
    let e = only(&with_focus("p", ""));
    assert!(
        format!("{e}").contains("no partition with a virtual console"),
        "{e}"
    );
}

#[test]
fn a_second_privileged_partition_is_rejected_naming_the_first() {
    let rtos = RTOS.replace("cpus = <0x2>;", "cpus = <0x2>; privileged;");
    let linux = LINUX.replacen("cpus = ", "privileged; cpus = ", 1);
    let e = only(&config_dts(&format!("{linux}{rtos}")));
    assert_eq!(e.partition, Some(1), "{e}");
    assert_eq!(e.node.as_str(), "/partitions/rtos", "{e}");
    assert_eq!(
        e.kind,
        ErrorKind::PrivilegedTwice {
            other: name("linux")
        }
    );
    let errors = validation_errors(&config_dts(&format!("{linux}{RTOS}")));
    assert!(
        errors.is_empty(),
        "one privileged partition is fine: {}",
        messages(&errors)
    );
}

/// The errors of `dts` on QEMU `virt` with its SMMU (`-M virt,iommu=smmuv3`).
fn errors_with_smmu(dts: &str) -> Vec<ConfigError> {
    with_parsed(dts, |config| {
        let mut board = qemu_virt();
        board.smmu = Some(Range::new(0x0905_0000, 0x2_0000));
        validate(config, &board, &crate::test_support::image_size)
            .into_iter()
            .collect()
    })
}

const PCIE: &str = "device@10000000 { reg = <0x0 0x10000000 0x0 0x01000000>; interrupts = <35 36 37 38>; stream-ids = <0x8 0x10>; };";

#[test]
fn stream_ids_on_bus_0_behind_the_boards_smmu_are_valid() {
    let errors = errors_with_smmu(&p("", PCIE));
    assert!(errors.is_empty(), "{}", messages(&errors));
}

#[test]
fn a_stream_id_beyond_the_stream_table_is_refused() {
    let errors = errors_with_smmu(&p("", &PCIE.replace("0x10>", "0x100>")));
    assert_eq!(errors.len(), 1, "{}", messages(&errors));
    assert_eq!(errors[0].node.as_str(), "/partitions/p/device@10000000");
    assert_eq!(errors[0].kind, ErrorKind::StreamIdTooLarge { sid: 0x100 });
}
