//! `cargo xtask test`: the checks (fmt, clippy), the host unit tests, then the QEMU scenarios in
//! `hil-tests/`; one summary line, in which each check counts as one item.

use anyhow::{Context, Result};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::{checks, fuzz, paths, shell, tools};

/// Arguments of `cargo xtask test`.
#[derive(clap::Args)]
pub struct TestArgs {
    /// Run only the scenarios whose name contains this (pytest -k); skips the unit tests.
    #[arg(long)]
    pub scenario: Option<String>,
    /// List the scenarios and exit.
    #[arg(long)]
    pub list: bool,
    /// Run only what needs no QEMU: the checks, the unit tests and the fuzz targets.
    #[arg(long, conflicts_with = "scenario")]
    pub host_only: bool,
    /// The target the scenarios run against (a name in hil-tests/targets/ or a file); those
    /// that name another QEMU target (`on=`) run there. `cargo xtask hil` runs each on one target.
    #[arg(long, default_value = "qemu-virt")]
    pub board: String,
}

/// Tests passed, failed and skipped, added up over the runners.
#[derive(Default, Debug)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
    pub skipped: u64,
}

/// Runs `command`, echoing its output, and adds up cargo's and pytest's result lines.
pub fn run_counting(command: &mut Command, counts: &mut Counts) -> Result<bool> {
    shell::show(command);
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {:?}", command.get_program()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        println!("{line}");
        if let Some(rest) = line.trim().strip_prefix("test result: ") {
            // "ok. 12 passed; 0 failed; 1 ignored; ..."
            for part in rest.split(';') {
                let words: Vec<&str> = part.split_whitespace().collect();
                let number = |i: usize| {
                    words
                        .get(i)
                        .and_then(|w| w.parse::<u64>().ok())
                        .unwrap_or(0)
                };
                match words.as_slice() {
                    [.., _, "passed"] => counts.passed += number(words.len() - 2),
                    [_, "failed"] => counts.failed += number(0),
                    [_, "ignored"] => counts.skipped += number(0),
                    _ => {}
                }
            }
        }
    }
    Ok(child.wait()?.success())
}

/// Set to skip labgrid (and scenario `hil_labgrid`) on a machine that only runs QEMU.
const NO_LABGRID: &str = "BULKHEAD_HIL_NO_LABGRID";

/// The scenario tests' venv (`target/hil-venv`), made from PyPI: `hil-tests/requirements.txt`,
/// and `requirements-labgrid.txt` unless `BULKHEAD_HIL_NO_LABGRID` is set.
pub fn pytest_venv() -> Result<PathBuf> {
    let venv = paths::target().join("hil-venv");
    let python = venv.join("bin/python");
    let hil = paths::root().join("hil-tests");
    let mut files = vec![hil.join("requirements.txt")];
    if std::env::var_os(NO_LABGRID).is_none() {
        files.push(hil.join("requirements-labgrid.txt"));
    }
    let stamp = venv.join(".requirements");
    let mut wanted = String::new();
    for file in &files {
        wanted += &std::fs::read_to_string(file)
            .with_context(|| format!("reading {}", file.display()))?;
    }
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        shell::run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        let mut pip = Command::new(&python);
        pip.args(["-m", "pip", "install", "--quiet"]);
        for file in &files {
            pip.arg("-r").arg(file);
        }
        shell::run(&mut pip)?;
        std::fs::write(&stamp, wanted)?;
    }
    Ok(python)
}

/// Adds a pytest JUnit file's totals to `counts`.
pub fn junit_counts(path: &std::path::Path, counts: &mut Counts) -> Result<()> {
    let xml = std::fs::read_to_string(path)?;
    let attr = |name: &str| -> u64 {
        let key = format!(" {name}=\"");
        xml.find(&key)
            .and_then(|at| xml[at + key.len()..].split('"').next()?.parse().ok())
            .unwrap_or(0)
    };
    let (tests, failures, errors, skipped) = (
        attr("tests"),
        attr("failures"),
        attr("errors"),
        attr("skipped"),
    );
    counts.failed += failures + errors;
    counts.skipped += skipped;
    counts.passed += tests.saturating_sub(failures + errors + skipped);
    Ok(())
}

/// Runs the QEMU scenarios (those `args` selects) and adds up their results.
fn scenarios(args: &TestArgs, python: &std::path::Path, counts: &mut Counts) -> Result<bool> {
    let junit = paths::target().join("hil-results.xml");
    let _ = std::fs::remove_file(&junit);
    let mut pytest = Command::new(python);
    pytest
        .current_dir(paths::root().join("hil-tests"))
        .args(["-m", "pytest", "-v", "-rfE"])
        .arg(format!("--board={}", args.board))
        .arg(format!("--junitxml={}", junit.display()));
    if let Some(filter) = &args.scenario {
        pytest.args(["-k", filter]);
    }
    let ok = run_counting(&mut pytest, &mut Counts::default())?;
    if junit.exists() {
        junit_counts(&junit, counts)?;
        Ok(ok)
    } else {
        counts.failed += 1;
        Ok(false)
    }
}

/// `cargo xtask test`.
pub fn run(args: &TestArgs) -> Result<()> {
    tools::ensure_dtc()?;
    tools::ensure_qemu()?;
    tools::ensure_sd_tools()?;
    tools::ensure_python_venv()?;
    let python = pytest_venv()?;
    let hil = paths::root().join("hil-tests");
    if args.list {
        return shell::run(Command::new(&python).current_dir(&hil).args([
            "-m",
            "pytest",
            "--collect-only",
            "-q",
        ]));
    }
    let mut counts = Counts::default();
    let mut ok = true;
    // One line per failed check or fuzz target, saying what to run; repeated above the summary.
    let mut hints = Vec::new();
    if args.scenario.is_none() {
        let (passed, failures) = checks::run()?;
        counts.passed += passed;
        counts.failed += failures.len() as u64;
        hints.extend(failures);
        let mut unit = Command::new(env!("CARGO"));
        unit.current_dir(paths::root())
            .args(["test", "--workspace"]);
        ok &= run_counting(&mut unit, &mut counts)?;
        let (passed, failures) = fuzz::test_runs()?;
        counts.passed += passed;
        counts.failed += failures.len() as u64;
        hints.extend(failures);
    }
    if !args.host_only {
        ok &= scenarios(args, &python, &mut counts)?;
    }
    println!();
    for hint in &hints {
        println!("{hint}");
    }
    if counts.skipped > 0 {
        println!(
            "summary: {} passed, {} failed, {} skipped",
            counts.passed, counts.failed, counts.skipped
        );
    } else {
        println!(
            "summary: {} passed, {} failed",
            counts.passed, counts.failed
        );
    }
    anyhow::ensure!(ok && counts.failed == 0, "some tests failed");
    Ok(())
}
