//! Reading what a bench run printed: the guests' `HIL:BENCH` lines, the banner and the
//! hypervisor's trap counters (`HIL:TRAPS`).

use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;

use super::figure::Series;

/// The marker every bench guest line carries (after the `[partition] ` prefix under Bulkhead).
const MARKER: &str = "HIL:BENCH ";
/// The marker of the hypervisor's trap counters, one line per vCPU when a partition stops.
const TRAPS_MARKER: &str = "HIL:TRAPS ";

/// One timed sequence as the guest reported it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    /// The counts, net of the empty timing sequence (except for `timing-empty` itself).
    pub series: Series,
    /// What the operation produced (x0 of a call, the loaded word), if printed.
    pub value: Option<u64>,
}

/// One vCPU's trap counters as the hypervisor printed them when its partition stopped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Traps {
    /// The partition's name.
    pub partition: String,
    /// The physical CPU the vCPU ran on.
    pub cpu: u64,
    /// Counter ticks from the vCPU's start to its stop.
    pub ticks: u64,
    /// Traps by cause (`call`, `mmio`, ..., `irq-fast`), in the order printed.
    pub causes: Vec<(String, u64)>,
}

/// Everything one bench run printed that a figure may need.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BenchLog {
    /// Whether a guest printed `HIL:BENCH done`.
    pub done: bool,
    /// The counter the guest read with its first instruction.
    pub first_instruction: Option<u64>,
    /// The counter in the hypervisor banner (`HIL:BOOT ... counter=N`), if it prints one.
    pub banner_counter: Option<u64>,
    /// The timed sequences by name.
    pub samples: BTreeMap<String, Sample>,
    /// Single values a guest printed as `HIL:BENCH <name> <key>=<value>...` (lines that are
    /// not a series: `counter=<CNTVCT>`, `ns=...`), by name and key.
    pub values: BTreeMap<String, BTreeMap<String, u64>>,
    /// The trap counters of every vCPU that stopped, in the order printed.
    pub traps: Vec<Traps>,
    /// The Linux kernel's release, from the test initramfs' `HIL:LINUX userspace ... kernel=`.
    pub linux_release: Option<String>,
}

impl BenchLog {
    /// The sample called `name`.
    pub fn sample(&self, name: &str) -> Result<Sample> {
        self.samples
            .get(name)
            .copied()
            .with_context(|| format!("the bench guest printed no `{name}` line"))
    }

    /// The value a guest printed as `HIL:BENCH {name} {key}=...`.
    pub fn value(&self, name: &str, key: &str) -> Result<u64> {
        self.values
            .get(name)
            .and_then(|values| values.get(key))
            .copied()
            .with_context(|| format!("the guest printed no `HIL:BENCH {name} {key}=...` line"))
    }

    /// The counter a guest printed as `HIL:BENCH {name} counter=...`.
    pub fn counter(&self, name: &str) -> Result<u64> {
        self.value(name, "counter")
    }

    /// The trap counters of partition `partition`'s vCPU on CPU `cpu`.
    pub fn traps_of(&self, partition: &str, cpu: u64) -> Result<&Traps> {
        self.traps
            .iter()
            .find(|t| t.partition == partition && t.cpu == cpu)
            .with_context(|| {
                format!(
                    "the hypervisor printed no `HIL:TRAPS partition={partition} cpu={cpu}` line"
                )
            })
    }
}

fn key_values(words: &[&str]) -> BTreeMap<String, String> {
    words
        .iter()
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn number(text: &str) -> Option<u64> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// `190.12` as hundredths.
fn hundredths(text: &str) -> Option<u64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    let fraction = format!("{fraction:0<2}");
    Some(whole.parse::<u64>().ok()? * 100 + fraction.get(..2)?.parse::<u64>().ok()?)
}

fn series(fields: &BTreeMap<String, String>) -> Option<Series> {
    Some(Series {
        n: number(fields.get("n")?)?,
        min: number(fields.get("min")?)?,
        avg_hundredths: hundredths(fields.get("avg")?)?,
        max: number(fields.get("max")?)?,
    })
}

fn traps(words: &[&str]) -> Option<Traps> {
    let fields = key_values(words);
    let causes = words
        .iter()
        .filter_map(|w| w.split_once('='))
        .filter(|(k, _)| !matches!(*k, "partition" | "cpu" | "ticks"))
        .map(|(k, v)| Some((k.to_string(), number(v)?)))
        .collect::<Option<Vec<_>>>()?;
    Some(Traps {
        partition: fields.get("partition")?.clone(),
        cpu: number(fields.get("cpu")?)?,
        ticks: number(fields.get("ticks")?)?,
        causes,
    })
}

/// Parses a run's console; fails if a guest reported an error (whether the run finished is
/// [`BenchLog::done`]).
pub fn parse(text: &str) -> Result<BenchLog> {
    let mut log = BenchLog::default();
    for line in text.lines() {
        if let Some(rest) = line.split("HIL:LINUX userspace ").nth(1) {
            let words: Vec<&str> = rest.split_whitespace().collect();
            log.linux_release = key_values(&words).get("kernel").cloned();
        }
        if let Some(rest) = line.split(TRAPS_MARKER).nth(1) {
            let words: Vec<&str> = rest.split_whitespace().collect();
            let traps =
                traps(&words).with_context(|| format!("malformed trap line: {}", line.trim()))?;
            log.traps.push(traps);
            continue;
        }
        if let Some(banner) = line.split("HIL:BOOT ").nth(1) {
            let words: Vec<&str> = banner.split_whitespace().collect();
            log.banner_counter = key_values(&words).get("counter").and_then(|c| number(c));
        }
        let Some(rest) = line.split(MARKER).nth(1) else {
            continue;
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        let fields = key_values(&words);
        match words.first().copied() {
            Some("done") => log.done = true,
            Some("error") => bail!("the bench guest failed: {}", line.trim()),
            Some("boot") => {
                log.first_instruction = fields.get("first-instruction").and_then(|c| number(c));
            }
            Some(name) if !fields.is_empty() && !fields.contains_key("n") => {
                let values = fields
                    .iter()
                    .map(|(key, value)| Some((key.clone(), number(value)?)))
                    .collect::<Option<BTreeMap<_, _>>>()
                    .with_context(|| format!("malformed bench line: {}", line.trim()))?;
                log.values.insert(name.to_string(), values);
            }
            Some(name) => {
                let series = series(&fields)
                    .with_context(|| format!("malformed bench line: {}", line.trim()))?;
                let value = fields.get("value").and_then(|v| number(v));
                log.samples
                    .insert(name.to_string(), Sample { series, value });
            }
            None => {}
        }
    }
    Ok(log)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUN: &str = "\
HIL:BOOT Bulkhead 0.1.0 el=2 board=qemu-virt cpus=1 ram=2048MiB gic=v3 psci=smc counter=52011\r
HIL:PART bench UP cpu=0 vcpu=0 entry=0x40000000
[bench] HIL:BENCH boot first-instruction=198012
[bench] HIL:BENCH timing-empty n=1000 min=2 avg=2.00 max=2
[bench] HIL:BENCH hvc-psci-version n=1000 min=190 avg=190.5 max=191 value=0x10001
[bench] HIL:BENCH done
";

    #[test]
    fn bench_lines_and_banner_counter_are_read() {
        let log = parse(RUN).unwrap();
        assert_eq!(log.first_instruction, Some(198_012));
        assert_eq!(log.banner_counter, Some(52_011));
        let psci = log.sample("hvc-psci-version").unwrap();
        assert_eq!(
            psci.series,
            Series {
                n: 1000,
                min: 190,
                avg_hundredths: 19_050,
                max: 191
            }
        );
        assert_eq!(psci.value, Some(0x10001));
        assert_eq!(log.sample("timing-empty").unwrap().value, None);
        assert!(log.sample("missing").is_err());
    }

    #[test]
    fn counters_and_trap_lines_are_read() {
        let log = parse(
            "[linux] HIL:BENCH linux-userspace counter=0x00000000000f4240\r
[linux] HIL:LINUX userspace cpus=1 kernel=6.1.0-56-arm64 mode=bench-boot
[linux] HIL:BENCH linux-entry counter=0x0000000000001000
[linux] HIL:BENCH linux-idle-loop ns=0
HIL:TRAPS partition=linux cpu=0 ticks=2000 call=3 mmio=40 sysreg=0 irq=1 wfx=7 fault=0 call-fast=2 irq-fast=9
",
        )
        .unwrap();
        assert!(!log.done);
        assert_eq!(log.linux_release.as_deref(), Some("6.1.0-56-arm64"));
        assert_eq!(log.counter("linux-userspace").unwrap(), 1_000_000);
        assert_eq!(log.counter("linux-entry").unwrap(), 0x1000);
        assert!(log.counter("missing").is_err());
        assert_eq!(log.value("linux-idle-loop", "ns").unwrap(), 0);
        assert!(log.value("linux-idle-loop", "counter").is_err());
        let traps = log.traps_of("linux", 0).unwrap();
        assert_eq!(traps.ticks, 2000);
        assert_eq!(traps.causes.len(), 8);
        assert_eq!(traps.causes[1], ("mmio".to_string(), 40));
        assert_eq!(traps.causes[7], ("irq-fast".to_string(), 9));
        assert!(log.traps_of("linux", 1).is_err());
    }

    #[test]
    fn an_unfinished_run_is_marked_and_a_failed_one_is_an_error() {
        assert!(!parse("HIL:BENCH boot first-instruction=3\n").unwrap().done);
        assert!(parse(RUN).unwrap().done);
        let failed = "HIL:BENCH error exception esr=0x2000000\nHIL:BENCH done\n";
        assert!(parse(failed)
            .unwrap_err()
            .to_string()
            .contains("esr=0x2000000"));
    }
}
