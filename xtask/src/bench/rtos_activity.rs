//! Group 10: the RTOS's timer-interrupt-to-task latency while other partitions keep the
//! hypervisor busy (issue 16, point 4): a console flood, a doorbell storm, a partition restarted
//! up to its max-restarts while a privileged one polls the partition list, and the attacker's
//! trap storm. Each activity is one configuration (`device-trees/qemu-virt/bench-rtos-*.dts`):
//! the RTOS of group 9 on CPU 0 (100 activations) and the activity on CPUs 1 and 2.
//!
//! What is measured, and why not the RTOS's own counter reading alone: with several busy CPUs
//! QEMU runs them round-robin on one host thread under `-icount`, so the counter the RTOS reads
//! (one tick per instruction of *any* CPU) also counts the other CPUs' instructions QEMU ran
//! between its deadline and its job (docs/benchmarks.md, "Method"). The figure that belongs to
//! the RTOS's CPU is its own path plus whatever the hypervisor runs on that CPU. So for each
//! activity the group compares the hypervisor's trap counters of the RTOS's vCPU (`HIL:TRAPS`,
//! every entry to EL2 on its CPU, by cause) with the idle run's: when they are the same, cause
//! for cause, the hypervisor ran on the RTOS's CPU exactly what it runs idle (each timer
//! interrupt through the assembly fast path, which takes no lock, so there is no lock to wait
//! for), and the RTOS's path in instructions on its CPU is the idle one. The raw series is shown
//! beside it, with its minimum (activations no other CPU interleaved with) checked against the
//! idle minimum.

use anyhow::{bail, Result};

use super::console::{BenchLog, Traps};
use super::figure::{thousands, Figure, Unit, Value};
use super::group::Group;
use super::run::{Machine, Runs};

/// The reference: the same RTOS run with nothing else.
const IDLE: &str = "bench-rtos-idle";
/// The activities: (figure id part, configuration, what the other partitions do).
const ACTIVITIES: &[(&str, &str, &str)] = &[
    (
        "console",
        "bench-rtos-console",
        "a partition floods its console for 150 ms",
    ),
    (
        "doorbell",
        "bench-rtos-doorbell",
        "two partitions ring each other's doorbells 80,000 times",
    ),
    (
        "restart",
        "bench-rtos-restart",
        "a partition faults and is restarted 32 times (max-restarts) while a privileged one \
         lists the partitions every millisecond",
    ),
    (
        "attacker",
        "bench-rtos-attacker",
        "the attacker suite and 20,000 random hypercalls",
    ),
];
/// The RTOS partition's name and CPU in every configuration of the group.
const RTOS: (&str, u64) = ("rtos", 0);
/// The causes left out of the comparison: the RTOS's console output (virtual PL011 traps), which
/// it makes only before and after its activations (its console waits while it measures) and
/// whose length follows the numbers it prints.
const CONSOLE_CAUSES: &[&str] = &["mmio", "mmio-fast"];
/// The RTOS's figure.
const TO_TASK: &str = "rtos-timer-to-task";

/// The RTOS's latency under hypervisor activity.
pub struct RtosActivity;

/// Traps of `activity` beyond those of `idle`, cause by cause (and those it took fewer of, as
/// negative numbers would be: both are differences).
fn differences(activity: &Traps, idle: &Traps) -> Vec<(String, i128)> {
    let count = |t: &Traps, cause: &str| {
        t.causes
            .iter()
            .find(|(c, _)| c == cause)
            .map_or(0, |(_, n)| i128::from(*n))
    };
    let mut causes: Vec<&str> = activity.causes.iter().map(|(c, _)| c.as_str()).collect();
    for (cause, _) in &idle.causes {
        if !causes.contains(&cause.as_str()) {
            causes.push(cause);
        }
    }
    causes
        .into_iter()
        .filter(|c| !CONSOLE_CAUSES.contains(c))
        .map(|c| (c.to_string(), count(activity, c) - count(idle, c)))
        .filter(|(_, d)| *d != 0)
        .collect()
}

fn causes_text(causes: &[(String, u64)]) -> String {
    causes
        .iter()
        .map(|(c, n)| format!("{c} {}", thousands(*n)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The figures of one activity.
fn activity_figures(
    (id, config, what): (&str, &str, &str),
    log: &BenchLog,
    idle_log: &BenchLog,
) -> Result<Vec<Figure>> {
    let idle = idle_log.sample(TO_TASK)?.series;
    let raw = log.sample(TO_TASK)?.series;
    let traps = log.traps_of(RTOS.0, RTOS.1)?;
    let idle_traps = idle_log.traps_of(RTOS.0, RTOS.1)?;
    let beyond = differences(traps, idle_traps);
    let extra: i128 = beyond.iter().map(|(_, d)| d.abs()).sum();
    let same_path = beyond.is_empty();
    let per_cpu = if same_path {
        Value::Series(idle)
    } else {
        Value::Missing(format!(
            "not the idle path: the hypervisor entered EL2 on the RTOS's CPU more than idle \
             ({}; attributed in docs/benchmarks.md, group 10)",
            beyond
                .iter()
                .map(|(c, d)| format!("{c} {d:+}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    };
    if raw.min != idle.min && same_path {
        bail!(
            "{config}: the RTOS's fastest activation took {} instructions, idle {}, with the same \
             hypervisor entries on its CPU",
            raw.min,
            idle.min
        );
    }
    let others: Vec<String> = log
        .traps
        .iter()
        .filter(|t| (t.partition.as_str(), t.cpu) != RTOS)
        .map(|t| {
            format!(
                "{} (CPU {}): {}",
                t.partition,
                t.cpu,
                causes_text(&t.causes)
            )
        })
        .collect();
    Ok(vec![
        Figure::new(
            &format!("rtos-{id}-timer-to-task"),
            &format!("{what}: timer deadline → the RTOS's job, instructions on its CPU"),
            Unit::Instructions,
            per_cpu,
        )
        .baseline(Value::Series(idle))
        .note(format!(
            "`{config}`. On the RTOS's CPU the hypervisor took {} (idle: {}): {}. So the path \
             from the deadline to the job on that CPU is {}. What the other partitions made the hypervisor do on their \
             CPUs: {}.",
            causes_text(&traps.causes),
            causes_text(&idle_traps.causes),
            if same_path {
                "the same entries, cause for cause: every timer interrupt through the assembly \
                 fast path, which takes no lock"
                    .to_string()
            } else {
                format!("{extra} entries differ")
            },
            if same_path {
                "the idle run's (the baseline column): 1.00 of the idle max"
            } else {
                "the idle run's plus those entries"
            },
            others.join("; ")
        )),
        Figure::new(
            &format!("rtos-{id}-cpu-entries-beyond-idle"),
            &format!("{what}: hypervisor entries on the RTOS's CPU that idle does not make"),
            Unit::Traps,
            Value::Count(u64::try_from(extra).unwrap_or(u64::MAX)),
        ),
        Figure::new(
            &format!("rtos-{id}-timer-to-task-ticks"),
            &format!("{what}: the same, as the RTOS's counter reads it"),
            Unit::Ticks,
            Value::Series(raw),
        )
        .note(format!(
            "Counter ticks from the deadline to the job's first instruction: under `-icount` \
             every CPU's instructions that QEMU's round robin ran in between, so the other \
             partitions' own work shows up here whenever their CPU held the host thread past \
             the RTOS's deadline; emulator scheduling, not the RTOS's CPU (no budget). The \
             minimum, activations with no other CPU in between, is the idle run's minimum ({}).",
            thousands(idle.min)
        )),
    ])
}

impl Group for RtosActivity {
    fn title(&self) -> &'static str {
        "10. RTOS timer interrupt to task under hypervisor activity (100 activations)"
    }

    fn measure(&self, runs: &mut Runs) -> Result<Vec<Figure>> {
        let idle_log = runs.log(Machine::Bulkhead, IDLE)?.clone();
        let idle = idle_log.sample(TO_TASK)?.series;
        let mut figures = vec![Figure::new(
            "rtos-idle-timer-to-task",
            "nothing else running: timer deadline → the RTOS's job",
            Unit::Instructions,
            Value::Series(idle),
        )
        .note(format!(
            "`{IDLE}`: the reference, the benchmark of group 9 with 100 activations, on a \
             machine with only the RTOS's CPU; the hypervisor's entries on that CPU: {}.",
            causes_text(&idle_log.traps_of(RTOS.0, RTOS.1)?.causes)
        ))];
        for &activity in ACTIVITIES {
            let log = runs.log(Machine::Bulkhead, activity.1)?.clone();
            figures.extend(activity_figures(activity, &log, &idle_log)?);
        }
        Ok(figures)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn traps(causes: &[(&str, u64)]) -> Traps {
        Traps {
            partition: "rtos".into(),
            cpu: 0,
            ticks: 1,
            causes: causes.iter().map(|(c, n)| (c.to_string(), *n)).collect(),
        }
    }

    #[test]
    fn differences_name_every_cause_that_moved_either_way() {
        let idle = traps(&[("call", 5), ("mmio", 300), ("irq-fast", 1002)]);
        assert!(differences(&idle, &idle).is_empty());
        let busy = traps(&[("call", 5), ("mmio", 301), ("irq", 3), ("irq-fast", 1001)]);
        assert_eq!(
            differences(&busy, &idle),
            vec![("irq".to_string(), 3), ("irq-fast".to_string(), -1)]
        );
        let quiet = traps(&[("call", 5)]);
        assert_eq!(
            differences(&quiet, &idle),
            vec![("irq-fast".to_string(), -1002)],
            "the console's traps are left out"
        );
    }
}
