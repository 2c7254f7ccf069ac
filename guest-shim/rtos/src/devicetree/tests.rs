//! Device trees compiled with `dtc` (the tests are skipped where it is missing).

use super::*;

fn compile(source: &str) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut child = std::process::Command::new("dtc")
        .args(["-q", "-I", "dts", "-O", "dtb", "-o", "-", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(source.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    assert!(out.status.success(), "dtc rejected the test source");
    Some(out.stdout)
}

const PARTITION: &str = r#"/dts-v1/;
/ {
    #address-cells = <2>; #size-cells = <2>;
    chosen { bootargs = "mode=periodic window-s=10"; stdout-path = "/pl011@9000000"; };
    cpus { #address-cells = <1>; #size-cells = <0>; cpu@0 { device_type = "cpu"; reg = <0>; }; };
    psci { compatible = "arm,psci-1.0", "arm,psci-0.2"; method = "hvc"; };
    gic: interrupt-controller@8000000 {
        compatible = "arm,gic-v3"; #interrupt-cells = <3>; interrupt-controller;
        reg = <0x0 0x08000000 0x0 0x10000>, <0x0 0x080a0000 0x0 0x20000>;
    };
    timer {
        compatible = "arm,armv8-timer"; interrupt-parent = <&gic>;
        interrupts = <1 13 0xf04>, <1 14 0xf04>, <1 11 0xf04>, <1 10 0xf04>;
    };
    pl011@9000000 { compatible = "arm,pl011", "arm,primecell"; reg = <0x0 0x09000000 0x0 0x1000>; };
    watchdog@a440000 {
        compatible = "arm,sbsa-gwdt";
        reg = <0x0 0x0a440000 0x0 0x1000>, <0x0 0x0a450000 0x0 0x1000>;
        interrupts = <0 48 4>;
    };
};
"#;

/// The shape of the Raspberry Pi 4's tree: devices under /soc at bus addresses.
const RPI4: &str = r#"/dts-v1/;
/ {
    #address-cells = <2>; #size-cells = <1>;
    cpus { #address-cells = <1>; #size-cells = <0>;
        cpu@0 { device_type = "cpu"; reg = <0>; }; cpu@1 { device_type = "cpu"; reg = <1>; }; };
    soc {
        compatible = "simple-bus"; #address-cells = <1>; #size-cells = <1>;
        ranges = <0x7e000000 0x0 0xfe000000 0x1800000>, <0x40000000 0x0 0xff800000 0x800000>;
        gpio@7e200000 { compatible = "brcm,bcm2711-gpio"; reg = <0x7e200000 0xf4>;
            interrupts = <0 113 4>, <0 114 4>, <0 115 4>, <0 116 4>; };
        serial@7e201000 { compatible = "arm,pl011", "arm,primecell"; reg = <0x7e201000 0x200>; };
        interrupt-controller@40041000 {
            compatible = "arm,gic-400"; #interrupt-cells = <3>; interrupt-controller;
            reg = <0x40041000 0x1000>, <0x40042000 0x2000>;
        };
    };
};
"#;

#[test]
fn a_partition_tree_names_its_gicv3_console_and_timer() {
    let Some(blob) = compile(PARTITION) else {
        eprintln!("dtc not found: skipped");
        return;
    };
    let platform = Platform::parse(&blob).unwrap();
    assert_eq!(platform.console, Some(0x0900_0000));
    assert_eq!(
        platform.gic,
        Some(GicFrames::V3 {
            distributor: 0x0800_0000,
            redistributors: 0x080a_0000
        })
    );
    assert_eq!(platform.vtimer_intid, 27);
    assert_eq!((platform.cpus, platform.psci_hvc), (1, true));
    assert_eq!(platform.cpu_ids.as_slice(), &[0]);
    assert_eq!(platform.arg("window-s"), Some("10"));
    assert_eq!((platform.gpio, platform.gpio_intid), (None, None));
    assert_eq!(
        platform.watchdog,
        Some(WatchdogFrames {
            control: 0x0a44_0000,
            refresh: 0x0a45_0000
        }),
        "the control frame is reg 0, the refresh frame reg 1 (the arm,sbsa-gwdt binding)"
    );
}

#[test]
fn raspberry_pi_devices_are_translated_through_soc_ranges() {
    let Some(blob) = compile(RPI4) else {
        eprintln!("dtc not found: skipped");
        return;
    };
    let platform = Platform::parse(&blob).unwrap();
    assert_eq!(platform.gpio, Some(0xfe20_0000));
    assert_eq!(platform.gpio_intid, Some(145), "bank 0's: SPI 113");
    assert_eq!(platform.console, Some(0xfe20_1000), "first arm,pl011");
    assert_eq!(
        platform.gic,
        Some(GicFrames::V2 {
            distributor: 0xff84_1000,
            cpu_interface: 0xff84_2000
        })
    );
    assert_eq!(platform.vtimer_intid, DEFAULT_VTIMER_INTID, "no timer node");
    assert!(!platform.psci_hvc);
    assert_eq!(platform.cpu_ids.as_slice(), &[0, 1]);
    assert_eq!(platform.bootargs, "", "no /chosen");
    assert_eq!(platform.watchdog, None);
}

#[test]
fn garbage_is_not_a_device_tree() {
    assert!(Platform::parse(&[0u8; 64]).is_none());
}
