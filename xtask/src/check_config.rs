//! Loading a configuration: compile it, find its files, validate it against its board.

use anyhow::{bail, Context, Result};
use bulkhead_config::error::ErrorKind;
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
    /// The number of CPUs the board will run with (QEMU virt `-smp`; default 4).
    #[arg(long)]
    pub smp: Option<u32>,
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

/// Every path the file a configuration calls `name` is looked for at, in order: next to the
/// configuration, in its `guests/` folder and among the guests xtask builds; a `.dtb` may also
/// be given as its `.dts`.
fn candidates(name: &str, config_dir: &Path, artifacts: &Path) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    for dir in [
        config_dir.to_path_buf(),
        config_dir.join("guests"),
        artifacts.to_path_buf(),
    ] {
        paths.push(dir.join(name));
        if let Some(stem) = name.strip_suffix(".dtb") {
            paths.push(dir.join(format!("{stem}.dts")));
        }
    }
    paths
}

/// Reads (or compiles) the first of `candidates` that exists.
fn resolve(candidates: &[PathBuf]) -> Result<Option<Vec<u8>>> {
    for path in candidates {
        if !path.is_file() {
            continue;
        }
        if path.extension().is_some_and(|e| e == "dts") {
            return Ok(Some(compile_dts(path)?));
        }
        return Ok(Some(std::fs::read(path)?));
    }
    Ok(None)
}

/// Whether xtask provides the file `name` itself (fetched or built, so only once everything
/// else about the configuration is valid).
fn is_provided(name: &str) -> bool {
    name == crate::linux::KERNEL
        || name == crate::linux::INITRAMFS
        || name == crate::linux::INITRAMFS_STORAGE
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
        crate::linux::INITRAMFS_STORAGE => crate::linux::initramfs_storage().map(Some),
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

/// Validates `config` against `board` with the image sizes `sizes` gives; the error lists every
/// problem as `file: node: reason`, a missing image with every path it was looked for at.
fn check(
    file: &str,
    config: &Config<'_>,
    board: &bulkhead_config::board::Board,
    looked: &BTreeMap<&str, Vec<PathBuf>>,
    sizes: &dyn Fn(&str) -> Option<u64>,
) -> Result<()> {
    let errors = validate(config, board, sizes);
    if errors.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = errors
        .iter()
        .map(|e| match &e.kind {
            ErrorKind::MissingImage { file: name } => {
                let paths = looked.get(name.as_str()).map_or(String::new(), |paths| {
                    paths
                        .iter()
                        .map(|p| display(p))
                        .collect::<Vec<_>>()
                        .join(", ")
                });
                format!(
                    "{file}: {e} (looked for {paths}; xtask itself provides only {} and {})",
                    crate::linux::KERNEL,
                    crate::linux::INITRAMFS
                )
            }
            _ => format!("{file}: {e}"),
        })
        .collect();
    bail!(
        "{} rejected ({} error(s)):\n{}",
        file,
        errors.len(),
        lines.join("\n")
    )
}

/// Loads and validates the configuration at `path`; on failure the error lists every problem
/// as `file: node: reason`.
pub fn load(path: &Path, board_override: Option<&str>, smp: Option<u32>) -> Result<LoadedConfig> {
    load_with(path, board_override, smp, &provided)
}

/// [`load`], with `provide` making the files xtask provides itself (called only once the rest
/// of the configuration is valid).
fn load_with(
    path: &Path,
    board_override: Option<&str>,
    smp: Option<u32>,
    provide: &dyn Fn(&str) -> Result<Option<Vec<u8>>>,
) -> Result<LoadedConfig> {
    let file = display(path);
    let dtb = compile_dts(path)?;
    let mut config = Config::parse(&dtb).map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
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
    let facts = board_facts(board, smp)?;
    let mut files = BTreeMap::new();
    let mut pending: Vec<&str> = Vec::new();
    let mut looked: BTreeMap<&str, Vec<PathBuf>> = BTreeMap::new();
    for partition in &config.partitions {
        for image in [
            Some(&partition.kernel),
            partition.dtb.as_ref(),
            partition.initrd.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            if files.contains_key(image.file) || pending.contains(&image.file) {
                continue;
            }
            let paths = candidates(image.file, config_dir, &artifacts_dir);
            if let Some(data) = resolve(&paths)? {
                files.insert(image.file.to_string(), data);
            } else if is_provided(image.file) {
                pending.push(image.file);
            } else {
                looked.insert(image.file, paths);
            }
        }
    }
    // Everything but the files xtask fetches or builds first (Debian's kernel is 60 MB): they
    // count as present and empty until the rest is valid.
    check(&file, &config, &facts, &looked, &|name| {
        files
            .get(name)
            .map(|d| d.len() as u64)
            .or_else(|| pending.contains(&name).then_some(0))
    })?;
    for name in pending {
        if let Some(data) = provide(name)? {
            files.insert(name.to_string(), data);
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
    // A device is a DMA master also by its partition's device-tree node (crate::dma).
    crate::dma::mark_known_masters(&mut config, &files);
    check(&file, &config, &facts, &looked, &|name| {
        files.get(name).map(|d| d.len() as u64)
    })?;
    check_guest_device_trees(&file, &config, &files)?;
    for warning in crate::dma::warnings(&config) {
        eprintln!("{file}: {warning}");
    }
    drop(config);
    Ok(LoadedConfig { dtb, files, board })
}

/// Checks every partition's device tree ([`crate::guest_dt_check`]); the error lists every
/// problem as `file: /partitions/<name>/dtb: <dtb file> <problem>`.
fn check_guest_device_trees(
    file: &str,
    config: &Config<'_>,
    files: &BTreeMap<String, Vec<u8>>,
) -> Result<()> {
    let mut lines = Vec::new();
    for partition in &config.partitions {
        let Some(dtb) = &partition.dtb else { continue };
        let Some(blob) = files.get(dtb.file) else {
            continue;
        };
        let linux = files
            .get(partition.kernel.file)
            .is_some_and(|kernel| crate::guest_dt_check::is_linux_image(kernel));
        let problems = crate::guest_dt_check::problems(blob, partition.cpus.len(), linux)
            .into_iter()
            .chain(crate::dma::direct_map_memory_problems(blob, partition));
        for problem in problems {
            lines.push(format!(
                "{file}: /partitions/{}/dtb: {} {problem}",
                partition.name, dtb.file
            ));
        }
    }
    if lines.is_empty() {
        return Ok(());
    }
    bail!(
        "{} rejected ({} error(s)):\n{}",
        file,
        lines.len(),
        lines.join("\n")
    )
}

/// The board a configuration is checked against: `board` as a run with `smp` CPUs has it
/// (QEMU `-smp`), or with its default CPUs.
pub fn board_facts(
    board: &bulkhead_platforms::PlatformFacts,
    smp: Option<u32>,
) -> Result<bulkhead_config::board::Board> {
    let Some(smp) = smp else {
        return Ok(board.board());
    };
    match (board.board_for_smp(smp), board.max_smp) {
        (Some(facts), _) => Ok(facts),
        (None, Some(max)) => bail!(
            "--smp {smp}: board {} runs with 1 to {max} CPUs",
            board.name
        ),
        (None, None) => bail!(
            "--smp {smp}: board {} has a fixed {} CPUs",
            board.name,
            board.cpus.len()
        ),
    }
}

/// `cargo xtask check-config FILE`.
pub fn run(args: &CheckArgs) -> Result<()> {
    let loaded = load(&args.file, args.board.as_deref(), args.smp)?;
    println!(
        "{}: valid for board {}",
        display(&args.file),
        loaded.board.name
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// A configuration of one partition on CPU `cpu` booting `kernel`, in its own directory.
    fn config(test: &str, cpu: &str, kernel: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("bulkhead-check-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.dts");
        let text = format!(
            r#"/dts-v1/;
/ {{
    compatible = "bulkhead,config";
    board = "qemu-virt";
    partitions {{
        #address-cells = <2>;
        #size-cells = <2>;
        p {{
            #address-cells = <2>;
            #size-cells = <2>;
            cpus = <{cpu}>;
            memory@40000000 {{ reg = <0x0 0x40000000 0x0 0x01000000>; }};
            kernel {{ file = "{kernel}"; load = <0x0 0x40000000>; }};
        }};
    }};
}};
"#
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    fn error_of(result: Result<LoadedConfig>) -> String {
        match result {
            Ok(_) => panic!("the configuration was accepted"),
            Err(error) => format!("{error:#}"),
        }
    }

    #[test]
    fn a_bad_configuration_is_rejected_before_the_kernel_is_fetched() {
        let path = config("early", "0x9", crate::linux::KERNEL);
        let fetched = Cell::new(0);
        let provide = |_: &str| -> Result<Option<Vec<u8>>> {
            fetched.set(fetched.get() + 1);
            Ok(Some(vec![0; 4096]))
        };
        let error = error_of(load_with(&path, None, None, &provide));
        assert!(error.contains("CPU 0x9"), "{error}");
        assert_eq!(
            fetched.get(),
            0,
            "nothing is fetched for a configuration already invalid"
        );
    }

    #[test]
    fn the_kernel_is_fetched_once_the_rest_is_valid_and_then_checked_too() {
        let path = config("late", "0x0", crate::linux::KERNEL);
        let fetched = Cell::new(0);
        let small = |_: &str| -> Result<Option<Vec<u8>>> {
            fetched.set(fetched.get() + 1);
            Ok(Some(vec![0; 4096]))
        };
        let loaded = load_with(&path, None, None, &small).expect("valid");
        assert_eq!(fetched.get(), 1);
        assert_eq!(loaded.files[crate::linux::KERNEL].len(), 4096);
        let large = |_: &str| -> Result<Option<Vec<u8>>> { Ok(Some(vec![0; 17 << 20])) };
        let error = error_of(load_with(&path, None, None, &large));
        assert!(error.contains("linux-Image"), "{error}");
    }

    #[test]
    fn a_missing_image_says_every_path_it_was_looked_for_at() {
        let path = config("missing", "0x0", "nowhere.bin");
        let never = |_: &str| -> Result<Option<Vec<u8>>> { panic!("not an xtask file") };
        let error = error_of(load_with(&path, None, None, &never));
        let dir = path.parent().unwrap().canonicalize().unwrap();
        assert!(
            error.contains("image file \"nowhere.bin\" not found"),
            "{error}"
        );
        for looked in [
            dir.join("nowhere.bin"),
            dir.join("guests/nowhere.bin"),
            paths::out_dir("qemu-virt").join("artifacts/nowhere.bin"),
        ] {
            assert!(
                error.contains(&display(&looked)),
                "{} not in {error}",
                looked.display()
            );
        }
    }

    #[test]
    fn the_board_has_as_many_cpus_as_the_run() {
        let path = config("smp", "0x4", "nowhere.dtb");
        let never = |_: &str| -> Result<Option<Vec<u8>>> { panic!("not an xtask file") };
        let four = error_of(load_with(&path, None, None, &never));
        assert!(four.contains("CPU 0x4 does not exist"), "{four}");
        let eight = error_of(load_with(&path, None, Some(8), &never));
        assert!(!eight.contains("CPU 0x4"), "{eight}");
        assert!(
            eight.contains("nowhere.dts"),
            "a .dtb is looked for as .dts too: {eight}"
        );
        let nine = error_of(load_with(&path, None, Some(9), &never));
        assert!(
            nine.contains("--smp 9: board qemu-virt runs with 1 to 8 CPUs"),
            "{nine}"
        );
        let pi = error_of(load_with(&path, Some("rpi4"), Some(8), &never));
        assert!(pi.contains("board rpi4 has a fixed 4 CPUs"), "{pi}");
    }
}
