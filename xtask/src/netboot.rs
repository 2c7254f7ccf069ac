//! `cargo xtask netboot-dir`: the files a Raspberry Pi 4 fetches over TFTP when its EEPROM
//! boot loader network-boots (the same files as the SD card's FAT partition).
//!
//! The boot loader asks for `<serial>/start4.elf` and so on, `<serial>` being the board's
//! serial number in 8 lowercase hex digits (`TFTP_PREFIX` in the EEPROM configuration changes
//! that). docs/rpi4.md explains the convention and has a dnsmasq proxy-DHCP example.

use anyhow::{bail, Result};
use std::path::PathBuf;

use crate::check_config::display;
use crate::sdcard::{boot_files, BootArgs};

/// Arguments of `cargo xtask netboot-dir`.
#[derive(clap::Args)]
pub struct NetbootArgs {
    #[command(flatten)]
    pub boot: BootArgs,
    /// Put the files in DIR/<SERIAL>/ (the board's serial number, 8 hex digits) rather than
    /// in DIR itself.
    #[arg(long)]
    pub serial: Option<String>,
    /// The folder to fill: the TFTP root with --serial, else the board's own folder in it.
    pub dir: PathBuf,
}

/// Checks a serial number the way the boot loader writes it in TFTP paths.
fn check_serial(serial: &str) -> Result<()> {
    if serial.len() != 8
        || !serial
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        bail!(
            "--serial {serial:?}: expected the 8 lowercase hex digits the boot loader prints \
             (e.g. --serial 1a2b3c4d): the last 8 digits of `Serial` in /proc/cpuinfo on a running Pi"
        );
    }
    Ok(())
}

/// `cargo xtask netboot-dir`.
pub fn run(args: &NetbootArgs) -> Result<()> {
    let dir = match &args.serial {
        Some(serial) => {
            check_serial(serial)?;
            args.dir.join(serial)
        }
        None => args.dir.clone(),
    };
    let files = boot_files::collect(&args.boot)?;
    boot_files::write_to(&files, &dir)?;
    eprintln!("wrote {} for TFTP boot:", display(&dir));
    boot_files::print(&files);
    eprintln!(
        "next: serve it over TFTP as <tftp-root>/<serial>/ (dnsmasq example: docs/rpi4.md, \"Network boot\")"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_serial;

    #[test]
    fn serial_is_eight_lowercase_hex_digits() {
        assert!(check_serial("1a2b3c4d").is_ok());
        assert!(check_serial("1A2B3C4D").is_err());
        assert!(check_serial("1a2b3c4").is_err());
        assert!(check_serial("../etc/x").is_err());
    }
}
