//! `cargo xtask flash`: writes an SD card image to a card, safely. The device's facts are read
//! once from sysfs and procfs; the card must be a whole, removable, unmounted disk that is not
//! the system's, and big enough. Then it asks (or takes `--yes`), writes synchronously in
//! chunks and verifies by reading back.

pub mod checks;
pub mod facts;
#[cfg(test)]
mod fake_system;
pub mod writer;

use anyhow::{bail, Context, Result};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use crate::check_config::display;
use crate::sdcard;
use facts::{DeviceFacts, NodeKind, SystemRoot};

/// Arguments of `cargo xtask flash`.
#[derive(clap::Args)]
pub struct FlashArgs {
    /// The board the image is for.
    #[arg(long, default_value = "rpi4")]
    pub board: String,
    /// The whole SD card to overwrite, e.g. /dev/sdb or /dev/mmcblk0 (`lsblk` lists them).
    #[arg(long, value_name = "DEVICE")]
    pub device: PathBuf,
    /// The image to write (default: target/bulkhead/<board>/demo-sdcard.img).
    #[arg(long, value_name = "FILE")]
    pub image: Option<PathBuf>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
}

/// One line about the device: model, size, removability.
fn describe(facts: &DeviceFacts) -> String {
    let model: Vec<&str> = [facts.vendor.as_deref(), facts.model.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let size = facts.size_bytes.unwrap_or(0);
    format!(
        "{}: {}, {:.1} GB ({size} bytes), removable, nothing mounted",
        facts.path.display(),
        if model.is_empty() {
            "unknown model".to_string()
        } else {
            model.join(" ")
        },
        size as f64 / 1e9
    )
}

/// Asks the user to type `yes`.
fn confirm(question: &str) -> Result<bool> {
    eprint!("{question} Type yes to continue: ");
    std::io::stderr().flush()?;
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        eprintln!();
    }
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

/// `cargo xtask flash`.
pub fn run(args: &FlashArgs) -> Result<()> {
    let image_path = args
        .image
        .clone()
        .unwrap_or_else(|| sdcard::default_image(&args.board, "demo"));
    let image = std::fs::read(&image_path).with_context(|| {
        format!(
            "no image at {}; build it first: cargo xtask sdcard --board {}",
            display(&image_path),
            args.board
        )
    })?;
    let facts = DeviceFacts::read(&args.device, &SystemRoot::real());
    let refusals = checks::refusals(&facts, image.len() as u64);
    if !refusals.is_empty() {
        eprintln!("refusing to write {}:", args.device.display());
        for refusal in &refusals {
            eprintln!("  - {refusal}");
        }
        bail!("nothing was written to {}", args.device.display());
    }
    eprintln!("{}", describe(&facts));
    let question = format!(
        "Write {} ({} MiB) to {}? Everything on it will be lost.",
        display(&image_path),
        image.len() >> 20,
        args.device.display()
    );
    if !args.yes && !confirm(&question)? {
        bail!("not confirmed; nothing was written (pass --yes to skip the question)");
    }
    let exclusive = matches!(facts.kind, Some(NodeKind::BlockDevice { .. }));
    let mut last = None;
    let written =
        writer::write_and_verify(&args.device, &image, exclusive, &mut |pass, done, total| {
            let percent = done * 100 / total.max(1);
            if last != Some((pass, percent)) {
                last = Some((pass, percent));
                let verb = match pass {
                    writer::Pass::Write => "writing",
                    writer::Pass::Verify => "verifying",
                };
                eprint!(
                    "\r{verb} {} / {} MiB ({percent}%)   ",
                    done >> 20,
                    total >> 20
                );
                if done == total {
                    eprintln!();
                }
            }
        })?;
    eprintln!(
        "wrote and verified {} bytes (sha256 {}) on {}",
        written.bytes,
        written.sha256,
        args.device.display()
    );
    eprintln!(
        "next: put the card in the Pi, connect the serial adapter and power it on (docs/rpi4.md)"
    );
    Ok(())
}
