//! The host tools Bulkhead needs (QEMU >= 9, dtc, Python's venv, the SD card checkers), installed on
//! Debian/Ubuntu when missing; and the Rust ones (the bare-metal target; nightly and
//! cargo-fuzz for the fuzz targets), installed through rustup and cargo.

use anyhow::{bail, Result};
use std::path::Path;
use std::process::Command;

use crate::shell;

/// The lowest QEMU that has what the scenarios use.
const MIN_QEMU_MAJOR: u32 = 9;

fn is_root() -> bool {
    shell::output(Command::new("id").arg("-u"))
        .map(|uid| uid.trim() == "0")
        .unwrap_or(false)
}

fn has_apt() -> bool {
    Path::new("/usr/bin/apt-get").exists()
}

fn os_codename() -> String {
    std::fs::read_to_string("/etc/os-release")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("VERSION_CODENAME=")
                .map(|v| v.trim_matches('"').to_string())
        })
        .unwrap_or_default()
}

fn qemu_major() -> Option<u32> {
    let text = shell::output(Command::new("qemu-system-aarch64").arg("--version")).ok()?;
    let version = text.split("version ").nth(1)?;
    version.split('.').next()?.trim().parse().ok()
}

fn apt_install(packages: &[&str], release: Option<&str>) -> Result<()> {
    shell::run(Command::new("apt-get").args(["update", "-q"]))?;
    let mut install = Command::new("apt-get");
    install.args(["install", "-y", "-q", "--no-install-recommends"]);
    if let Some(release) = release {
        install.args(["-t", release]);
    }
    install
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive");
    shell::run(&mut install)
}

/// Makes sure `qemu-system-aarch64` >= 9 is installed.
pub fn ensure_qemu() -> Result<()> {
    if qemu_major().is_some_and(|major| major >= MIN_QEMU_MAJOR) {
        return Ok(());
    }
    let codename = os_codename();
    let backports = codename == "bookworm";
    let hint = if backports {
        "sudo tee /etc/apt/sources.list.d/bookworm-backports.list <<< 'deb http://deb.debian.org/debian bookworm-backports main' && sudo apt-get update && sudo apt-get install -y -t bookworm-backports qemu-system-arm"
    } else {
        "sudo apt-get update && sudo apt-get install -y qemu-system-arm"
    };
    if !(is_root() && has_apt()) {
        bail!("QEMU >= {MIN_QEMU_MAJOR} (qemu-system-aarch64) is needed. Install it with:\n    {hint}");
    }
    eprintln!("installing QEMU >= {MIN_QEMU_MAJOR}");
    if backports {
        let list = Path::new("/etc/apt/sources.list.d/bulkhead-bookworm-backports.list");
        if !list.exists() {
            std::fs::write(
                list,
                "deb http://deb.debian.org/debian bookworm-backports main non-free-firmware\n",
            )?;
        }
        apt_install(&["qemu-system-arm"], Some("bookworm-backports"))?;
    } else {
        apt_install(&["qemu-system-arm"], None)?;
    }
    match qemu_major() {
        Some(major) if major >= MIN_QEMU_MAJOR => Ok(()),
        other => {
            bail!("installed QEMU is {other:?}, but >= {MIN_QEMU_MAJOR} is needed; see README.md")
        }
    }
}

/// Makes sure `dtc` is installed.
pub fn ensure_dtc() -> Result<()> {
    if shell::output(Command::new("dtc").arg("--version")).is_ok() {
        return Ok(());
    }
    if !(is_root() && has_apt()) {
        bail!("dtc is needed. Install it with:\n    sudo apt-get install -y device-tree-compiler");
    }
    apt_install(&["device-tree-compiler"], None)
}

/// Makes sure the SD card checkers are installed (`fsck.fat`, `mdir`/`mcopy`, `sfdisk`, used by
/// the rpi4-sdcard scenario); without root it only says how, and that scenario skips.
pub fn ensure_sd_tools() -> Result<()> {
    let packages = [
        ("fsck.fat", "dosfstools"),
        ("mdir", "mtools"),
        ("sfdisk", "fdisk"),
    ];
    let found = |tool: &str| {
        ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
            .iter()
            .any(|dir| Path::new(dir).join(tool).exists())
    };
    let missing: Vec<&str> = packages
        .iter()
        .filter(|(tool, _)| !found(tool))
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !(is_root() && has_apt()) {
        eprintln!(
            "warning: the rpi4-sdcard scenario will skip; install its checkers with:\n    sudo apt-get install -y {}",
            missing.join(" ")
        );
        return Ok(());
    }
    apt_install(&missing, None)
}

/// Makes sure Python 3 can make the scenario tests' venv (Debian ships `ensurepip`, which
/// `python3 -m venv` needs, in python3-venv, not in python3).
pub fn ensure_python_venv() -> Result<()> {
    let usable = Command::new("python3")
        .args(["-c", "import ensurepip, venv"])
        .output()
        .is_ok_and(|out| out.status.success());
    if usable {
        return Ok(());
    }
    if !(is_root() && has_apt()) {
        bail!("the scenario tests need Python 3 with venv. Install it with:\n    sudo apt-get install -y python3-venv");
    }
    apt_install(&["python3-venv"], None)
}

/// Makes sure the command `tool` (from Debian's `package`) is installed.
pub fn ensure_tool(tool: &str, package: &str) -> Result<()> {
    let found = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    if found {
        return Ok(());
    }
    if !(is_root() && has_apt()) {
        bail!("{tool} is needed. Install it with:\n    sudo apt-get install -y {package}");
    }
    apt_install(&[package], None)
}

/// Makes sure the bare-metal Rust target is installed.
pub fn ensure_rust_target() -> Result<()> {
    ensure_target(crate::paths::BARE_TARGET)
}

/// Makes sure Rust target `target` is installed (rustup).
pub fn ensure_target(target: &str) -> Result<()> {
    let installed = shell::output(Command::new("rustup").args(["target", "list", "--installed"]))
        .unwrap_or_default();
    if installed.lines().any(|l| l.trim() == target) {
        return Ok(());
    }
    shell::run(Command::new("rustup").args(["target", "add", target]))
}

/// Makes sure the nightly toolchain is installed (only the fuzz targets use it).
pub fn ensure_nightly() -> Result<()> {
    let installed = shell::output(Command::new("rustup").args(["toolchain", "list"]))?;
    if installed.lines().any(|l| l.starts_with("nightly-")) {
        return Ok(());
    }
    shell::run(Command::new("rustup").args([
        "toolchain",
        "install",
        "nightly",
        "--profile",
        "minimal",
    ]))
}

/// Makes sure `cargo fuzz` (cargo-fuzz, built with stable) and the nightly toolchain it drives
/// are installed.
pub fn ensure_cargo_fuzz() -> Result<()> {
    ensure_nightly()?;
    let found = shell::output(Command::new("cargo").args(["fuzz", "--version"])).is_ok();
    if found {
        return Ok(());
    }
    shell::run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))
}
