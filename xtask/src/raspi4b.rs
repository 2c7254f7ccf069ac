//! QEMU's `raspi4b` machine: the device tree it needs and its command line.
//!
//! QEMU does not model the BCM2711's HDMI block (0x7ef00000..0x7ef0ffff) and the interrupt
//! controller and I2C buses behind it; Linux faults probing them, so the QEMU copy of Debian's
//! `bcm2711-rpi-4-b.dtb` has them disabled. Real boards use the unmodified tree the firmware
//! loads.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{linux, paths, shell};

/// Nodes QEMU 10 does not model (measured: each one panics Linux or faults).
const UNMODELLED: [&str; 6] = [
    "/soc/clock@7ef00000",
    "/soc/interrupt-controller@7ef00100",
    "/soc/hdmi@7ef00700",
    "/soc/i2c@7ef04500",
    "/soc/hdmi@7ef05700",
    "/soc/i2c@7ef09500",
];

/// Debian's `bcm2711-rpi-4-b.dtb` (from the arm64 kernel package xtask fetches).
pub fn board_dtb() -> Result<PathBuf> {
    let (_, root) = linux::kernel()?;
    let lib = root.join("usr/lib");
    let dir = std::fs::read_dir(&lib)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("linux-image-"))
        })
        .context("the kernel package has no /usr/lib/linux-image-*")?;
    Ok(dir.join("broadcom/bcm2711-rpi-4-b.dtb"))
}

/// Writes the QEMU copy of the board device tree into `dir` and returns its path.
pub fn qemu_dtb(dir: &Path) -> Result<PathBuf> {
    let out = dir.join("bcm2711-rpi-4-b-qemu.dtb");
    std::fs::copy(board_dtb()?, &out).context("copying bcm2711-rpi-4-b.dtb")?;
    for node in UNMODELLED {
        shell::run(
            Command::new("fdtput")
                .args(["-t", "s"])
                .arg(&out)
                .args([node, "status", "disabled"]),
        )?;
    }
    Ok(out)
}

/// The QEMU command line that boots `image` on `raspi4b`: the first serial port is the PL011
/// (unused), the second the mini UART, the board's console as on real hardware.
pub fn command(image: &Path, dtb: &Path) -> Command {
    let mut command = Command::new("qemu-system-aarch64");
    command
        .args([
            "-M",
            "raspi4b",
            "-display",
            "none",
            "-serial",
            "null",
            "-serial",
            "mon:stdio",
            "-no-reboot",
        ])
        .args(crate::qemu::NO_NIC)
        .arg("-kernel")
        .arg(image)
        .arg("-dtb")
        .arg(dtb);
    command
}

/// Where the QEMU device tree of board `board` goes.
pub fn out_dir() -> PathBuf {
    paths::out_dir("rpi4")
}
