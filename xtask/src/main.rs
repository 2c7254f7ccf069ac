//! `cargo xtask`: builds Bulkhead's boot images, runs them on QEMU, checks configurations and
//! runs the tests. Every external command is printed before it runs.

mod artifacts;
mod bench;
mod check_boot;
mod check_config;
mod checks;
mod console_log;
mod defmt_log;
mod dma;
mod elf;
mod ext4_image;
mod flash;
mod fuzz;
mod guest_dt;
mod guest_dt_check;
mod hil;
mod image;
mod initramfs;
mod linux;
mod linux_modules;
mod netboot;
mod paths;
mod qemu;
mod raspi4b;
mod sdcard;
mod shell;
mod test;
mod tools;

use clap::{Parser, Subcommand};

/// Bulkhead's build tool.
#[derive(Parser)]
#[command(name = "cargo xtask", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the hypervisor, the guests and the bootable image of a configuration.
    Build(image::BuildArgs),
    /// Build, then boot the image on QEMU with the console on this terminal (Ctrl-A X quits).
    Run(qemu::RunArgs),
    /// Check that the built hypervisor runs no exclusive or atomic read-modify-write before its
    /// EL2 MMU and caches are on (they hang a real Raspberry Pi 4); `cargo xtask test` runs it.
    CheckBoot(check_boot::CheckBootArgs),
    /// Check a partition configuration (.dts) against its board; print every error.
    CheckConfig(check_config::CheckArgs),
    /// Check formatting and clippy, run the host unit tests, each fuzz target for a fixed number
    /// of iterations and the QEMU scenario tests; ends with "N passed, N failed".
    Test(test::TestArgs),
    /// Run the scenario suite on one target (QEMU, a bench board or a labgrid place; each
    /// scenario on that target, those for another board skipped): JUnit XML with the commit and
    /// the target, every console log, one summary line.
    Hil(hil::HilArgs),
    /// Run the fuzz targets in fuzz/ (cargo-fuzz, nightly): one, or all in turn, for --time
    /// seconds each; `--help` lists them.
    Fuzz(fuzz::FuzzArgs),
    /// Run the benchmarks on QEMU (counted in guest instructions), print the table and write
    /// docs/benchmarks.md; --check fails when a figure exceeds its budget.
    Bench(bench::BenchArgs),
    /// Build a bootable Raspberry Pi 4 SD card image (MBR + FAT32: firmware, config.txt, device
    /// tree, Bulkhead) without root; flash it with `cargo xtask flash`.
    Sdcard(sdcard::SdcardArgs),
    /// Write an SD card image to a removable, unmounted card (never the system disk), after a
    /// confirmation, and verify it by reading it back.
    Flash(flash::FlashArgs),
    /// Decode the `DEFMT:` lines of a console log on stdin (the RTOS partition's defmt output)
    /// into messages with their source locations: `cargo xtask run ... | cargo xtask
    /// defmt-decode [--elf ELF]`.
    DefmtDecode(defmt_log::DecodeArgs),
    /// Put the Raspberry Pi 4 boot files (those of the SD card) in DIR for network boot over
    /// TFTP.
    NetbootDir(netboot::NetbootArgs),
    /// Write an ext4 file system image holding a directory's files (`mke2fs -d`, no root), for a
    /// partition's passed-through disk.
    Ext4Image(ext4_image::Ext4ImageArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build(args) => image::build(&args).map(|_| ()),
        Command::Run(args) => qemu::run(&args),
        Command::CheckBoot(args) => check_boot::run(&args),
        Command::CheckConfig(args) => check_config::run(&args),
        Command::Test(args) => test::run(&args),
        Command::Hil(args) => hil::run(&args),
        Command::Fuzz(args) => fuzz::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Sdcard(args) => sdcard::run(&args),
        Command::Flash(args) => flash::run(&args),
        Command::NetbootDir(args) => netboot::run(&args),
        Command::DefmtDecode(args) => defmt_log::run(&args),
        Command::Ext4Image(args) => ext4_image::run(&args),
    };
    if let Err(error) = result {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}
