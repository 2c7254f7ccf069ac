//! The derivation against a small board device tree (`testdata/board.dts`, compiled with dtc).

use std::io::Write;
use std::process::{Command, Stdio};

use bulkhead_config::model::Config;

use super::tree::Tree;
use super::{derive, is_template};

fn dtc(source: &str) -> Vec<u8> {
    let mut child = Command::new("dtc")
        .args(["-q", "-I", "dts", "-O", "dtb", "-o", "-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("dtc (device-tree-compiler) must be installed");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(source.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "dtc failed on:\n{source}");
    out.stdout
}

fn board() -> Vec<u8> {
    dtc(include_str!("testdata/board.dts"))
}

const TEMPLATE: &str = r#"/dts-v1/;
/ {
    bulkhead,derive-from = "board";
    model = "ignored: the board's model wins";
    chosen { bootargs = "console=ttyAMA0 hil=basic"; };
};"#;

/// A configuration with one partition whose body is `body`.
fn config(body: &str) -> Vec<u8> {
    dtc(&format!(
        r#"/dts-v1/;
/ {{
    compatible = "bulkhead,config";
    board = "rpi4";
    partitions {{
        #address-cells = <2>;
        #size-cells = <2>;
        p {{
            #address-cells = <2>;
            #size-cells = <2>;
            {body}
            memory@40000000 {{ reg = <0x0 0x40000000 0x0 0x20000000>; }};
            kernel {{ file = "k"; load = <0x0 0x40200000>; }};
            dtb {{ file = "p.dtb"; load = <0x0 0x5fe00000>; }};
            console {{ reg = <0x0 0xfe201000 0x0 0x1000>; }};
        }};
    }};
}};"#
    ))
}

fn derived(body: &str) -> anyhow::Result<Tree> {
    let config_blob = config(body);
    let config = Config::parse(&config_blob).expect("test configuration parses");
    let blob = derive(&board(), &dtc(TEMPLATE), &config.partitions[0])?;
    Tree::parse(&blob)
}

const I2C1: &str = "cpus = <0x0 0x1>;
    device@fe804000 { reg = <0x0 0xfe804000 0x0 0x1000>; interrupts = <149>; };";

fn string(tree: &Tree, path: &str, prop: &str) -> String {
    let id = tree.find(path).unwrap_or_else(|| panic!("{path} missing"));
    tree.strings(id, prop).join(",")
}

fn cells(tree: &Tree, path: &str, prop: &str) -> Vec<u32> {
    let id = tree.find(path).unwrap_or_else(|| panic!("{path} missing"));
    tree.cells(id, prop)
        .unwrap_or_else(|| panic!("{path}: no {prop}"))
}

#[test]
fn a_template_is_marked_by_its_root_property() {
    assert!(is_template(&dtc(TEMPLATE)));
    assert!(!is_template(&dtc("/dts-v1/; / { model = \"x\"; };")));
    assert!(!is_template(b"not a device tree"));
}

#[test]
fn the_partition_has_the_boards_identity_its_memory_and_vcpus() {
    let tree = derived(I2C1).unwrap();
    assert_eq!(string(&tree, "/", "model"), "Raspberry Pi 4 Model B");
    assert_eq!(
        string(&tree, "/", "compatible"),
        "raspberrypi,4-model-b,brcm,bcm2711"
    );
    assert_eq!(cells(&tree, "/", "#size-cells"), [2]);
    assert_eq!(
        cells(&tree, "/memory@40000000", "reg"),
        [0, 0x4000_0000, 0, 0x2000_0000]
    );
    for vcpu in ["cpu@0", "cpu@1"] {
        let path = format!("/cpus/{vcpu}");
        assert_eq!(string(&tree, &path, "enable-method"), "psci");
        assert_eq!(string(&tree, &path, "compatible"), "arm,cortex-a72");
    }
    assert!(tree.find("/cpus/cpu@2").is_none());
    assert_eq!(string(&tree, "/psci", "method"), "hvc");
}

#[test]
fn the_gic_is_the_distributor_and_cpu_interface_at_cpu_addresses_only() {
    let tree = derived(I2C1).unwrap();
    let gic = "/interrupt-controller@ff841000";
    assert_eq!(
        cells(&tree, gic, "reg"),
        [0, 0xff84_1000, 0, 0x1000, 0, 0xff84_2000, 0, 0x2000]
    );
    assert_eq!(string(&tree, gic, "compatible"), "arm,gic-400");
    let id = tree.find(gic).unwrap();
    assert!(
        tree.prop(id, "interrupts").is_none(),
        "maintenance IRQ is the hypervisor's"
    );
    assert_eq!(
        cells(&tree, "/", "interrupt-parent"),
        cells(&tree, gic, "phandle")
    );
    assert_eq!(
        cells(&tree, "/timer", "interrupts"),
        [1, 13, 0xf08, 1, 14, 0xf08, 1, 11, 0xf08, 1, 10, 0xf08]
    );
}

#[test]
fn chosen_and_console_come_from_the_template_and_the_configuration() {
    let tree = derived(I2C1).unwrap();
    assert_eq!(
        string(&tree, "/chosen", "bootargs"),
        "console=ttyAMA0 hil=basic"
    );
    assert_eq!(string(&tree, "/chosen", "stdout-path"), "/serial@fe201000");
    assert_eq!(
        string(&tree, "/serial@fe201000", "compatible"),
        "arm,pl011,arm,primecell"
    );
    assert_eq!(
        cells(&tree, "/serial@fe201000", "interrupts"),
        [0, 1, 4],
        "the virtual PL011's own SPI, not the board PL011's (SPI 121)"
    );
    let clocks = cells(&tree, "/serial@fe201000", "clocks");
    assert_eq!(clocks[0], cells(&tree, "/clocks/clock-uart", "phandle")[0]);
    assert_eq!(
        cells(&tree, "/clocks/clock-uart", "clock-frequency"),
        [48_000_000]
    );
    assert!(tree.find("/serial@fe201000/bluetooth").is_none());
}

#[test]
fn a_granted_device_is_copied_at_its_cpu_address_with_fixed_clocks_and_without_foreign_references()
{
    let tree = derived(I2C1).unwrap();
    let i2c = "/i2c@fe804000";
    assert_eq!(cells(&tree, i2c, "reg"), [0, 0xfe80_4000, 0, 0x1000]);
    assert_eq!(string(&tree, i2c, "status"), "okay");
    assert_eq!(
        string(&tree, i2c, "compatible"),
        "brcm,bcm2711-i2c,brcm,bcm2835-i2c"
    );
    assert_eq!(cells(&tree, i2c, "interrupts"), [0, 117, 4]);
    assert_eq!(cells(&tree, i2c, "clock-frequency"), [100_000]);
    let vpu = cells(&tree, "/clocks/clock-vpu", "phandle");
    assert_eq!(cells(&tree, i2c, "clocks"), vpu);
    assert_eq!(
        cells(&tree, "/clocks/clock-vpu", "clock-frequency"),
        [500_000_000]
    );
    let id = tree.find(i2c).unwrap();
    for gone in ["pinctrl-0", "pinctrl-names", "dmas", "dma-names"] {
        assert!(tree.prop(id, gone).is_none(), "{gone} must go");
    }
    // Children on the I2C bus keep their bus addresses.
    assert_eq!(cells(&tree, "/i2c@fe804000/eeprom@50", "reg"), [0x50]);
}

#[test]
fn nothing_the_partition_does_not_own_appears() {
    let tree = derived(I2C1).unwrap();
    let mut names: Vec<String> = tree
        .node(0)
        .children
        .iter()
        .map(|&c| tree.node(c).name.clone())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "chosen",
            "clocks",
            "cpus",
            "i2c@fe804000",
            "interrupt-controller@ff841000",
            "memory@40000000",
            "psci",
            "serial@fe201000",
            "timer"
        ]
    );
}

#[test]
fn a_device_seen_at_another_ipa_is_described_there() {
    let tree = derived(
        "cpus = <0x2>;
        device@fe804000 { reg = <0x0 0xfe804000 0x0 0x1000>; ipa = <0x0 0x10000000>; interrupts = <149>; };",
    )
    .unwrap();
    assert_eq!(
        cells(&tree, "/i2c@10000000", "reg"),
        [0, 0x1000_0000, 0, 0x1000]
    );
}

#[test]
fn the_gpio_owner_keeps_its_pin_groups_and_self_references() {
    let tree = derived(
        "cpus = <0x2>;
        device@fe200000 { reg = <0x0 0xfe200000 0x0 0x1000>; interrupts = <145 146>; };",
    )
    .unwrap();
    let gpio = "/gpio@fe200000";
    let phandle = cells(&tree, gpio, "phandle");
    assert_eq!(cells(&tree, gpio, "gpio-ranges"), [phandle[0], 0, 0, 58]);
    let out = cells(&tree, "/gpio@fe200000/gpioout", "phandle");
    assert_eq!(cells(&tree, gpio, "pinctrl-0"), out);
    assert_eq!(cells(&tree, gpio, "interrupts"), [0, 113, 4, 0, 114, 4]);
    assert!(tree.find("/gpio@fe200000/i2c1_gpio2").is_some());
}

#[test]
fn a_board_fixed_clock_is_copied() {
    let tree = derived(
        "cpus = <0x2>;
        device@fe20c000 { reg = <0x0 0xfe20c000 0x0 0x2000>; };",
    )
    .unwrap();
    assert_eq!(
        cells(&tree, "/pwm@fe20c000", "clocks"),
        cells(&tree, "/clocks/clk-osc", "phandle")
    );
    assert_eq!(
        cells(&tree, "/clocks/clk-osc", "clock-frequency"),
        [54_000_000]
    );
}

fn error_of(body: &str) -> String {
    format!("{:#}", derived(body).expect_err("must be refused"))
}

#[test]
fn an_interrupt_not_routed_to_the_partition_is_refused() {
    let error = error_of("cpus = <0x2>; device@fe804000 { reg = <0x0 0xfe804000 0x0 0x1000>; };");
    assert!(
        error.contains("INTID 149") && error.contains("not routed"),
        "{error}"
    );
}

#[test]
fn a_clock_without_a_known_rate_is_refused() {
    let error = error_of(
        "cpus = <0x2>; device@fe204000 { reg = <0x0 0xfe204000 0x0 0x1000>; interrupts = <150>; };",
    );
    assert!(error.contains("no known rate"), "{error}");
}

#[test]
fn a_node_only_partly_granted_is_refused() {
    let error = error_of("cpus = <0x2>; device@fe20c000 { reg = <0x0 0xfe20c000 0x0 0x1000>; };");
    assert!(error.contains("outside every device@"), "{error}");
}

#[test]
fn a_granted_dma_master_keeps_its_buss_dma_ranges() {
    let tree = derived(
        "cpus = <0x0>; device@fe340000 { reg = <0x0 0xfe340000 0x0 0x1000>; interrupts = <158>; };",
    )
    .unwrap();
    assert_eq!(string(&tree, "/emmc2bus", "compatible"), "simple-bus");
    assert_eq!(
        cells(&tree, "/emmc2bus", "dma-ranges"),
        [0, 0xc000_0000, 0, 0, 0, 0x4000_0000]
    );
    assert_eq!(
        cells(&tree, "/emmc2bus/mmc@fe340000", "reg"),
        [0, 0xfe34_0000, 0, 0x100]
    );
    assert!(tree.find("/mmc@fe340000").is_none());
    // A device that is no DMA master stays under the root.
    let i2c = derived(I2C1).unwrap();
    assert!(i2c.find("/i2c@fe804000").is_some());
}
