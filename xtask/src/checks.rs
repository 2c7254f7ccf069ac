//! The checks `cargo xtask test` runs before the tests: formatting (the workspace and `fuzz/`),
//! clippy on the host and for the bare-metal target, and `check-boot` (no exclusive or atomic
//! before the MMU is on, which QEMU cannot show), each one pass/fail item that names the
//! command fixing it.

use anyhow::Result;
use std::process::Command;

use crate::{artifacts, paths, shell, tools};

/// One check: a command that must succeed, and what to do when it does not.
struct Check {
    name: &'static str,
    command: Command,
    fix: String,
}

fn cargo(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO"));
    command.current_dir(paths::root()).args(args);
    command
}

/// The command line `command` shows, for the fix hints.
fn command_line(command: &Command) -> String {
    let args: Vec<String> = command
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    format!("cargo {}", args.join(" "))
}

/// Every check, in the order they run.
fn checks() -> Vec<Check> {
    let host_clippy = cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    // The bare-metal crates as `artifacts` builds them: release, for the board target.
    let mut target_clippy = cargo(&["clippy", "--release", "--target", paths::BARE_TARGET]);
    target_clippy.args(["--package", "hypervisor"]);
    for (_, package) in artifacts::BUILT_GUESTS {
        target_clippy.args(["--package", package]);
    }
    target_clippy.args(["--", "-D", "warnings"]);
    vec![
        Check {
            name: "cargo fmt",
            command: cargo(&["fmt", "--all", "--", "--check"]),
            fix: "run `cargo fmt --all` to fix it".into(),
        },
        Check {
            name: "cargo fmt (fuzz/)",
            command: cargo(&["fmt", "--manifest-path", "fuzz/Cargo.toml", "--", "--check"]),
            fix: "run `cargo fmt --manifest-path fuzz/Cargo.toml` to fix it".into(),
        },
        Check {
            name: "clippy (host)",
            fix: format!(
                "run `{}` and fix what it reports",
                command_line(&host_clippy)
            ),
            command: host_clippy,
        },
        Check {
            name: "clippy (aarch64-unknown-none-softfloat)",
            fix: format!(
                "run `{}` and fix what it reports",
                command_line(&target_clippy)
            ),
            command: target_clippy,
        },
        Check {
            name: "check-boot (no exclusive or atomic before the EL2 MMU is on)",
            command: cargo(&["xtask", "check-boot"]),
            fix:
                "run `cargo xtask check-boot`: it names each instruction and the calls reaching it"
                    .into(),
        },
    ]
}

/// Runs every check; returns how many passed and, for each that failed, a line that says what
/// to run.
pub fn run() -> Result<(u64, Vec<String>)> {
    tools::ensure_rust_target()?;
    let mut passed = 0;
    let mut failures = Vec::new();
    for mut check in checks() {
        shell::show(&check.command);
        if check.command.status().is_ok_and(|s| s.success()) {
            passed += 1;
            eprintln!("check {}: ok", check.name);
        } else {
            let line = format!("check {} failed: {}", check.name, check.fix);
            eprintln!("{line}");
            failures.push(line);
        }
    }
    Ok((passed, failures))
}
