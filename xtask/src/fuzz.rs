//! `cargo xtask fuzz`: the cargo-fuzz targets in `fuzz/` (libFuzzer, nightly Rust), run one or
//! all for a while; `cargo xtask test` runs each for a fixed number of iterations.
//!
//! Each target starts from its seeds in `fuzz/seeds/<target>/` (committed: small inputs and the
//! regression cases of every finding) and keeps what it learns in `target/fuzz/corpus/<target>/`;
//! a crash is written to `target/fuzz/artifacts/<target>/`. `docs/fuzzing.md` says how to turn
//! a finding into a regression case.
//!
//! A new target is a file in `fuzz/fuzz_targets/`, a `[[bin]]` in `fuzz/Cargo.toml`, seeds in
//! `fuzz/seeds/<target>/` and a line in [`TARGETS`].

use anyhow::{bail, Result};
use std::path::PathBuf;
use std::process::Command;

use crate::{paths, shell, tools};

/// Every fuzz target: its name (a `[[bin]]` of `fuzz/Cargo.toml`) and what it feeds.
pub const TARGETS: &[(&str, &str)] = &[
    (
        "trap_decode",
        "Exit::decode on random ESR/FAR/HPFAR snapshots",
    ),
    (
        "smccc_dispatch",
        "smccc::dispatch on random calls from a fake caller",
    ),
    (
        "vgic_distributor",
        "the vGIC distributor: random reads and writes",
    ),
    (
        "vgic_redistributor",
        "the vGICv3 redistributors: random reads and writes",
    ),
    (
        "vuart",
        "the virtual PL011: random reads, writes and console input",
    ),
    (
        "sbsa_watchdog",
        "the SBSA generic watchdog: random accesses between counter steps",
    ),
    (
        "mgmt_window",
        "the management window: random accesses and the calls they make",
    ),
    (
        "config_parse",
        "Config::parse and validate on random DTB bytes",
    ),
    (
        "bundle_read",
        "Bundle::parse on random bytes; written bundles read back",
    ),
    (
        "trap_decision",
        "the trap policy on random exits, registers and CPUs over the fake machine",
    ),
    (
        "console_mux",
        "the console multiplexer and keyboard: random output, time, wire room and typing",
    ),
    (
        "host_dt",
        "HostInfo::parse on random bytes (the boot loader's device tree)",
    ),
    (
        "ipc_ring_consumer",
        "the shared-memory ring's consumer over a hostile header and data",
    ),
    (
        "virtqueue",
        "the virtqueue walker and virtio-mmio transport over random guest memory and rings",
    ),
    (
        "vsock_packet",
        "the vsock switch: random packets from three partitions, routes and credit checked",
    ),
];

/// Iterations per target in `cargo xtask test`.
pub const TEST_RUNS: u32 = 20_000;

fn target_list() -> String {
    TARGETS
        .iter()
        .map(|(name, what)| format!("  {name:<20} {what}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Arguments of `cargo xtask fuzz`.
#[derive(clap::Args)]
#[command(after_help = format!("Targets:\n{}", target_list()))]
pub struct FuzzArgs {
    /// The target to run (all of them, one after the other, if omitted).
    pub target: Option<String>,
    /// How long to run each target, in seconds.
    #[arg(long, default_value_t = 60)]
    pub time: u64,
}

fn fuzz_dir() -> PathBuf {
    paths::root().join("fuzz")
}

fn work_dir(kind: &str, target: &str) -> Result<PathBuf> {
    let dir = paths::target().join("fuzz").join(kind).join(target);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// `cargo +nightly fuzz <verb> ...`, run in `fuzz/` with the build under `target/fuzz/`.
fn cargo_fuzz(verb: &str) -> Command {
    let mut command = Command::new("cargo");
    command
        .current_dir(fuzz_dir())
        // The toolchain `+nightly` picks, not the one that runs xtask.
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO")
        .args([
            "+nightly",
            "fuzz",
            verb,
            "--sanitizer",
            "none",
            "--target-dir",
        ])
        .arg(paths::target().join("fuzz/build"));
    command
}

/// Builds every target (debug assertions and overflow checks on, as cargo-fuzz does).
pub fn build() -> Result<()> {
    tools::ensure_cargo_fuzz()?;
    shell::run(&mut cargo_fuzz("build"))
}

/// Runs `target` for `runs` iterations from a fixed seed (repeatable, for `cargo xtask test`),
/// or for `seconds` from a fresh seed each time (to explore).
fn run_one(target: &str, runs: Option<u32>, seconds: Option<u64>) -> Result<bool> {
    let seeds = fuzz_dir().join("seeds").join(target);
    let artifacts = work_dir("artifacts", target)?;
    let mut command = cargo_fuzz("run");
    command
        .arg(target)
        .arg(work_dir("corpus", target)?)
        .arg(&seeds)
        .arg("--")
        .arg(format!("-artifact_prefix={}/", artifacts.display()));
    if let Some(runs) = runs {
        command.args(["-seed=1".to_string(), format!("-runs={runs}")]);
    }
    if let Some(seconds) = seconds {
        command.arg(format!("-max_total_time={seconds}"));
    }
    shell::show(&command);
    let ok = command.status().is_ok_and(|s| s.success());
    if !ok {
        eprintln!(
            "fuzz target {target} failed; the input is in {dir}, replay it with\n    cargo +nightly fuzz run --fuzz-dir fuzz --sanitizer none {target} {dir}/<crash file>",
            dir = artifacts.display()
        );
    }
    Ok(ok)
}

/// Runs every target for [`TEST_RUNS`] iterations; returns how many passed and, for each that
/// failed (or for the build), a line that says what to run.
pub fn test_runs() -> Result<(u64, Vec<String>)> {
    let started = std::time::Instant::now();
    if let Err(error) = build() {
        return Ok((
            0,
            vec![format!(
                "fuzz build failed ({error:#}): `cargo xtask fuzz --time 1` shows why"
            )],
        ));
    }
    let mut passed = 0;
    let mut failed = Vec::new();
    for (target, _) in TARGETS {
        if run_one(target, Some(TEST_RUNS), None)? {
            passed += 1;
        } else {
            failed.push(format!(
                "fuzz {target} failed: `cargo xtask fuzz {target}` reproduces it (see docs/fuzzing.md)"
            ));
        }
    }
    eprintln!(
        "fuzz: {} targets, {TEST_RUNS} runs each, in {:.0?} (build included)",
        TARGETS.len(),
        started.elapsed()
    );
    Ok((passed, failed))
}

/// `cargo xtask fuzz`.
pub fn run(args: &FuzzArgs) -> Result<()> {
    let targets: Vec<&str> = match &args.target {
        Some(name) if TARGETS.iter().any(|(t, _)| t == name) => vec![name.as_str()],
        Some(name) => bail!("no fuzz target {name}; the targets are:\n{}", target_list()),
        None => TARGETS.iter().map(|(t, _)| *t).collect(),
    };
    build()?;
    let mut failed = Vec::new();
    for target in targets {
        if !run_one(target, None, Some(args.time))? {
            failed.push(target);
        }
    }
    if !failed.is_empty() {
        bail!("fuzz targets failed: {}", failed.join(", "));
    }
    Ok(())
}
