//! Booting bench configurations on QEMU, under Bulkhead or bare, once each per `cargo xtask bench`,
//! with as many CPUs as the configuration's partitions name (one for most groups, two for the
//! doorbell round trip).

use anyhow::{bail, Context, Result};
use bulkhead_config::model::Config;
use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::bare;
use super::console::{self, BenchLog};
use super::linux_files;
use crate::image::{self, BuildArgs};
use crate::{check_config, qemu, shell};

/// The board every benchmark runs on.
pub const BOARD: &str = "qemu-virt";
/// How long one run may take (a bench guest's take well under a second of host time, a Linux
/// boot about a minute).
const TIMEOUT: Duration = Duration::from_secs(600);
/// The generic timer's frequency on the benchmark machine (`cntfrq`, set on QEMU's command
/// line): one tick is 1 ns of guest time, and under `-icount shift=0` one instruction.
pub const COUNTER_HZ: u64 = 1_000_000_000;
/// The GIC version of the benchmark machine.
const GIC: u8 = 3;
/// QEMU's `-seed`: everything QEMU randomizes for the guest comes from a generator with this
/// seed. Without it the `/chosen/rng-seed` QEMU puts in the host device tree changes every
/// boot, so Bulkhead's DRBG, and with it the SMCCC TRNG answers Linux seeds its random pool
/// from, would differ from run to run, and Linux's boot by a few thousand instructions.
const QEMU_SEED: &str = "1";

/// What runs the bench guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Machine {
    /// The bench configuration's image: Bulkhead at EL2 with the partition at EL1.
    Bulkhead,
    /// The partition's images alone, entered at EL1 (see [`bare`]).
    Bare,
}

/// The runs made so far, so groups that need the same run share it.
#[derive(Default)]
pub struct Runs {
    logs: BTreeMap<(Machine, String), BenchLog>,
}

impl Runs {
    /// The log of `config` (a configuration in `device-trees/qemu-virt/`) run on `machine`,
    /// running it first if no group has yet; fails unless a guest printed `HIL:BENCH done`.
    pub fn log(&mut self, machine: Machine, config: &str) -> Result<&BenchLog> {
        let log = self.any(machine, config)?;
        if !log.done {
            bail!("{config} on {machine:?}: the bench guest did not finish (no `HIL:BENCH done`)");
        }
        Ok(log)
    }

    /// The log of `config` run under Bulkhead until its partitions stopped, for guests that
    /// print no `HIL:BENCH done`; fails unless the hypervisor printed their trap counters.
    pub fn until_stopped(&mut self, config: &str) -> Result<&BenchLog> {
        let log = self.any(Machine::Bulkhead, config)?;
        if log.traps.is_empty() {
            bail!("{config}: no partition stopped (no `HIL:TRAPS` line)");
        }
        Ok(log)
    }

    fn any(&mut self, machine: Machine, config: &str) -> Result<&BenchLog> {
        let key = (machine, config.to_string());
        if !self.logs.contains_key(&key) {
            let log = run(machine, config).with_context(|| {
                format!("benchmark run of {config} on {machine:?} (QEMU virt, -icount)")
            })?;
            self.logs.insert(key.clone(), log);
        }
        Ok(&self.logs[&key])
    }
}

/// `cargo xtask build`'s arguments, parsed the way its command line would be.
#[derive(clap::Parser)]
struct BuildCommandLine {
    #[command(flatten)]
    build: BuildArgs,
}

/// The build arguments of bench configuration `config`, every other option at its default
/// (parsed rather than written out, so options added to `build` need no change here).
pub fn build_args(config: &str) -> BuildArgs {
    use clap::Parser;
    BuildCommandLine::parse_from(["build", "--config", config, "--board", BOARD]).build
}

/// How many CPUs the machine running `args`'s configuration needs: up to the highest CPU a
/// partition names (QEMU `virt` numbers its CPUs Aff0 0..7, then the next Aff1), so a
/// configuration of one partition on CPU 0 runs with `-smp 1` and nothing else competes.
pub fn cpu_count(args: &BuildArgs) -> Result<u32> {
    let dtb = check_config::compile_dts(&image::config_path(args))?;
    let config = Config::parse(&dtb).map_err(|e| anyhow::anyhow!("{e}"))?;
    let highest = config
        .partitions
        .iter()
        .flat_map(|p| p.cpus.iter())
        .map(|&mpidr| ((mpidr >> 8) & 0xff) * 8 + (mpidr & 0xff))
        .max()
        .unwrap_or(0);
    Ok(u32::try_from(highest + 1)?)
}

fn run(machine: Machine, config: &str) -> Result<BenchLog> {
    let mut args = build_args(config);
    linux_files::provide(&mut args)?;
    let cpus = cpu_count(&args)?;
    // The configuration is checked against the machine it runs on.
    args.smp = Some(cpus);
    let mut command = match machine {
        Machine::Bulkhead => qemu::virt_command(&image::build(&args)?, GIC, cpus, true),
        Machine::Bare => bare::command(&bare::image(&args)?, cpus),
    };
    command.args(["-seed", QEMU_SEED]);
    let text = run_with_timeout(&mut command)?;
    console::parse(&text).map_err(|error| {
        let tail: String = text.lines().rev().take(20).collect::<Vec<_>>().join("\n");
        anyhow::anyhow!("{error}; last console lines (newest first):\n{tail}")
    })
}

/// Runs `command` with no input and returns its standard output; kills it after [`TIMEOUT`].
fn run_with_timeout(command: &mut Command) -> Result<String> {
    shell::show(command);
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start {:?}", command.get_program()))?;
    let stdout = read_all(child.stdout.take().context("no stdout")?);
    let stderr = read_all(child.stderr.take().context("no stderr")?);
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            bail!("QEMU did not power off within {} s", TIMEOUT.as_secs());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = stdout.join().unwrap_or_default();
    if !status.success() {
        let stderr = stderr.join().unwrap_or_default();
        bail!("QEMU failed with {status}:\n{stdout}{stderr}");
    }
    Ok(stdout)
}

/// Reads `pipe` to its end on a thread of its own, so a full pipe never blocks QEMU.
fn read_all(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_gets_the_cpus_its_partitions_name() {
        assert_eq!(cpu_count(&build_args("bench-hvc")).unwrap(), 1);
        assert_eq!(cpu_count(&build_args("bench-doorbell")).unwrap(), 2);
    }
}
