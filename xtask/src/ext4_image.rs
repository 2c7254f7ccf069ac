//! `cargo xtask ext4-image DIR OUT`: an ext4 file system image holding DIR's files, for a
//! partition's passed-through disk (scenario `linux_disk_net`). Made by e2fsprogs'
//! `mke2fs -d` (no root, no loop mount); e2fsprogs is installed when missing.

use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::Command;

use crate::{shell, tools};

/// Arguments of `cargo xtask ext4-image`.
#[derive(clap::Args)]
pub struct Ext4ImageArgs {
    /// The directory whose files the image holds (its root).
    pub dir: PathBuf,
    /// The image to write (replaced if it exists).
    pub out: PathBuf,
    /// The image's size in MiB.
    #[arg(long, default_value_t = 16)]
    pub size_mib: u32,
    /// The file system's volume label.
    #[arg(long, default_value = "bulkhead")]
    pub label: String,
}

/// Makes sure `mke2fs` runs (it answers `-V`, not `--version`).
fn ensure_mke2fs() -> Result<()> {
    let found = Command::new("mke2fs")
        .arg("-V")
        .output()
        .is_ok_and(|out| out.status.success());
    if found {
        return Ok(());
    }
    tools::ensure_tool("mke2fs", "e2fsprogs")
}

/// The `mke2fs` command line that writes `args.out`.
fn command(args: &Ext4ImageArgs) -> Command {
    let mut command = Command::new("mke2fs");
    command
        .args(["-q", "-F", "-t", "ext4", "-L", &args.label, "-d"])
        .arg(&args.dir)
        .arg(&args.out)
        .arg(format!("{}M", args.size_mib));
    command
}

/// `cargo xtask ext4-image`.
pub fn run(args: &Ext4ImageArgs) -> Result<()> {
    anyhow::ensure!(
        args.dir.is_dir(),
        "{}: not a directory (the files the image is to hold)",
        args.dir.display()
    );
    ensure_mke2fs()?;
    let _ = std::fs::remove_file(&args.out);
    shell::run(&mut command(args)).context("mke2fs could not write the image")?;
    eprintln!(
        "wrote {} ({} MiB ext4 holding {})",
        args.out.display(),
        args.size_mib,
        args.dir.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_image_holds_the_directorys_files() {
        if ensure_mke2fs().is_err() {
            return; // no e2fsprogs on this host, and no root to install it
        }
        let dir = std::env::temp_dir().join(format!("bulkhead-ext4-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("root")).unwrap();
        std::fs::write(dir.join("root/hello.txt"), "hello from the host\n").unwrap();
        let args = Ext4ImageArgs {
            dir: dir.join("root"),
            out: dir.join("disk.ext4"),
            size_mib: 4,
            label: "test".into(),
        };
        run(&args).unwrap();
        assert_eq!(std::fs::metadata(&args.out).unwrap().len(), 4 << 20);
        let cat = Command::new("debugfs")
            .args(["-R", "cat /hello.txt"])
            .arg(&args.out)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&cat.stdout),
            "hello from the host\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
