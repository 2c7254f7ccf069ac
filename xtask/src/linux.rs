//! Debian's stock arm64 Linux kernel and busybox for Linux partitions: fetched with
//! `apt-get download` into `target/bulkhead/downloads` (never committed), and the test
//! initramfs built from them.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::Command;

use crate::initramfs::{cpio, Member};
use crate::{linux_modules, paths, shell};

/// Files configurations can name that this module provides.
pub const KERNEL: &str = "linux-Image";
/// The test initramfs.
pub const INITRAMFS: &str = "initramfs.cpio";
/// The test initramfs with the disk, network and file-system modules too
/// ([`linux_modules::STORAGE_MODULES`]); a file of its own so the other Linux scenarios (and
/// their boot benchmarks) keep the small one.
pub const INITRAMFS_STORAGE: &str = "initramfs-storage.cpio";

fn downloads() -> PathBuf {
    paths::target().join("bulkhead").join("downloads")
}

fn is_root() -> bool {
    shell::output(Command::new("id").arg("-u"))
        .map(|uid| uid.trim() == "0")
        .unwrap_or(false)
}

/// Makes sure apt can fetch arm64 packages (adds the architecture as root).
fn ensure_arm64_packages() -> Result<()> {
    let foreign = shell::output(Command::new("dpkg").arg("--print-foreign-architectures"))
        .unwrap_or_default();
    if foreign.lines().any(|a| a.trim() == "arm64") {
        return Ok(());
    }
    if !is_root() {
        bail!("fetching Debian's arm64 kernel needs arm64 package lists. Run:\n    sudo dpkg --add-architecture arm64 && sudo apt-get update");
    }
    shell::run(Command::new("dpkg").args(["--add-architecture", "arm64"]))?;
    shell::run(Command::new("apt-get").args(["update", "-q"]))
}

/// The concrete kernel package the `linux-image-arm64` metapackage depends on.
fn kernel_package() -> Result<String> {
    let text =
        shell::output(Command::new("apt-cache").args(["depends", "linux-image-arm64:arm64"]))?;
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("Depends: "))
        .find(|p| p.starts_with("linux-image-"))
        .map(|p| p.trim_end_matches(":arm64").to_string())
        .context("apt-cache found no kernel package behind linux-image-arm64:arm64")
}

/// Downloads and unpacks `package:arm64` into the cache once; returns its unpacked root.
fn fetch(package: &str) -> Result<PathBuf> {
    let root = downloads().join(package);
    if root.join(".unpacked").exists() {
        return Ok(root);
    }
    ensure_arm64_packages()?;
    std::fs::create_dir_all(downloads())?;
    let mut download = Command::new("apt-get");
    download
        .current_dir(downloads())
        .args(["download", "-q", &format!("{package}:arm64")]);
    if shell::run(&mut download).is_err() {
        shell::run(Command::new("apt-get").args(["update", "-q"]))?;
        shell::run(&mut download)?;
    }
    let deb = std::fs::read_dir(downloads())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            name.starts_with(&format!("{package}_")) && name.ends_with("_arm64.deb")
        })
        .with_context(|| format!("apt-get download left no {package}_*_arm64.deb"))?;
    shell::run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root))?;
    std::fs::write(root.join(".unpacked"), "")?;
    Ok(root)
}

/// Debian's package `name:arm64`, unpacked into the cache (fetched on first use); `None` when
/// apt knows no such package.
pub fn package(name: &str) -> Result<Option<PathBuf>> {
    if downloads().join(name).join(".unpacked").exists() {
        return Ok(Some(downloads().join(name)));
    }
    ensure_arm64_packages()?;
    let known = Command::new("apt-cache")
        .args(["show", &format!("{name}:arm64")])
        .output()
        .is_ok_and(|out| out.status.success() && !out.stdout.is_empty());
    if !known {
        return Ok(None);
    }
    fetch(name).map(Some)
}

/// The default kernel package: the one `linux-image-arm64` named when it was first fetched
/// (remembered in the cache, so kernels fetched for `--linux-image` never stand in for it).
fn default_root() -> Result<PathBuf> {
    let marker = downloads().join("default-kernel");
    if let Ok(name) = std::fs::read_to_string(&marker) {
        let root = downloads().join(name.trim());
        if root.join(".unpacked").exists() {
            return Ok(root);
        }
    }
    // apt knows arm64 packages only once the architecture is added (before the first lookup).
    let name = match ensure_arm64_packages().and_then(|()| kernel_package()) {
        Ok(name) => name,
        Err(error) => {
            // Offline without package lists: a cache holding one kernel package is unambiguous.
            let cached: Vec<PathBuf> = std::fs::read_dir(downloads())
                .map(|entries| {
                    entries
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| {
                            p.file_name()
                                .is_some_and(|n| n.to_string_lossy().starts_with("linux-image-"))
                                && p.join(".unpacked").exists()
                        })
                        .collect()
                })
                .unwrap_or_default();
            match cached.as_slice() {
                [only] => return Ok(only.clone()),
                _ => return Err(error),
            }
        }
    };
    let root = fetch(&name)?;
    std::fs::write(&marker, &name)?;
    Ok(root)
}

/// Debian's arm64 kernel (an uncompressed arm64 Image) and its unpacked package root.
pub fn kernel() -> Result<(PathBuf, PathBuf)> {
    let root = default_root()?;
    let image = std::fs::read_dir(root.join("boot"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
        })
        .context("the kernel package has no /boot/vmlinuz-*")?;
    Ok((image, root))
}

/// Builds the test initramfs: busybox, `guest-shim/linux/init`, `bulkheadctl`, /dev/console and the modules
/// the scenarios load, from the kernel that boots (`linux_modules`).
pub fn initramfs() -> Result<Vec<u8>> {
    initramfs_with(&[], &[])
}

/// The test initramfs with [`linux_modules::STORAGE_MODULES`] as well, and `dmaprobe` (scenario
/// `dma_isolation`), which the default one leaves out so that its size does not move the Linux
/// boot benchmarks.
pub fn initramfs_storage() -> Result<Vec<u8>> {
    initramfs_with(&linux_modules::STORAGE_MODULES, &["dmaprobe"])
}

/// The test initramfs, with the modules `extra` besides [`linux_modules::MODULES`] and the
/// Linux tools `tools` besides `bulkheadctl` (in /bin).
fn initramfs_with(extra: &[&str], tools: &[&str]) -> Result<Vec<u8>> {
    let busybox_root = fetch("busybox-static")?;
    let busybox = std::fs::read(busybox_root.join("bin/busybox"))
        .context("busybox-static has no /bin/busybox")?;
    let init = std::fs::read(paths::root().join("guest-shim/linux/init"))?;
    let bulkheadctl = crate::artifacts::linux_tool("bulkheadctl")?;
    let modules_dir = linux_modules::directory()?;
    let mut modules = Vec::new();
    for name in linux_modules::MODULES.iter().chain(extra) {
        if let Some(module) = linux_modules::read_module(&modules_dir, name)? {
            modules.push((format!("lib/modules/{name}"), module));
        }
    }
    let mut members = vec![
        Member::Dir("bin"),
        Member::Dir("dev"),
        Member::Dir("proc"),
        Member::Dir("sys"),
        Member::Dir("tmp"),
        Member::Dir("lib"),
        Member::Dir("lib/modules"),
        Member::CharDevice("dev/console", 5, 1),
        Member::File("bin/busybox", 0o755, &busybox),
        Member::Symlink("bin/sh", "busybox"),
        Member::File("init", 0o755, &init),
        Member::File("bin/bulkheadctl", 0o755, &bulkheadctl),
    ];
    let tools = tools
        .iter()
        .map(|&tool| Ok((format!("bin/{tool}"), crate::artifacts::linux_tool(tool)?)))
        .collect::<Result<Vec<_>>>()?;
    for (path, data) in &tools {
        members.push(Member::File(path, 0o755, data));
    }
    for (path, data) in &modules {
        members.push(Member::File(path, 0o644, data));
    }
    Ok(cpio(&members))
}
