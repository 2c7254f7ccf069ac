//! `cargo xtask hil`: the scenario suite on one target (a QEMU machine, a bench board or a
//! labgrid place; `hil-tests/targets/`, docs/hil.md), each scenario on the target itself:
//! those written for another board are skipped. Writes the JUnit XML (testsuite properties
//! `git_commit` and `target`), keeps every scenario's console log and ends with one summary
//! line.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::Command;

use crate::test::{junit_counts, pytest_venv, run_counting, Counts};
use crate::{paths, shell, tools};

/// Arguments of `cargo xtask hil`.
#[derive(clap::Args)]
pub struct HilArgs {
    /// The target: a name in hil-tests/targets/ (qemu-virt, qemu-virt-gicv2, qemu-raspi4b, ...)
    /// or the path of a target file (a bench or labgrid board: docs/hil.md).
    #[arg(long)]
    pub target: String,
    /// Run only the scenarios whose name contains this (pytest -k).
    #[arg(long)]
    pub scenario: Option<String>,
    /// Where to write the JUnit XML (default: target/hil-results-<target>.xml).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// The target file `name` stands for and the target's name (the file's stem).
fn target_file(name: &str) -> Result<(PathBuf, String)> {
    let as_path = PathBuf::from(name);
    let targets = paths::root().join("hil-tests/targets");
    let file = if name.ends_with(".toml") || name.contains('/') {
        as_path
            .canonicalize()
            .with_context(|| format!("target file {name}"))?
    } else {
        targets.join(format!("{name}.toml"))
    };
    if !file.exists() {
        let mut known: Vec<String> = std::fs::read_dir(&targets)?
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|n| n.strip_suffix(".toml").map(str::to_string))
            .collect();
        known.sort();
        bail!(
            "no target {name:?}: expected {} (known: {}; or give a target file's path)",
            file.display(),
            known.join(", ")
        );
    }
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok((file, stem))
}

fn git_commit() -> String {
    shell::output(
        Command::new("git")
            .current_dir(paths::root())
            .args(["rev-parse", "HEAD"]),
    )
    .map(|s| s.trim().to_string())
    .unwrap_or_else(|_| "unknown".into())
}

/// `cargo xtask hil`.
pub fn run(args: &HilArgs) -> Result<()> {
    let (file, name) = target_file(&args.target)?;
    tools::ensure_dtc()?;
    tools::ensure_qemu()?;
    tools::ensure_python_venv()?;
    let python = pytest_venv()?;
    let junit = args
        .junit
        .clone()
        .unwrap_or_else(|| paths::target().join(format!("hil-results-{name}.xml")));
    let _ = std::fs::remove_file(&junit);
    let mut pytest = Command::new(&python);
    pytest
        .current_dir(paths::root().join("hil-tests"))
        .args(["-m", "pytest", "-v", "-rfE", "--target-only"])
        // `--board=FILE` in one word: pytest takes a lone path argument for a test path when it
        // looks for conftest.py files, before it knows our options.
        .arg(format!("--board={}", file.display()))
        .arg(format!("--junitxml={}", junit.display()));
    if let Some(filter) = &args.scenario {
        pytest.args(["-k", filter]);
    }
    let ok = run_counting(&mut pytest, &mut Counts::default())?;
    let mut counts = Counts::default();
    if junit.exists() {
        junit_counts(&junit, &mut counts)?;
    } else {
        counts.failed += 1;
    }
    let logs = paths::target().join("hil-logs").join(&name);
    let summary = format!(
        "{} passed, {} failed, {} skipped",
        counts.passed, counts.failed, counts.skipped
    );
    std::fs::create_dir_all(&logs)?;
    std::fs::write(
        logs.join("summary.txt"),
        format!("target={name} commit={} {summary}\n", git_commit()),
    )?;
    println!();
    println!("JUnit: {}", junit.display());
    println!("console logs: {}", logs.display());
    println!("hil: {summary}");
    if counts.passed + counts.failed == 0 {
        bail!("no scenario ran on {name} (--scenario matched none, or all are for another board)");
    }
    anyhow::ensure!(ok && counts.failed == 0, "some scenarios failed on {name}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::target_file;

    #[test]
    fn a_target_name_is_a_file_in_hil_tests_targets() {
        let (file, name) = target_file("qemu-virt-gicv2").unwrap();
        assert!(file.ends_with("hil-tests/targets/qemu-virt-gicv2.toml"));
        assert_eq!(name, "qemu-virt-gicv2");
    }

    #[test]
    fn an_unknown_target_lists_the_known_ones() {
        let error = target_file("no-such-board").unwrap_err().to_string();
        assert!(error.contains("qemu-raspi4b"), "{error}");
        assert!(target_file("/nonexistent/bench.toml").is_err());
    }
}
