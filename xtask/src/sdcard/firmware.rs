//! The Raspberry Pi 4 GPU firmware (`start4.elf`, `fixup4.dat`): Debian's `raspi-firmware`
//! package (`Arch: all`, component `non-free-firmware`), fetched with `apt-get download` into
//! `target/bulkhead/downloads` and unpacked there; or a directory the user names.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::apt_sources;
use crate::{paths, shell};

/// The Debian package.
const PACKAGE: &str = "raspi-firmware";
/// Where the package installs the firmware files.
const FIRMWARE_DIR: &str = "usr/lib/raspi-firmware";
/// The files the Pi 4 needs from it (a matched pair: the loader and its memory split).
pub const FILES: &[&str] = &["start4.elf", "fixup4.dat"];

fn is_root() -> bool {
    shell::output(Command::new("id").arg("-u")).is_ok_and(|uid| uid.trim() == "0")
}

/// `(ID, VERSION_CODENAME)` from /etc/os-release.
fn os_release() -> (String, String) {
    let text = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim_matches('"').to_string())
            .unwrap_or_default()
    };
    (field("ID="), field("VERSION_CODENAME="))
}

/// The version apt would download, if any.
fn candidate() -> Option<String> {
    let text = shell::output(Command::new("apt-cache").args(["policy", PACKAGE])).ok()?;
    let version = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Candidate:"))?
        .trim();
    (!version.is_empty() && version != "(none)").then(|| version.to_string())
}

/// Makes `raspi-firmware` downloadable: adds the `non-free-firmware` component to apt's
/// sources and updates the package lists when root, else says which commands to run.
fn ensure_available() -> Result<()> {
    if candidate().is_some() {
        return Ok(());
    }
    let (id, codename) = os_release();
    if id != "debian" || codename.is_empty() {
        bail!(
            "apt offers no {PACKAGE} here ({id} {codename}). Get start4.elf and fixup4.dat \
             (the boot/ folder of the raspberrypi/firmware repository, or a Raspberry Pi OS card) \
             and run:\n    cargo xtask sdcard --board rpi4 --firmware DIR"
        );
    }
    let offered = apt_sources::offers(
        &apt_sources::read(Path::new("/etc/apt")),
        &codename,
        apt_sources::COMPONENT,
    );
    let stanza = apt_sources::stanza(&codename);
    if !is_root() {
        let add = format!(
            "printf '{}' | sudo tee {} >/dev/null && ",
            stanza.replace('\n', "\\n"),
            apt_sources::FILE
        );
        bail!(
            "{PACKAGE} is in Debian's {} component, which apt {}. Run:\n    {}sudo apt-get update\nthen again: cargo xtask sdcard --board rpi4",
            apt_sources::COMPONENT,
            if offered { "has not fetched yet" } else { "is not configured for" },
            if offered { String::new() } else { add }
        );
    }
    if !offered {
        eprintln!(
            "adding Debian's {} component: {}",
            apt_sources::COMPONENT,
            apt_sources::FILE
        );
        std::fs::write(apt_sources::FILE, stanza)
            .with_context(|| format!("writing {}", apt_sources::FILE))?;
    }
    shell::run(Command::new("apt-get").args(["update", "-q"]))?;
    if candidate().is_none() {
        bail!("apt still offers no {PACKAGE} after `apt-get update`; check `apt-cache policy {PACKAGE}`");
    }
    Ok(())
}

/// The unpacked package's firmware directory, downloading and unpacking it once.
fn debian_package() -> Result<PathBuf> {
    let downloads = paths::target().join("bulkhead").join("downloads");
    let root = downloads.join(PACKAGE);
    if !root.join(".unpacked").exists() {
        ensure_available()?;
        std::fs::create_dir_all(&downloads)?;
        shell::run(
            Command::new("apt-get")
                .current_dir(&downloads)
                .args(["download", "-q", PACKAGE]),
        )?;
        let deb = std::fs::read_dir(&downloads)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name().is_some_and(|n| {
                    let n = n.to_string_lossy();
                    n.starts_with(&format!("{PACKAGE}_")) && n.ends_with(".deb")
                })
            })
            .max()
            .with_context(|| format!("apt-get download left no {PACKAGE}_*.deb"))?;
        shell::run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root))?;
        std::fs::write(root.join(".unpacked"), "")?;
    }
    Ok(root.join(FIRMWARE_DIR))
}

/// The directory holding [`FILES`]: `dir` when given, else Debian's package.
pub fn directory(dir: Option<&Path>) -> Result<PathBuf> {
    let dir = match dir {
        Some(dir) => dir.to_path_buf(),
        None => debian_package()?,
    };
    for file in FILES {
        if !dir.join(file).is_file() {
            bail!(
                "{} has no {file}; point --firmware at a folder with {}",
                dir.display(),
                FILES.join(" and ")
            );
        }
    }
    Ok(dir)
}
