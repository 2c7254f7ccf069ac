//! Which kernel modules go into the test initramfs: those of the kernel that boots.
//!
//! A module loads only into the kernel release it was built for (`vermagic`); Debian's modules
//! in another kernel fail with `invalid module format`. So with `--linux-image FILE` the modules
//! come from the Debian package of that Image's release (read from its `Linux version ...`
//! banner), from `--linux-modules DIR`, or the build stops and says which to pass.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

use crate::linux;

/// The modules the test initramfs carries. arm_smccc_trng: scenario linux-smccc. i2c-bcm2835,
/// i2c-dev: the Raspberry Pi 4 Linux partition's passed-through I2C controller (scenario
/// rpi4-linux). sbsa_gwdt: the partition's emulated SBSA generic watchdog (scenario
/// partition_watchdog). virtio_mmio, virtio_console: serial channels (scenario
/// ipc_serial_link).
pub const MODULES: [&str; 6] = [
    "arm_smccc_trng.ko",
    "i2c-bcm2835.ko",
    "i2c-dev.ko",
    "sbsa_gwdt.ko",
    "virtio_mmio.ko",
    "virtio_console.ko",
];

const BANNER: &[u8] = b"Linux version ";
const VERMAGIC: &[u8] = b"vermagic=";

/// The word after `marker` in `bytes` (up to a space or NUL), if it is a plausible release.
fn word_after<'a>(bytes: &'a [u8], marker: &[u8]) -> Option<&'a str> {
    let at = bytes.windows(marker.len()).position(|w| w == marker)? + marker.len();
    let rest = bytes.get(at..)?;
    let end = rest
        .iter()
        .position(|&b| b == b' ' || b == 0)
        .unwrap_or(rest.len());
    let word = std::str::from_utf8(rest.get(..end)?).ok()?;
    let plausible = !word.is_empty()
        && word.len() <= 64
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._+-~".contains(&b));
    plausible.then_some(word)
}

/// The kernel release an uncompressed arm64 Image was built as (`uname -r`), from its
/// `Linux version RELEASE (...)` banner; `None` for a compressed or foreign file.
pub fn image_release(image: &[u8]) -> Option<&str> {
    word_after(image, BANNER)
}

/// The kernel release a module (`.ko`) was built for, from its `vermagic=RELEASE ...`.
pub fn module_release(module: &[u8]) -> Option<&str> {
    word_after(module, VERMAGIC)
}

/// Debian's packages that hold the modules of kernel `release`.
fn packages(release: &str) -> [String; 2] {
    [
        format!("linux-image-{release}"),
        format!("linux-image-{release}-unsigned"),
    ]
}

/// What to do when no modules match: the message naming the options.
fn no_match(image: &Path, release: Option<&str>) -> String {
    let what = match release {
        Some(release) => format!(
            "is Linux {release}, and Debian has no package {} to take its modules from",
            packages(release).join(" or ")
        ),
        None => "has no \"Linux version\" banner (a compressed Image?), so its release is unknown"
            .to_string(),
    };
    format!(
        "--linux-image {} {what}. The test initramfs loads {} built for the kernel that boots \
         (another kernel's fail with `invalid module format`): pass --linux-modules DIR (that \
         kernel's lib/modules/<release>, e.g. from `make modules_install \
         INSTALL_MOD_PATH=...`) or your own --initrd FILE",
        image.display(),
        MODULES.join(", ")
    )
}

/// The directory the test initramfs takes its modules from: `--linux-modules DIR`, else the
/// `lib/modules` of the Debian package matching `--linux-image` (fetched once), else Debian's
/// default kernel's.
pub fn directory() -> Result<PathBuf> {
    let image = std::env::var_os("BULKHEAD_LINUX_IMAGE").map(PathBuf::from);
    if let Some(dir) = std::env::var_os("BULKHEAD_LINUX_MODULES").map(PathBuf::from) {
        anyhow::ensure!(
            dir.is_dir(),
            "--linux-modules {}: not a directory",
            dir.display()
        );
        if let Some(image) = &image {
            check_release(image, &dir)?;
        }
        return Ok(dir);
    }
    let Some(image) = image else {
        return Ok(linux::kernel()?.1.join("lib/modules"));
    };
    let bytes = std::fs::read(&image).with_context(|| format!("reading {}", image.display()))?;
    let Some(release) = image_release(&bytes) else {
        bail!("{}", no_match(&image, None));
    };
    for package in packages(release) {
        if let Some(root) = linux::package(&package)? {
            return Ok(root.join("lib/modules").join(release));
        }
    }
    bail!("{}", no_match(&image, Some(release)))
}

/// Compressed forms a kernel may install a module in (Debian's 6.12 kernels: `.ko.xz`), with the
/// tool that decompresses each to stdout and the Debian package that has the tool.
const COMPRESSED: [(&str, &str, &str); 3] = [
    ("xz", "xz", "xz-utils"),
    ("gz", "gzip", "gzip"),
    ("zst", "zstd", "zstd"),
];

/// The module `name` (e.g. `i2c-dev.ko`) under `dir`, as a plain `.ko` or decompressed from
/// `.ko.xz`, `.ko.gz` or `.ko.zst`; `None` when `dir` has none of them.
pub fn read_module(dir: &Path, name: &str) -> Result<Option<Vec<u8>>> {
    if let Some(path) = find_file(dir, name) {
        return Ok(Some(std::fs::read(path)?));
    }
    for (suffix, tool, package) in COMPRESSED {
        let Some(path) = find_file(dir, &format!("{name}.{suffix}")) else {
            continue;
        };
        crate::tools::ensure_tool(tool, package)?;
        let out = std::process::Command::new(tool)
            .arg("-dc")
            .arg(&path)
            .output()
            .with_context(|| format!("running {tool} -dc {}", path.display()))?;
        anyhow::ensure!(
            out.status.success(),
            "{tool} -dc {} failed: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        return Ok(Some(out.stdout));
    }
    Ok(None)
}

/// Refuses `--linux-modules DIR` when its modules were built for another release than `image`.
fn check_release(image: &Path, dir: &Path) -> Result<()> {
    let bytes = std::fs::read(image).with_context(|| format!("reading {}", image.display()))?;
    let Some(release) = image_release(&bytes) else {
        return Ok(());
    };
    for name in MODULES {
        let Some(module) = read_module(dir, name)? else {
            continue;
        };
        if let Some(built_for) = module_release(&module) {
            anyhow::ensure!(
                built_for == release,
                "{name} in {} is built for Linux {built_for}, but --linux-image {} is Linux \
                 {release}",
                dir.display(),
                image.display()
            );
        }
    }
    Ok(())
}

/// The first file called `name` under `dir`, searched depth first.
pub fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if let Some(found) = find_file(&path, name) {
                return Some(found);
            }
        } else if path.file_name().is_some_and(|n| n == name) {
            return Some(path);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_release_comes_from_the_images_banner() {
        let mut image = vec![0u8; 64];
        image.extend_from_slice(
            b"Linux version 6.1.0-57-arm64 (debian-kernel@lists.debian.org) (gcc-12)\0",
        );
        assert_eq!(image_release(&image), Some("6.1.0-57-arm64"));
        assert_eq!(
            image_release(b"Linux version 6.12.9+bpo-arm64\0"),
            Some("6.12.9+bpo-arm64")
        );
        assert_eq!(image_release(b"\x1f\x8b compressed"), None);
        assert_eq!(image_release(b"Linux version  (nobody)"), None);
        assert_eq!(image_release(b"Linux version \xff\xfe (x)"), None);
        assert_eq!(image_release(b"Linux version"), None);
    }

    #[test]
    fn a_modules_release_comes_from_its_vermagic() {
        let module = b"\0license=GPL\0vermagic=6.1.0-57-arm64 SMP mod_unload modversions aarch64\0";
        assert_eq!(module_release(module), Some("6.1.0-57-arm64"));
        assert_eq!(module_release(b"no magic here"), None);
    }

    #[test]
    fn without_a_matching_package_the_message_names_both_ways_out() {
        let message = no_match(Path::new("my-Image"), Some("6.9.0-custom"));
        assert!(message.contains("Linux 6.9.0-custom"), "{message}");
        assert!(message.contains("linux-image-6.9.0-custom"), "{message}");
        assert!(message.contains("--linux-modules DIR"), "{message}");
        assert!(message.contains("--initrd FILE"), "{message}");
        assert!(message.contains("arm_smccc_trng.ko"), "{message}");
        let unknown = no_match(Path::new("Image.gz"), None);
        assert!(unknown.contains("no \"Linux version\" banner"), "{unknown}");
    }

    #[test]
    fn modules_of_another_release_are_refused() {
        let dir = std::env::temp_dir().join(format!("bulkhead-modules-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("kernel/drivers")).unwrap();
        std::fs::write(
            dir.join("kernel/drivers/arm_smccc_trng.ko"),
            b"vermagic=6.1.0-57-arm64 SMP\0",
        )
        .unwrap();
        let image = dir.join("Image");
        std::fs::write(&image, b"Linux version 6.12.9-arm64 (me)").unwrap();
        let error = check_release(&image, &dir).unwrap_err().to_string();
        assert!(error.contains("built for Linux 6.1.0-57-arm64"), "{error}");
        assert!(error.contains("is Linux 6.12.9-arm64"), "{error}");
        std::fs::write(&image, b"Linux version 6.1.0-57-arm64 (me)").unwrap();
        assert!(check_release(&image, &dir).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_compressed_module_is_read_decompressed() {
        let dir = std::env::temp_dir().join(format!("bulkhead-modules-gz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("kernel")).unwrap();
        let module = b"vermagic=6.12.43+deb12-arm64 SMP\0".to_vec();
        std::fs::write(dir.join("kernel/i2c-dev.ko"), &module).unwrap();
        let gzip = std::process::Command::new("gzip")
            .arg("-k")
            .arg(dir.join("kernel/i2c-dev.ko"))
            .status();
        if !gzip.is_ok_and(|s| s.success()) {
            return; // no gzip on this host
        }
        std::fs::remove_file(dir.join("kernel/i2c-dev.ko")).unwrap();
        assert_eq!(read_module(&dir, "i2c-dev.ko").unwrap(), Some(module));
        assert_eq!(read_module(&dir, "i2c-bcm2835.ko").unwrap(), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
