//! `cargo xtask run`: boot an image on QEMU with the console on the terminal.

use anyhow::{bail, Result};
use std::path::Path;
use std::process::Command;

use crate::image::{self, BuildArgs};
use crate::{shell, tools};

/// No network card. QEMU's default one on `virt` (virtio-net-pci) loads `efi-virtio.rom`
/// from the optional `ipxe-qemu` package, which `--no-install-recommends` leaves out; no
/// Bulkhead run uses a network, so every QEMU command line xtask builds passes this.
pub const NO_NIC: [&str; 2] = ["-nic", "none"];

/// Arguments of `cargo xtask run`.
#[derive(clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub build: BuildArgs,
    /// GIC version of the QEMU virt machine.
    #[arg(long, default_value_t = 3)]
    pub gic: u8,
    /// Count instructions (`-icount shift=0`, counter at 1 GHz): one counter tick = one instruction.
    #[arg(long)]
    pub icount: bool,
    /// Also write each partition's console output to DIR/<partition>.log (and the hypervisor's
    /// own lines to DIR/hypervisor.log).
    #[arg(long, value_name = "DIR")]
    pub console_log: Option<std::path::PathBuf>,
}

/// Runs QEMU with the console on the terminal (and into the logs, with --console-log).
fn boot(command: &mut Command, args: &RunArgs) -> Result<()> {
    eprintln!("console: Ctrl-] h lists the console keys (docs/console.md)");
    match &args.console_log {
        Some(dir) => crate::console_log::run(command, dir),
        None => shell::run(command),
    }
}

/// The QEMU command line that boots `image` on the virt machine.
pub fn virt_command(image: &Path, gic: u8, smp: u32, icount: bool) -> Command {
    let mut command = Command::new("qemu-system-aarch64");
    command
        .arg("-M")
        .arg(format!("virt,virtualization=on,gic-version={gic}"))
        .args(["-cpu", "cortex-a72", "-m", "2G", "-nographic", "-no-reboot"])
        .args(NO_NIC)
        .arg("-smp")
        .arg(smp.to_string())
        .arg("-kernel")
        .arg(image);
    if icount {
        command.args([
            "-icount",
            "shift=0,sleep=off",
            "-global",
            "cortex-a72-arm-cpu.cntfrq=1000000000",
        ]);
    }
    command
}

/// `cargo xtask run`.
pub fn run(args: &RunArgs) -> Result<()> {
    tools::ensure_qemu()?;
    let image = image::build(&args.build)?;
    if args.build.board == "rpi4" {
        let dtb = crate::raspi4b::qemu_dtb(&crate::raspi4b::out_dir())?;
        eprintln!("booting on QEMU raspi4b; quit with Ctrl-A X");
        return boot(&mut crate::raspi4b::command(&image, &dtb), args);
    }
    if args.build.board != "qemu-virt" {
        bail!("`run` supports --board qemu-virt and --board rpi4");
    }
    eprintln!(
        "booting on QEMU virt (GICv{}); quit with Ctrl-A X",
        args.gic
    );
    // Without --smp: the CPUs the build-time board has.
    let default = bulkhead_platforms::qemu_virt::FACTS.cpus.len();
    let smp = args.build.smp.unwrap_or(u32::try_from(default)?);
    boot(&mut virt_command(&image, args.gic, smp, args.icount), args)
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// Whether `command` says `-nic none`.
    pub fn has_no_nic(command: &Command) -> bool {
        let args: Vec<_> = command.get_args().collect();
        args.windows(2).any(|pair| pair == NO_NIC)
    }

    #[test]
    fn every_qemu_command_line_has_no_default_network_card() {
        let image = Path::new("image");
        assert!(has_no_nic(&virt_command(image, 3, 4, false)));
        assert!(has_no_nic(&virt_command(image, 2, 8, true)));
        assert!(has_no_nic(&crate::raspi4b::command(
            image,
            Path::new("dtb")
        )));
    }
}
