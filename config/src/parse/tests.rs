extern crate std;

use crate::error::ErrorKind;
use crate::model::{Config, OnStop};
use crate::range::Range;
use crate::test_support::{
    compile, config_dts, parse_error, partition, with_parsed, FdtBuilder, LINUX,
};
use crate::{
    MAX_CPUS, MAX_DEVICES, MAX_IRQS_PER_DEVICE, MAX_PARTITIONS, MAX_REGIONS, MAX_SMC_ALLOW,
};
use std::format;
use std::string::String;

const EXAMPLE: &str = include_str!("../../tests/fixtures/example.dts");

const MEM: &str = "memory@40000000 { reg = <0x0 0x40000000 0x0 0x10000000>; };";
const KERNEL: &str = "kernel { file = \"test-guest.bin\"; load = <0x0 0x40080000>; };";

fn one(body: &str) -> String {
    config_dts(&partition("p", body))
}

fn base(extra: &str) -> String {
    one(&format!("cpus = <0>; {MEM} {KERNEL} {extra}"))
}

fn with_props(props: &str) -> String {
    one(&format!("cpus = <0>; {props} {MEM} {KERNEL}"))
}

fn assert_bad_property(dts: &str, node: &str, name: &str) {
    let e = parse_error(dts);
    assert_eq!(e.node.as_str(), node, "{e}");
    match e.kind {
        ErrorKind::BadProperty { name: n, .. } => assert_eq!(n, name, "{e}"),
        other => panic!("expected BadProperty {name}, got {other:?}"),
    }
}

#[test]
fn example_config_parses_every_field() {
    with_parsed(EXAMPLE, |c| {
        assert_eq!(c.board, "qemu-virt");
        assert_eq!(c.partitions.len(), 2);
        let linux = c.partition("linux").expect("linux");
        assert_eq!(linux.cpus.as_slice(), &[0, 1]);
        assert_eq!(linux.on_stop, OnStop::Restart);
        assert_eq!(linux.memory.len(), 2);
        assert_eq!(linux.memory[0].node, "memory@40000000");
        assert_eq!(linux.memory[0].ipa, Range::new(0x4000_0000, 0x1000_0000));
        assert_eq!(linux.memory[0].phys, None);
        assert_eq!(linux.memory[1].phys, Some(0x7fe0_0000));
        assert_eq!(linux.kernel.file, "test-guest.bin");
        assert_eq!(linux.kernel.load, 0x4008_0000);
        assert_eq!(linux.entry, 0x4008_0000);
        assert_eq!(
            linux.dtb.map(|d| (d.file, d.load)),
            Some(("guest-test.dtb", 0x47f0_0000))
        );
        assert_eq!(linux.initrd.map(|d| d.load), Some(0x4800_0000));
        assert_eq!(linux.console, Some(Range::new(0x0900_0000, 0x1000)));
        assert_eq!(linux.devices.len(), 1);
        assert_eq!(linux.devices[0].node, "device@9040000");
        assert_eq!(linux.devices[0].phys, Range::new(0x0904_0000, 0x1000));
        assert_eq!(linux.devices[0].ipa, 0x0904_0000);
        assert_eq!(linux.devices[0].interrupts.as_slice(), &[40]);

        let rtos = c.partition("rtos").expect("rtos");
        assert_eq!(rtos.on_stop, OnStop::Off);
        assert_eq!(rtos.dtb, None);
        assert_eq!(rtos.initrd, None);
        assert_eq!(rtos.devices[0].ipa, 0x1000_0000);
        assert_eq!(rtos.devices[0].ipa_range(), Range::new(0x1000_0000, 0x1000));
        assert!(c.partition("nope").is_none());

        assert_eq!(c.channels.len(), 1);
        let control = &c.channels[0];
        assert_eq!(control.name, "control");
        assert_eq!(control.ends[0].partition, "linux");
        assert_eq!(control.ends[0].intid, 48);
        assert_eq!(control.ends[1].partition, "rtos");
        assert_eq!(control.ends[1].intid, 49);
    });
}

#[test]
fn entry_defaults_to_kernel_load_address() {
    with_parsed(&config_dts(LINUX), |c| {
        assert_eq!(c.partitions[0].entry, 0x4008_0000);
        assert_eq!(c.partitions[0].on_stop, OnStop::Off);
    });
}

#[test]
fn ipa_to_region_finds_the_containing_region() {
    with_parsed(EXAMPLE, |c| {
        let linux = &c.partitions[0];
        assert_eq!(
            linux.ipa_to_region(0x4000_0000).map(|r| r.node),
            Some("memory@40000000")
        );
        assert_eq!(
            linux.ipa_to_region(0xc01f_ffff).map(|r| r.node),
            Some("memory@c0000000")
        );
        assert!(linux.ipa_to_region(0x5000_0000).is_none());
    });
}

#[test]
fn phandle_and_cell_size_properties_are_ignored() {
    with_parsed(&with_props("phandle = <7>;"), |c| {
        assert_eq!(c.partitions.len(), 1)
    });
}

#[test]
fn garbage_is_not_a_device_tree() {
    let e = match Config::parse(b"this is not a dtb at all, just some text") {
        Err(e) => e,
        Ok(c) => panic!("parsed garbage: {c:?}"),
    };
    assert_eq!(e.partition, None);
    assert_eq!(e.node.as_str(), "/");
    assert!(
        matches!(e.kind, ErrorKind::NotADeviceTree { offset: 0, .. }),
        "{e}"
    );
}

#[test]
fn unknown_partition_property_is_rejected() {
    let e = parse_error(&with_props("on_stop = \"off\";"));
    assert_eq!(e.partition, Some(0));
    assert_eq!(e.node.as_str(), "/partitions/p");
    match &e.kind {
        ErrorKind::UnknownProperty { name, .. } => assert_eq!(name.as_str(), "on_stop"),
        other => panic!("{other:?}"),
    }
    assert!(
        format!("{e}").ends_with(
            "allowed here: cpus, on-stop, smc-allow, console-mode, max-restarts, privileged, pmu, on-fault, direct-map, vsock-cid"
        ),
        "{e}"
    );
}

#[test]
fn unknown_memory_property_is_rejected() {
    let dts = one(&format!(
        "cpus = <0>; {KERNEL} memory@40000000 {{ reg = <0 0x40000000 0 0x1000>; pa = <0 0>; }};"
    ));
    let e = parse_error(&dts);
    assert_eq!(e.node.as_str(), "/partitions/p/memory@40000000");
    assert!(matches!(e.kind, ErrorKind::UnknownProperty { .. }), "{e}");
}

#[test]
fn entry_is_unknown_on_dtb_nodes() {
    let e = parse_error(&base(
        "dtb { file = \"x.dtb\"; load = <0 0x40000000>; entry = <0 0>; };",
    ));
    assert_eq!(e.node.as_str(), "/partitions/p/dtb");
    assert!(matches!(e.kind, ErrorKind::UnknownProperty { .. }), "{e}");
}

#[test]
fn unknown_child_node_kind_is_rejected() {
    let e = parse_error(&base("kernal { };"));
    assert_eq!(e.node.as_str(), "/partitions/p/kernal");
    assert!(matches!(e.kind, ErrorKind::UnknownNode { .. }), "{e}");
}

#[test]
fn singleton_nodes_with_unit_address_are_rejected() {
    let e = parse_error(&base("console@9000000 { reg = <0 0x09000000 0 0x1000>; };"));
    assert_eq!(e.node.as_str(), "/partitions/p/console@9000000");
    assert!(matches!(e.kind, ErrorKind::UnknownNode { .. }), "{e}");
}

#[test]
fn nodes_below_partition_children_are_rejected() {
    let e = parse_error(&base(
        "console { reg = <0 0x09000000 0 0x1000>; extra { }; };",
    ));
    assert_eq!(e.node.as_str(), "/partitions/p/console/extra");
    assert!(matches!(e.kind, ErrorKind::UnknownNode { .. }), "{e}");
}

#[test]
fn unknown_root_node_is_rejected() {
    let dts = config_dts(LINUX).replace("partitions {", "chosen { }; partitions {");
    let e = parse_error(&dts);
    assert_eq!(e.node.as_str(), "/chosen");
    assert!(matches!(e.kind, ErrorKind::UnknownNode { .. }), "{e}");
}

#[test]
fn unknown_root_property_is_rejected() {
    let dts = config_dts(LINUX).replace("board =", "bored = \"x\"; board =");
    assert!(matches!(
        parse_error(&dts).kind,
        ErrorKind::UnknownProperty { .. }
    ));
}

#[test]
fn reg_with_three_cells_is_rejected() {
    let dts = one(&format!(
        "cpus = <0>; {KERNEL} memory@40000000 {{ reg = <0x40000000 0x0 0x1000>; }};"
    ));
    assert_bad_property(&dts, "/partitions/p/memory@40000000", "reg");
}

#[test]
fn single_cell_load_is_rejected() {
    let dts = one(&format!(
        "cpus = <0>; {MEM} kernel {{ file = \"k\"; load = <0x40080000>; }};"
    ));
    assert_bad_property(&dts, "/partitions/p/kernel", "load");
}

#[test]
fn single_cell_phys_is_rejected() {
    let dts = one(&format!(
        "cpus = <0>; {KERNEL} memory@40000000 {{ reg = <0 0x40000000 0 0x1000>; phys = <0x7fe00000>; }};"
    ));
    assert_bad_property(&dts, "/partitions/p/memory@40000000", "phys");
}

#[test]
fn one_cell_address_sizes_are_rejected() {
    let dts = config_dts(LINUX).replace(
        "#address-cells = <2>; #size-cells = <2>;\n",
        "#address-cells = <1>; #size-cells = <2>;\n",
    );
    assert_bad_property(&dts, "/partitions", "#address-cells");
}

#[test]
fn zero_sized_region_is_rejected() {
    let dts = one(&format!(
        "cpus = <0>; {KERNEL} memory@40000000 {{ reg = <0 0x40000000 0 0>; }};"
    ));
    let e = parse_error(&dts);
    assert_eq!(
        e.kind,
        ErrorKind::BadProperty {
            name: "reg",
            why: "size must not be zero"
        }
    );
}

#[test]
fn region_wrapping_past_u64_max_is_rejected() {
    let dts = one(&format!(
        "cpus = <0>; {KERNEL} memory@40000000 {{ reg = <0xffffffff 0xfffff000 0 0x2000>; }};"
    ));
    assert_bad_property(&dts, "/partitions/p/memory@40000000", "reg");
}

#[test]
fn phys_wrapping_past_u64_max_is_rejected() {
    let dts = one(&format!(
        "cpus = <0>; {KERNEL} memory@40000000 {{ reg = <0 0x40000000 0 0x2000>; phys = <0xffffffff 0xfffff000>; }};"
    ));
    assert_bad_property(&dts, "/partitions/p/memory@40000000", "phys");
}

#[test]
fn device_ipa_wrapping_past_u64_max_is_rejected() {
    let dts =
        base("device@9040000 { reg = <0 0x09040000 0 0x2000>; ipa = <0xffffffff 0xfffff000>; };");
    assert_bad_property(&dts, "/partitions/p/device@9040000", "ipa");
}

#[test]
fn odd_sized_cpus_property_is_rejected() {
    let dts = one(&format!("cpus = [00 01]; {MEM} {KERNEL}"));
    assert_bad_property(&dts, "/partitions/p", "cpus");
}

#[test]
fn empty_cpus_property_is_rejected() {
    let dts = one(&format!("cpus; {MEM} {KERNEL}"));
    assert_bad_property(&dts, "/partitions/p", "cpus");
}

#[test]
fn bad_on_stop_value_is_rejected() {
    assert_bad_property(
        &with_props("on-stop = \"reboot\";"),
        "/partitions/p",
        "on-stop",
    );
}

#[test]
fn file_that_is_not_a_string_is_rejected() {
    let dts = one(&format!(
        "cpus = <0>; {MEM} kernel {{ file = <1>; load = <0 0x40080000>; }};"
    ));
    assert_bad_property(&dts, "/partitions/p/kernel", "file");
}

#[test]
fn file_name_longer_than_a_bundle_name_is_rejected() {
    let long = "a".repeat(49);
    let dts = one(&format!(
        "cpus = <0>; {MEM} kernel {{ file = \"{long}\"; load = <0 0x40080000>; }};"
    ));
    assert_bad_property(&dts, "/partitions/p/kernel", "file");
}

#[test]
fn config_dtb_file_name_is_reserved() {
    let dts = base("dtb { file = \"config.dtb\"; load = <0 0x40000000>; };");
    assert_bad_property(&dts, "/partitions/p/dtb", "file");
}

#[test]
fn uppercase_partition_name_is_rejected() {
    let e = parse_error(&config_dts(&partition("Linux", "cpus = <0>;")));
    assert_eq!(e.node.as_str(), "/partitions/Linux");
    assert_eq!(
        e.kind,
        ErrorKind::BadName {
            what: "partition",
            why: "only a-z, 0-9, '-' and '_' are allowed"
        }
    );
}

#[test]
fn partition_name_of_32_bytes_is_rejected() {
    let name = "a".repeat(32);
    let e = parse_error(&config_dts(&partition(&name, "cpus = <0>;")));
    assert_eq!(
        e.kind,
        ErrorKind::BadName {
            what: "partition",
            why: "longer than 31 bytes"
        }
    );
}

#[test]
fn partition_name_of_31_bytes_is_accepted() {
    let name = "a-b_c".repeat(6) + "z";
    let body = format!("cpus = <0>; {MEM} {KERNEL}");
    with_parsed(&config_dts(&partition(&name, &body)), |c| {
        assert_eq!(c.partitions[0].name, name)
    });
}

#[test]
fn duplicate_partition_names_are_rejected() {
    // dtc merges same-named nodes, so build the blob by hand.
    let part = |b: FdtBuilder| {
        b.begin("p")
            .prop_cells("cpus", &[0])
            .begin("memory@0")
            .prop_cells("reg", &[0, 0, 0, 0x1000])
            .end()
            .begin("kernel")
            .prop_str("file", "k")
            .prop_cells("load", &[0, 0])
            .end()
            .end()
    };
    let b = FdtBuilder::new()
        .begin("")
        .prop_str("compatible", "bulkhead,config")
        .prop_str("board", "qemu-virt")
        .begin("partitions");
    let dtb = part(part(b)).end().end().finish();
    let e = match Config::parse(&dtb) {
        Err(e) => e,
        Ok(c) => panic!("{c:?}"),
    };
    assert_eq!(e.kind, ErrorKind::DuplicateName);
    assert_eq!(e.partition, Some(1));
    assert_eq!(e.node.as_str(), "/partitions/p");
}

#[test]
fn duplicate_kernel_nodes_are_rejected() {
    let kernel = |b: FdtBuilder| {
        b.begin("kernel")
            .prop_str("file", "k")
            .prop_cells("load", &[0, 0])
            .end()
    };
    let b = FdtBuilder::new()
        .begin("")
        .prop_str("compatible", "bulkhead,config")
        .prop_str("board", "qemu-virt")
        .begin("partitions")
        .begin("p")
        .prop_cells("cpus", &[0]);
    let dtb = kernel(kernel(b)).end().end().end().finish();
    let e = match Config::parse(&dtb) {
        Err(e) => e,
        Ok(c) => panic!("{c:?}"),
    };
    assert_eq!(e.kind, ErrorKind::DuplicateName);
    assert_eq!(e.node.as_str(), "/partitions/p/kernel");
}

#[test]
fn more_than_max_partitions_is_rejected() {
    let body = format!("cpus = <0>; {MEM} {KERNEL}");
    let parts: String = (0..=MAX_PARTITIONS)
        .map(|i| partition(&format!("p{i}"), &body))
        .collect();
    let e = parse_error(&config_dts(&parts));
    assert_eq!(
        e.kind,
        ErrorKind::TooMany {
            what: "partitions",
            max: MAX_PARTITIONS
        }
    );
    assert_eq!(e.node.as_str(), "/partitions/p8");
}

#[test]
fn more_than_max_cpus_is_rejected() {
    let cpus: String = (0..=MAX_CPUS).map(|i| format!("{i} ")).collect();
    let e = parse_error(&one(&format!("cpus = <{cpus}>; {MEM} {KERNEL}")));
    assert!(
        matches!(e.kind, ErrorKind::TooMany { max: MAX_CPUS, .. }),
        "{e}"
    );
}

#[test]
fn more_than_max_regions_is_rejected() {
    let regions: String = (0..=MAX_REGIONS)
        .map(|i| format!("memory@{i}000000 {{ reg = <0 0x{i}000000 0 0x1000>; }};"))
        .collect();
    let e = parse_error(&one(&format!("cpus = <0>; {KERNEL} {regions}")));
    assert!(
        matches!(
            e.kind,
            ErrorKind::TooMany {
                max: MAX_REGIONS,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.node.as_str(), "/partitions/p/memory@8000000");
}

#[test]
fn more_than_max_devices_is_rejected() {
    let devices: String = (0..=MAX_DEVICES)
        .map(|i| format!("device@{i:x}000 {{ reg = <0 0x{i:x}000 0 0x1000>; }};"))
        .collect();
    let e = parse_error(&base(&devices));
    assert!(
        matches!(
            e.kind,
            ErrorKind::TooMany {
                max: MAX_DEVICES,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn more_than_max_interrupts_is_rejected() {
    let irqs: String = (0..=MAX_IRQS_PER_DEVICE)
        .map(|i| format!("{} ", 40 + i))
        .collect();
    let e = parse_error(&base(&format!(
        "device@9040000 {{ reg = <0 0x09040000 0 0x1000>; interrupts = <{irqs}>; }};"
    )));
    assert!(
        matches!(
            e.kind,
            ErrorKind::TooMany {
                max: MAX_IRQS_PER_DEVICE,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn smc_allow_is_parsed_in_order_and_defaults_to_empty() {
    with_parsed(&with_props("smc-allow = <0x8200ff01 0xc3000002>;"), |c| {
        assert_eq!(
            c.partitions[0].smc_allow.as_slice(),
            &[0x8200_ff01, 0xc300_0002]
        )
    });
    with_parsed(&config_dts(LINUX), |c| {
        assert!(c.partitions[0].smc_allow.is_empty())
    });
}

#[test]
fn empty_smc_allow_property_is_rejected() {
    assert_bad_property(&with_props("smc-allow;"), "/partitions/p", "smc-allow");
}

#[test]
fn smc_allow_that_is_not_whole_cells_is_rejected() {
    assert_bad_property(
        &with_props("smc-allow = [82 00 ff 01 82];"),
        "/partitions/p",
        "smc-allow",
    );
}

#[test]
fn more_than_max_smc_allow_entries_is_rejected() {
    let ids: String = (0..=MAX_SMC_ALLOW)
        .map(|i| format!("{:#x} ", 0x8200_0000 + i))
        .collect();
    let e = parse_error(&with_props(&format!("smc-allow = <{ids}>;")));
    assert_eq!(e.node.as_str(), "/partitions/p");
    assert_eq!(
        e.kind,
        ErrorKind::TooMany {
            what: "function IDs in `smc-allow`",
            max: MAX_SMC_ALLOW
        }
    );
}

#[test]
fn missing_kernel_is_rejected() {
    let e = parse_error(&one(&format!("cpus = <0>; {MEM}")));
    assert_eq!(e.kind, ErrorKind::MissingNode);
    assert_eq!(e.node.as_str(), "/partitions/p/kernel");
}

#[test]
fn missing_cpus_is_rejected() {
    let e = parse_error(&one(&format!("{MEM} {KERNEL}")));
    assert_eq!(e.kind, ErrorKind::MissingProperty { name: "cpus" });
    assert_eq!(e.node.as_str(), "/partitions/p");
}

#[test]
fn partition_without_memory_is_rejected() {
    let e = parse_error(&one(&format!("cpus = <0>; {KERNEL}")));
    assert_eq!(e.kind, ErrorKind::NoMemory);
}

#[test]
fn kernel_without_load_is_rejected() {
    let e = parse_error(&one(&format!(
        "cpus = <0>; {MEM} kernel {{ file = \"k\"; }};"
    )));
    assert_eq!(e.kind, ErrorKind::MissingProperty { name: "load" });
    assert_eq!(e.node.as_str(), "/partitions/p/kernel");
}

#[test]
fn device_without_reg_is_rejected() {
    let e = parse_error(&base("device@0 { interrupts = <40>; };"));
    assert_eq!(e.kind, ErrorKind::MissingProperty { name: "reg" });
}

#[test]
fn empty_partitions_node_is_rejected() {
    let e = parse_error(&config_dts(""));
    assert_eq!(e.kind, ErrorKind::NoPartitions);
    assert_eq!(e.node.as_str(), "/partitions");
}

#[test]
fn missing_partitions_node_is_rejected() {
    let dtb = compile("/dts-v1/; / { compatible = \"bulkhead,config\"; board = \"qemu-virt\"; };");
    let e = Config::parse(&dtb).expect_err("no partitions node");
    assert_eq!(e.kind, ErrorKind::MissingNode);
    assert_eq!(e.node.as_str(), "/partitions");
}

#[test]
fn missing_or_wrong_compatible_is_rejected() {
    let dts = config_dts(LINUX).replace("compatible = \"bulkhead,config\";", "");
    assert_eq!(
        parse_error(&dts).kind,
        ErrorKind::MissingProperty { name: "compatible" }
    );
    let dts = config_dts(LINUX).replace("bulkhead,config", "linux,dummy-virt");
    assert_bad_property(&dts, "/", "compatible");
}

#[test]
fn missing_board_is_rejected() {
    let dts = config_dts(LINUX).replace("board = \"qemu-virt\";", "");
    assert_eq!(
        parse_error(&dts).kind,
        ErrorKind::MissingProperty { name: "board" }
    );
}

#[test]
fn parse_error_display_names_node_and_reason() {
    let e = parse_error(&one(&format!("cpus = <0>; {MEM}")));
    assert_eq!(
        format!("{e}"),
        "/partitions/p/kernel: required node is missing; add it (see docs/configuration.md)"
    );
}

#[test]
fn the_documented_example_is_parsed_in_one_pass_over_its_tokens() {
    let dtb = compile(EXAMPLE);
    let mut tokens = 0;
    crate::fdt_scan::walk(&dtb, |_| tokens += 1).expect("well-formed");
    // The parser is handed one walk (`run` takes it as `FnOnce`) and sees
    // each node and property exactly once.
    let mut seen = 0;
    let mut config = Config {
        board: "",
        partitions: heapless::Vec::new(),
        channels: heapless::Vec::new(),
        console: Default::default(),
        console_uart: None,
        on_last_stop: crate::model::LastStop::Halt,
    };
    super::Parser::new(&mut config)
        .run(|parser| {
            crate::structure::walk(&dtb, |event| {
                seen += 1;
                parser.event(event);
            })
        })
        .expect("the example parses");
    assert_eq!(seen, tokens);
    assert_eq!(Config::parse(&dtb), Ok(config));
}

#[test]
fn bad_console_keys_are_rejected_with_their_reason() {
    let e = parse_error(&one(&format!(
        "cpus = <0>; console-mode = \"serial\"; {MEM}"
    )));
    assert!(
        format!("{e}").contains("\"virtual\", \"passthrough\" or \"none\""),
        "{e}"
    );
    let e = parse_error(&base("").replace(
        "board = \"qemu-virt\";",
        "board = \"qemu-virt\"; console-baud = \"fast\";",
    ));
    assert_eq!(e.node.as_str(), "/");
    assert!(format!("{e}").contains("console-baud"), "{e}");
}

#[test]
fn the_root_chooses_the_console_and_what_happens_after_the_last_stop() {
    let dtb = compile(&EXAMPLE.replacen(
        "board = ",
        "console = \"pl011\";\n    on-last-stop = \"reset\";\n    board = ",
        1,
    ));
    let config = Config::parse(&dtb).expect("valid");
    assert_eq!(config.console_uart, Some("pl011"));
    assert_eq!(config.on_last_stop, crate::model::LastStop::Reset);
    let plain = compile(EXAMPLE);
    let default = Config::parse(&plain).expect("valid");
    assert_eq!(default.console_uart, None);
    assert_eq!(default.on_last_stop, crate::model::LastStop::Halt);
    let bad = compile(&EXAMPLE.replacen("board = ", "console = \"uart7\";\n    board = ", 1));
    let error = Config::parse(&bad).expect_err("unknown console");
    assert!(format!("{error}").contains("console"), "{error}");
}

#[test]
fn max_restarts_and_privileged_are_parsed() {
    with_parsed(&with_props("max-restarts = <3 60>; privileged;"), |c| {
        let p = &c.partitions[0];
        assert_eq!(
            p.max_restarts,
            Some(crate::model::RestartLimit {
                count: 3,
                seconds: 60
            })
        );
        assert!(p.privileged);
    });
    with_parsed(&with_props(""), |c| {
        assert_eq!(c.partitions[0].max_restarts, None, "no limit by default");
        assert!(!c.partitions[0].privileged);
    });
}

#[test]
fn pmu_defaults_to_deny_and_takes_virtual() {
    use crate::model::Pmu;
    with_parsed(&config_dts(LINUX), |c| {
        assert_eq!(c.partitions[0].pmu, Pmu::Deny)
    });
    with_parsed(&with_props("pmu = \"virtual\";"), |c| {
        assert_eq!(c.partitions[0].pmu, Pmu::Virtual)
    });
    with_parsed(&with_props("pmu = \"deny\";"), |c| {
        assert_eq!(c.partitions[0].pmu, Pmu::Deny)
    });
}

#[test]
fn bad_max_restarts_values_are_rejected() {
    for value in [
        "<3>",
        "<3 60 1>",
        "<0 60>",
        "<33 60>",
        "<3 0>",
        "<3 86401>",
        "\"3/60\"",
    ] {
        let e = parse_error(&with_props(&format!("max-restarts = {value};")));
        assert_eq!(e.node.as_str(), "/partitions/p", "{value}: {e}");
        assert!(
            matches!(
                e.kind,
                ErrorKind::BadProperty {
                    name: "max-restarts",
                    ..
                }
            ),
            "{value}: {e}"
        );
    }
}

#[test]
fn privileged_takes_no_value() {
    assert_bad_property(
        &with_props("privileged = <1>;"),
        "/partitions/p",
        "privileged",
    );
}

#[test]
fn bad_pmu_value_is_rejected() {
    assert_bad_property(&with_props("pmu = \"shared\";"), "/partitions/p", "pmu");
    assert_bad_property(&with_props("pmu = <1>;"), "/partitions/p", "pmu");
}

#[test]
fn on_fault_defaults_to_stop_and_takes_inject() {
    use crate::model::OnFault;
    with_parsed(&config_dts(LINUX), |c| {
        assert_eq!(c.partitions[0].on_fault, OnFault::Stop)
    });
    with_parsed(&with_props("on-fault = \"inject\";"), |c| {
        assert_eq!(c.partitions[0].on_fault, OnFault::Inject)
    });
    assert_bad_property(
        &with_props("on-fault = \"ignore\";"),
        "/partitions/p",
        "on-fault",
    );
}
