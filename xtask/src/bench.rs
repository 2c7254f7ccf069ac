//! `cargo xtask bench`: Bulkhead's benchmark suite on QEMU `virt`, counted in guest instructions.
//!
//! Every run uses `-icount shift=0,sleep=off` with a 1 GHz counter and as many CPUs as its
//! configuration's partitions name (`-smp 1`, two for the doorbell round trip), so one counter
//! tick is one guest instruction and every figure is exact and repeatable. A dedicated bench guest
//! (`guest-shim/bench-guest`) and Debian's Linux run under Bulkhead and, for the baseline,
//! bare on the same machine. The table is printed and written into `docs/benchmarks.md`;
//! `--check` compares the instruction figures with `xtask/bench-budgets.toml`.

mod bare;
mod boot;
mod budget;
mod console;
mod doorbell;
mod figure;
mod footprint;
mod group;
mod hypercall;
mod ipc_ring;
mod lines;
mod linux_boot;
mod linux_files;
mod mmio;
mod report;
mod rtos_activity;
mod rtos_latency;
mod run;
mod timer;
mod traps;

use anyhow::{bail, Context, Result};
use std::path::PathBuf;

use crate::{paths, tools};
use budget::Budgets;
use group::Group;
use report::GroupReport;

/// Every group, in table order. Adding a group: one file implementing [`Group`], one line here.
const GROUPS: &[&dyn Group] = &[
    &timer::Timer,
    &hypercall::Hypercall,
    &mmio::Mmio,
    &doorbell::Doorbell,
    &boot::Boot,
    &linux_boot::LinuxBoot,
    &traps::TrapRate,
    &footprint::Footprint,
    &rtos_latency::RtosLatency,
    &rtos_activity::RtosActivity,
    &ipc_ring::IpcRing,
];

/// Arguments of `cargo xtask bench`.
#[derive(clap::Args)]
pub struct BenchArgs {
    /// Fail (exit status 1) if an instruction figure exceeds its budget or has none.
    #[arg(long)]
    pub check: bool,
    /// The budgets file.
    #[arg(long, default_value = "xtask/bench-budgets.toml")]
    pub budgets: PathBuf,
    /// Only the groups whose title contains this (case-insensitive; repeat for more groups);
    /// implies --no-docs.
    #[arg(long)]
    pub group: Vec<String>,
    /// Do not rewrite docs/benchmarks.md.
    #[arg(long)]
    pub no_docs: bool,
}

/// `cargo xtask bench`.
pub fn run(args: &BenchArgs) -> Result<()> {
    tools::ensure_qemu()?;
    let budgets_path = if args.budgets.is_absolute() {
        args.budgets.clone()
    } else {
        std::env::current_dir()?.join(&args.budgets)
    };
    let budgets_path = if budgets_path.exists() {
        budgets_path
    } else {
        paths::root().join(&args.budgets)
    };
    let budgets_text = std::fs::read_to_string(&budgets_path)
        .with_context(|| format!("reading the budgets file {}", budgets_path.display()))?;
    let budgets = Budgets::parse(&budgets_text, &budgets_path.display().to_string())?;

    let selected: Vec<&dyn Group> = GROUPS
        .iter()
        .copied()
        .filter(|g| {
            let title = g.title().to_lowercase();
            args.group.is_empty()
                || args
                    .group
                    .iter()
                    .any(|name| title.contains(&name.to_lowercase()))
        })
        .collect();
    if selected.is_empty() {
        bail!("no benchmark group matches {:?}", args.group);
    }
    let mut runs = run::Runs::default();
    let mut reports = Vec::new();
    for group in &selected {
        eprintln!("bench: {}", group.title());
        let figures = group
            .measure(&mut runs)
            .with_context(|| format!("benchmark group \"{}\"", group.title()))?;
        reports.push(GroupReport {
            title: group.title(),
            figures,
        });
    }
    let table = report::render(&reports, &budgets);
    println!("{table}");
    if !args.no_docs && args.group.is_empty() {
        let docs = paths::root().join("docs/benchmarks.md");
        report::write_docs(&docs, &table)?;
        eprintln!("wrote the table into docs/benchmarks.md");
    }
    if args.check {
        let figures: Vec<_> = reports.iter().flat_map(|r| r.figures.clone()).collect();
        let problems = budget::check(&figures, &budgets);
        if !problems.is_empty() {
            let lines: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
            bail!(
                "{} figure(s) fail their budget in {}:\n{}",
                problems.len(),
                budgets_path.display(),
                lines.join("\n")
            );
        }
        eprintln!(
            "bench --check: every instruction figure is within its budget in {}",
            budgets_path.display()
        );
    }
    Ok(())
}
