//! `cargo xtask build`: the hypervisor image with its bundle (configuration and guest images).

use anyhow::{Context, Result};
use std::path::PathBuf;

use crate::{artifacts, check_config, paths};

/// Offset of `image_size` in the arm64 Image header.
const IMAGE_SIZE_OFFSET: usize = 16;

/// Arguments of `cargo xtask build`.
#[derive(clap::Args, Clone)]
pub struct BuildArgs {
    /// The configuration: a name in device-trees/<board>/ (without .dts) or a path.
    #[arg(long, default_value = "demo")]
    pub config: String,
    /// The board.
    #[arg(long, default_value = "qemu-virt")]
    pub board: String,
    /// Use this arm64 Linux Image instead of Debian's for `linux-Image`.
    #[arg(long)]
    pub linux_image: Option<PathBuf>,
    /// Use this initramfs instead of the test one for `initramfs.cpio`.
    #[arg(long)]
    pub initrd: Option<PathBuf>,
    /// Take the test initramfs' kernel modules from this directory (the `lib/modules/<release>`
    /// of the `--linux-image` kernel) instead of the Debian package matching that kernel.
    #[arg(long)]
    pub linux_modules: Option<PathBuf>,
    /// The number of CPUs the board is run with (QEMU virt `-smp`, 1 to 8; default 4): the
    /// configuration is checked against that many.
    #[arg(long)]
    pub smp: Option<u32>,
}

/// The path of the configuration `args` names.
pub fn config_path(args: &BuildArgs) -> PathBuf {
    let as_path = PathBuf::from(&args.config);
    if as_path.extension().is_some_and(|e| e == "dts") {
        return as_path;
    }
    paths::device_trees(&args.board).join(format!("{}.dts", args.config))
}

/// Builds everything for `args` and returns the bootable image's path.
pub fn build(args: &BuildArgs) -> Result<PathBuf> {
    let board = bulkhead_platforms::by_name(&args.board)
        .with_context(|| format!("unknown board {}", args.board))?;
    let config = config_path(args);
    // The configuration loader reads these when a configuration names the Linux files.
    if let Some(path) = &args.linux_image {
        std::env::set_var("BULKHEAD_LINUX_IMAGE", path);
    }
    if let Some(path) = &args.initrd {
        std::env::set_var("BULKHEAD_INITRD", path);
    }
    if let Some(path) = &args.linux_modules {
        std::env::set_var("BULKHEAD_LINUX_MODULES", path);
    }
    let loaded = check_config::load(&config, Some(board.name), args.smp)?;
    let stem = config
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Only test configurations, by name, get the hypervisor's deliberate-failure hooks.
    // The root's `console` property picks the UART the hypervisor owns (parsed and checked
    // already by `load`).
    let console = bulkhead_config::model::Config::parse(&loaded.dtb)
        .ok()
        .and_then(|c| c.console_uart.map(str::to_string));
    let mut image =
        artifacts::hypervisor(board, stem.starts_with("test-hooks-"), console.as_deref())?;
    let mut entries: Vec<(&str, &[u8])> =
        vec![(bulkhead_config::bundle::CONFIG_ENTRY, &loaded.dtb)];
    entries.extend(
        loaded
            .files
            .iter()
            .map(|(name, data)| (name.as_str(), data.as_slice())),
    );
    let bundle = bulkhead_config::bundle::write_bundle(&entries);
    image.resize(image.len().next_multiple_of(4096), 0);
    image.extend_from_slice(&bundle);
    let total = image.len() as u64;
    image[IMAGE_SIZE_OFFSET..IMAGE_SIZE_OFFSET + 8].copy_from_slice(&total.to_le_bytes());
    anyhow::ensure!(
        board.load_address + total
            <= board.hypervisor_reserve.start + board.hypervisor_reserve.size,
        "the image ({total} bytes) does not fit the {} MiB reserved for the hypervisor",
        board.hypervisor_reserve.size >> 20
    );
    let out = paths::out_dir(board.name).join(format!("{stem}.img"));
    std::fs::create_dir_all(out.parent().expect("out_dir has a parent"))?;
    artifacts::write_if_changed(&out, &image)?;
    if board.name == "rpi4" {
        // QEMU's raspi4b needs its own copy of the board device tree (see raspi4b.rs).
        crate::raspi4b::qemu_dtb(out.parent().unwrap_or(&out))?;
    }
    eprintln!(
        "built {} ({} KiB, {} bundle entries)",
        check_config::display(&out),
        total / 1024,
        entries.len()
    );
    Ok(out)
}
