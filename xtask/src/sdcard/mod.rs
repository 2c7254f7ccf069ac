//! `cargo xtask sdcard`: a bootable Raspberry Pi 4 SD card image, built without root: an MBR,
//! one FAT32 partition with the GPU firmware, `config.txt`, the board's device tree and
//! Bulkhead's image.

pub mod apt_sources;
pub mod boot_files;
pub mod config_txt;
pub mod disk_image;
pub mod firmware;

use anyhow::Result;
use std::path::PathBuf;

use crate::check_config::display;
use crate::paths;

/// What goes on a Raspberry Pi's boot medium (shared by `sdcard` and `netboot-dir`).
#[derive(clap::Args, Clone)]
pub struct BootArgs {
    /// The board (rpi4, the only one with boot media so far).
    #[arg(long, default_value = "rpi4")]
    pub board: String,
    /// The configuration: a name in device-trees/<board>/ (without .dts) or a path.
    #[arg(long, default_value = "demo")]
    pub config: String,
    /// A folder with start4.elf and fixup4.dat to use instead of Debian's raspi-firmware.
    #[arg(long, value_name = "DIR")]
    pub firmware: Option<PathBuf>,
}

impl BootArgs {
    /// The configuration's file stem, for default output names.
    pub fn config_stem(&self) -> String {
        PathBuf::from(&self.config)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.config.clone())
    }
}

/// Arguments of `cargo xtask sdcard`.
#[derive(clap::Args)]
pub struct SdcardArgs {
    #[command(flatten)]
    pub boot: BootArgs,
    /// The image file to write (default: target/bulkhead/<board>/<config>-sdcard.img).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// The image `sdcard` writes by default (and `flash` reads by default).
pub fn default_image(board: &str, config_stem: &str) -> PathBuf {
    paths::out_dir(board).join(format!("{config_stem}-sdcard.img"))
}

/// `cargo xtask sdcard`.
pub fn run(args: &SdcardArgs) -> Result<()> {
    let files = boot_files::collect(&args.boot)?;
    let stem = args.boot.config_stem();
    let staging = paths::out_dir(&args.boot.board).join("boot").join(&stem);
    boot_files::write_to(&files, &staging)?;
    eprintln!("boot files (also in {}):", display(&staging));
    boot_files::print(&files);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_image(&args.boot.board, &stem));
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let layout = disk_image::write(&out, &files)?;
    eprintln!(
        "wrote {} ({} MiB): MBR, partition 1 FAT32 type {:#04x} bootable, sectors {} to {}",
        display(&out),
        layout.image_bytes() >> 20,
        disk_image::FAT32_LBA,
        layout.start_sector,
        layout.start_sector + layout.sectors - 1
    );
    eprintln!(
        "next: cargo xtask flash --board {} --device /dev/sdX --image {}",
        args.boot.board,
        display(&out)
    );
    Ok(())
}
