//! Loading a configuration: compile it, find its files, validate it against its board.

use anyhow::{bail, Context, Result};
use bulkhead_config::model::Config;
use bulkhead_config::validate::validate;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{artifacts, paths, tools};

/// Arguments of `cargo xtask check-config`.
#[derive(clap::Args)]
pub struct CheckArgs {
    /// The configuration (.dts) to check.
    pub file: PathBuf,
    /// The board to check against (default: the configuration's `board` property).
    #[arg(long)]
    pub board: Option<String>,
}

/// A configuration that passed validation, with every file it names.
pub struct LoadedConfig {
    /// The compiled configuration.
    pub dtb: Vec<u8>,
    /// The files the configuration names, by that name.
    pub files: BTreeMap<String, Vec<u8>>,
    /// The board's facts.
    pub board: &'static bulkhead_platforms::PlatformFacts,
}

/// Compiles a `.dts` with dtc.
pub fn compile_dts(path: &Path) -> Result<Vec<u8>> {
    tools::ensure_dtc()?;
    let out = Command::new("dtc")
        .args(["-q", "-I", "dts", "-O", "dtb", "-o", "-"])
        .arg(path)
        .output()
        .context("could not run dtc")?;
    if !out.status.success() {
        bail!(
            "{}: dtc failed:\n{}",
            display(path),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(out.stdout)
}

/// A path relative to the repository root, for messages.
pub fn display(path: &Path) -> String {
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    path.strip_prefix(paths::root())
        .unwrap_or(&path)
        .display()
        .to_string()
}

/// Finds the file a configuration calls `name`: next to the configuration, in its `guests/`
/// folder (a `.dtb` may be given as a `.dts` there) or among the guests xtask builds.
fn resolve(name: &str, config_dir: &Path, artifacts: &Path) -> Result<Option<Vec<u8>>> {
    let dirs = [
        config_dir.to_path_buf(),
        config_dir.join("guests"),
        artifacts.to_path_buf(),
    ];
    for dir in &dirs {
        let path = dir.join(name);
        if path.is_file() {
            return Ok(Some(std::fs::read(&path)?));
        }
        if let Some(stem) = name.strip_suffix(".dtb") {
            let source = dir.join(format!("{stem}.dts"));
            if source.is_file() {
                return Ok(Some(compile_dts(&source)?));
            }
        }
    }
    Ok(None)
}

/// Files xtask makes itself when a configuration names them: Debian's kernel and the test
/// initramfs (or the user's own, from `--linux-image` / `--initrd`).
fn provided(name: &str) -> Result<Option<Vec<u8>>> {
    let read = |path: PathBuf| {
        std::fs::read(&path)
            .with_context(|| format!("reading {}", path.display()))
            .map(Some)
    };
    match name {
        crate::linux::KERNEL => match std::env::var_os("BULKHEAD_LINUX_IMAGE") {
            Some(path) => read(PathBuf::from(path)),
            None => read(crate::linux::kernel()?.0),
        },
        crate::linux::INITRAMFS => match std::env::var_os("BULKHEAD_INITRD") {
            Some(path) => read(PathBuf::from(path)),
            None => crate::linux::initramfs().map(Some),
        },
        _ => Ok(None),
    }
}

/// Writes the initrd's place into a guest device tree's `/chosen` (with `fdtput`, from dtc).
fn set_initrd(dtb: &[u8], start: u64, end: u64) -> Result<Vec<u8>> {
    let temp = std::env::temp_dir().join(format!("bulkhead-initrd-{}.dtb", std::process::id()));
    std::fs::write(&temp, dtb)?;
    for (property, value) in [("linux,initrd-start", start), ("linux,initrd-end", end)] {
        let status = Command::new("fdtput")
            .args(["-t", "x"])
            .arg(&temp)
            .args([
                "/chosen",
                property,
                &format!("{:x}", value >> 32),
                &format!("{:x}", value & 0xffff_ffff),
            ])
            .status()
            .context("could not run fdtput (from the device-tree-compiler package)")?;
        if !status.success() {
            bail!("fdtput could not set /chosen/{property} (does the guest device tree have /chosen?)");
        }
    }
    let patched = std::fs::read(&temp)?;
    let _ = std::fs::remove_file(&temp);
    Ok(patched)
}

/// Replaces every guest device tree template (`guest_dt`) among `files` by the device tree
/// derived for the one partition that names it.
fn derive_device_trees(
    config: &Config<'_>,
    board: &str,
    files: &mut BTreeMap<String, Vec<u8>>,
) -> Result<()> {
    let mut board_dtb: Option<Vec<u8>> = None;
    let mut derived: Vec<&str> = Vec::new();
    for partition in &config.partitions {
        let Some(dtb) = &partition.dtb else { continue };
        let Some(blob) = files.get(dtb.file) else {
            continue;
        };
        if !crate::guest_dt::is_template(blob) {
            continue;
        }
        anyhow::ensure!(
            !derived.contains(&dtb.file),
            "/partitions/{}/dtb: template {:?} is already derived for another partition; a \
             derived device tree describes one partition: give each its own template file",
            partition.name,
            dtb.file
        );
        let board_blob = match &board_dtb {
            Some(blob) => blob,
            None => {
                let path = crate::guest_dt::board_dtb(board)?;
                let blob =
                    std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
                board_dtb.insert(blob)
            }
        };
        let tree = crate::guest_dt::derive(board_blob, blob, partition).with_context(|| {
            format!(
                "/partitions/{}/dtb: deriving {} from the board's device tree",
                partition.name, dtb.file
            )
        })?;
        // A copy to read with `dtc -I dtb` (the bundle's has the initrd addresses too).
        let copy = paths::out_dir(board).join("derived").join(dtb.file);
        std::fs::create_dir_all(copy.parent().unwrap_or(Path::new(".")))?;
        artifacts::write_if_changed(&copy, &tree)?;
        eprintln!(
            "derived {} for partition \"{}\" from the board's device tree ({} bytes, copy in {})",
            dtb.file,
            partition.name,
            tree.len(),
            display(&copy)
        );
        files.insert(dtb.file.to_string(), tree);
        derived.push(dtb.file);
    }
    Ok(())
}

/// Loads and validates the configuration at `path`; on failure the error lists every problem
/// as `file: node: reason`.
pub fn load(path: &Path, board_override: Option<&str>) -> Result<LoadedConfig> {
    let file = display(path);
    let dtb = compile_dts(path)?;
    let config = Config::parse(&dtb).map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
    let board_name = board_override.unwrap_or(config.board);
    let Some(board) = bulkhead_platforms::by_name(board_name) else {
        let known: Vec<_> = bulkhead_platforms::ALL.iter().map(|b| b.name).collect();
        bail!(
            "{file}: /: unknown board \"{board_name}\" (known boards: {})",
            known.join(", ")
        );
    };
    let needs_guests = config.partitions.iter().any(|p| {
        artifacts::BUILT_GUESTS
            .iter()
            .any(|(name, _)| *name == p.kernel.file)
    });
    let artifacts_dir = if needs_guests {
        artifacts::guests(board.name)?
    } else {
        paths::out_dir(board.name).join("artifacts")
    };
    let config_dir = path.parent().unwrap_or(Path::new("."));
    let mut files = BTreeMap::new();
    for partition in &config.partitions {
        for image in [
            Some(&partition.kernel),
            partition.dtb.as_ref(),
            partition.initrd.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            if files.contains_key(image.file) {
                continue;
            }
            if let Some(data) = resolve(image.file, config_dir, &artifacts_dir)? {
                files.insert(image.file.to_string(), data);
            } else if let Some(data) = provided(image.file)? {
                files.insert(image.file.to_string(), data);
            }
        }
    }
    derive_device_trees(&config, board.name, &mut files)?;
    for partition in &config.partitions {
        if let (Some(dtb), Some(initrd)) = (&partition.dtb, &partition.initrd) {
            let size = files.get(initrd.file).map_or(0, |d| d.len() as u64);
            if let Some(blob) = files.get_mut(dtb.file) {
                *blob = set_initrd(blob, initrd.load, initrd.load + size)?;
            }
        }
    }
    let errors = validate(&config, &board.board(), &|name| {
        files.get(name).map(|d| d.len() as u64)
    });
    if !errors.is_empty() {
        let lines: Vec<String> = errors.iter().map(|e| format!("{file}: {e}")).collect();
        bail!(
            "{} rejected ({} error(s)):\n{}",
            file,
            errors.len(),
            lines.join("\n")
        );
    }
    drop(config);
    Ok(LoadedConfig { dtb, files, board })
}

/// `cargo xtask check-config FILE`.
pub fn run(args: &CheckArgs) -> Result<()> {
    let loaded = load(&args.file, args.board.as_deref())?;
    println!(
        "{}: valid for board {}",
        display(&args.file),
        loaded.board.name
    );
    Ok(())
}
