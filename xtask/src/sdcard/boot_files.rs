//! The files a Raspberry Pi 4 boots from (the FAT partition of the SD card, or a TFTP
//! directory): the GPU firmware, `config.txt`, the board's device tree and Bulkhead's image.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

use super::{config_txt, firmware, BootArgs};
use crate::check_config::display;
use crate::image::{self, BuildArgs};

/// One file of the boot partition.
pub struct BootFile {
    /// Its name on the partition (in its root directory).
    pub name: &'static str,
    /// Its contents.
    pub data: Vec<u8>,
    /// Where it came from: a path, or `None` when xtask generated it.
    pub source: Option<PathBuf>,
}

impl BootFile {
    fn read(name: &'static str, source: PathBuf) -> Result<Self> {
        let data =
            std::fs::read(&source).with_context(|| format!("reading {}", source.display()))?;
        Ok(Self {
            name,
            data,
            source: Some(source),
        })
    }
}

/// The board's device tree in Debian's arm64 kernel package.
fn board_dtb() -> Result<PathBuf> {
    let (_, root) = crate::linux::kernel()?;
    let lib = root.join("usr/lib");
    std::fs::read_dir(&lib)
        .with_context(|| format!("reading {}", lib.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("linux-image-"))
        })
        .map(|p| p.join("broadcom").join(config_txt::DTB))
        .find(|p| p.is_file())
        .with_context(|| {
            format!(
                "the kernel package in {} has no broadcom/{}",
                root.display(),
                config_txt::DTB
            )
        })
}

/// Builds Bulkhead for the board and gathers every boot file, in the order they are written.
pub fn collect(args: &BootArgs) -> Result<Vec<BootFile>> {
    anyhow::ensure!(
        args.board == "rpi4",
        "--board {}: boot media exist for the Raspberry Pi 4 only; use --board rpi4",
        args.board
    );
    let firmware = firmware::directory(args.firmware.as_deref())?;
    let image = image::build(&BuildArgs {
        config: args.config.clone(),
        board: args.board.clone(),
        linux_image: None,
        initrd: None,
        linux_modules: None,
        smp: None,
    })?;
    let mut files = Vec::new();
    for name in firmware::FILES {
        files.push(BootFile::read(name, firmware.join(name))?);
    }
    files.push(BootFile {
        name: "config.txt",
        data: config_txt::text().into_bytes(),
        source: None,
    });
    files.push(BootFile::read(config_txt::DTB, board_dtb()?)?);
    files.push(BootFile::read(config_txt::KERNEL, image)?);
    Ok(files)
}

/// Writes `files` into `dir` (created if needed), replacing what is there under those names.
pub fn write_to(files: &[BootFile], dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for file in files {
        let path = dir.join(file.name);
        std::fs::write(&path, &file.data).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Prints one line per file: name, size and origin.
pub fn print(files: &[BootFile]) {
    for file in files {
        let origin = match &file.source {
            Some(path) => format!("from {}", display(path)),
            None => "generated".to_string(),
        };
        eprintln!(
            "  {:<22} {:>10} bytes  {origin}",
            file.name,
            file.data.len()
        );
    }
}
