//! The `config.txt` the Raspberry Pi firmware (`start4.elf`) reads from the boot partition:
//! every line Bulkhead needs, each with the reason it is there (docs/rpi4.md explains them).

/// The name the firmware loads as the "kernel": Bulkhead's image with its bundle.
pub const KERNEL: &str = "bulkhead.img";
/// The board's device tree, from Debian's `linux-image-*-arm64` package.
pub const DTB: &str = "bcm2711-rpi-4-b.dtb";

/// One `config.txt` setting and why Bulkhead sets it.
pub struct Setting {
    /// `key=value` as the firmware reads it.
    pub line: &'static str,
    /// The comment written on the line above it (the firmware only knows whole-line comments).
    pub why: &'static str,
}

/// The settings, in the order they are written.
pub const SETTINGS: &[Setting] = &[
    Setting {
        line: "arm_64bit=1",
        why: "start the Cortex-A72s in AArch64; the stock armstub then enters the kernel at EL2",
    },
    Setting {
        line: "kernel_address=0x200000",
        why: "load bulkhead.img at 2 MiB, its arm64 Image text_offset (older firmware defaulted to 0x80000)",
    },
    Setting {
        line: "enable_uart=1",
        why: "the firmware's own serial output (with uart_2ndstage=1); Bulkhead programs its console UART itself",
    },
    Setting {
        line: "core_freq=500",
        why: "pin the VPU core clock at 500 MHz: the mini UART's baud divides it, and Bulkhead computes its divisor for 500 MHz",
    },
    Setting {
        line: "core_freq_min=500",
        why: "keep the core clock from dropping to its 200 MHz idle floor, which would change the mini UART's baud mid-line",
    },
    Setting {
        line: "uart_2ndstage=1",
        why: "start4.elf logs its own boot (MESS:... lines) to the serial console, to see where a boot stops",
    },
    Setting {
        line: "enable_gic=1",
        why: "route interrupts through the GIC-400 (the default on the Pi 4), which Bulkhead virtualizes",
    },
    Setting {
        line: "disable_commandline_tags=1",
        why: "do not write ATAGS at 0x100: Bulkhead takes the device tree from x0",
    },
    Setting {
        line: "kernel=bulkhead.img",
        why: "Bulkhead (hypervisor + configuration + guest images) instead of kernel8.img",
    },
    Setting {
        line: "device_tree=bcm2711-rpi-4-b.dtb",
        why: "the Pi 4 Model B device tree; the firmware fills in /memory and passes it in x0",
    },
    Setting {
        line: "upstream_kernel=1",
        why: "the device tree is Debian's upstream one (no __symbols__, no overlays): the firmware then treats it as upstream, as Debian's raspi-firmware does",
    },
    Setting {
        line: "gpio=2,3=a0",
        why: "I2C1 on GPIO2/3 (header pins 3/5) for the demo's Linux partition, which does not own the GPIO block to mux them",
    },
];

/// Optional settings, written commented out, for the reader who needs them.
const OPTIONAL: &[Setting] = &[Setting {
    line: "#armstub=bl31.bin",
    why: "TF-A's BL31 gives PSCI (SMC); the stock armstub has none (see docs/rpi4.md)",
}];

/// The text of `config.txt`.
pub fn text() -> String {
    let mut out = String::from(
        "# Raspberry Pi 4 boot configuration for Bulkhead, written by `cargo xtask sdcard`.\n\
         # Every line is explained in docs/rpi4.md.\n[pi4]\n",
    );
    for setting in SETTINGS.iter().chain(OPTIONAL) {
        out.push_str(&format!("\n# {}\n{}\n", setting.why, setting.line));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `key=value` lines the firmware acts on.
    fn active_lines() -> Vec<String> {
        text()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('['))
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn every_setting_the_pi_needs_is_active() {
        let lines = active_lines();
        for wanted in [
            "arm_64bit=1",
            "kernel_address=0x200000",
            "enable_uart=1",
            "core_freq=500",
            "core_freq_min=500",
            "uart_2ndstage=1",
            "enable_gic=1",
            "disable_commandline_tags=1",
            "kernel=bulkhead.img",
            "device_tree=bcm2711-rpi-4-b.dtb",
            "upstream_kernel=1",
            "gpio=2,3=a0",
        ] {
            assert!(lines.iter().any(|l| l == wanted), "{wanted} missing");
        }
        assert_eq!(
            lines.len(),
            SETTINGS.len(),
            "only the documented settings are active"
        );
    }

    #[test]
    fn every_setting_has_a_comment_line_above_it() {
        let text = text();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.trim_start_matches('#').contains('=') && !line.starts_with("# ") {
                let above = i.checked_sub(1).and_then(|j| lines.get(j)).unwrap_or(&"");
                assert!(above.starts_with("# "), "no comment above {line}");
            }
        }
    }

    #[test]
    fn no_value_carries_a_trailing_comment() {
        // The firmware reads a value to the end of its line.
        for line in active_lines() {
            assert!(!line.contains('#') && !line.contains(' '), "{line}");
        }
    }

    #[test]
    fn file_names_match_the_files_on_the_card() {
        assert!(active_lines().contains(&format!("kernel={KERNEL}")));
        assert!(active_lines().contains(&format!("device_tree={DTB}")));
    }
}

#[test]
fn no_setting_needs_what_the_shipped_device_tree_lacks() {
    // Debian's bcm2711-rpi-4-b.dtb has no __symbols__ and the card has no overlays/: a
    // `dtoverlay=`/`dtparam=` line could never apply, even commented out as a hint.
    assert!(!text().contains("dtoverlay"), "{}", text());
    assert!(!text().contains("dtparam"), "{}", text());
}
