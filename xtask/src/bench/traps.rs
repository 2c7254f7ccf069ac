//! Group 7: traps per second of guest time, by cause, from the hypervisor's `HIL:TRAPS` lines
//! (printed for each vCPU when its partition stops: counter ticks since the vCPU started and
//! the traps it took, by cause).

use anyhow::{bail, Result};

use super::console::Traps;
use super::figure::{thousands, Figure, Unit, Value};
use super::group::Group;
use super::linux_boot;
use super::run::{Runs, COUNTER_HZ};

/// Linux idling: `device-trees/qemu-virt/bench-linux-idle.dts` (bench-linux-boot plus 10 s).
const LINUX_IDLE: &str = "bench-linux-idle";
/// A bare-metal partition printing its heartbeat: `device-trees/qemu-virt/bench-heartbeat.dts`.
const HEARTBEAT: &str = "bench-heartbeat";

/// Traps per second while Linux idles and while a bare-metal partition runs its heartbeat.
pub struct TrapRate;

/// Traps by cause over a window of `ticks` counter ticks.
struct Window {
    ticks: u64,
    causes: Vec<(String, u64)>,
}

impl Window {
    fn of(traps: &Traps) -> Window {
        Window {
            ticks: traps.ticks,
            causes: traps.causes.clone(),
        }
    }

    /// What `later` counted beyond `earlier` (the same partition, run longer).
    fn difference(later: &Traps, earlier: &Traps) -> Result<Window> {
        let mut causes = Vec::new();
        for (cause, count) in &later.causes {
            let before = earlier
                .causes
                .iter()
                .find(|(c, _)| c == cause)
                .map_or(0, |(_, n)| *n);
            let Some(more) = count.checked_sub(before) else {
                bail!(
                    "{cause}: the longer run counted fewer traps ({count}) than the shorter \
                     ({before})"
                );
            };
            causes.push((cause.clone(), more));
        }
        let Some(ticks) = later.ticks.checked_sub(earlier.ticks) else {
            bail!(
                "the longer run is shorter ({} < {} ticks)",
                later.ticks,
                earlier.ticks
            );
        };
        Ok(Window { ticks, causes })
    }

    /// One row per cause that trapped and one for all of them, ids `traps-<scenario>-<cause>`.
    fn figures(&self, scenario: &str, label: &str, note: String) -> Vec<Figure> {
        let rate = |count: u64| Value::quotient(count * COUNTER_HZ, self.ticks, 2);
        let mut rows: Vec<Figure> = self
            .causes
            .iter()
            .filter(|(_, count)| *count > 0)
            .map(|(cause, count)| {
                Figure::new(
                    &format!("traps-{scenario}-{cause}"),
                    &format!("{label}: {cause}"),
                    Unit::TrapsPerSecond,
                    rate(*count),
                )
            })
            .collect();
        let total: u64 = self.causes.iter().map(|(_, n)| n).sum();
        let none: Vec<&str> = self
            .causes
            .iter()
            .filter(|(_, count)| *count == 0)
            .map(|(cause, _)| cause.as_str())
            .collect();
        let seconds = Value::quotient(self.ticks, COUNTER_HZ, 3);
        rows.push(
            Figure::new(
                &format!("traps-{scenario}-total"),
                &format!("{label}: all causes"),
                Unit::TrapsPerSecond,
                rate(total),
            )
            .note(format!(
                "{} traps in {seconds} s of guest time ({} ticks); none of: {}. {note}",
                thousands(total),
                thousands(self.ticks),
                none.join(", "),
            )),
        );
        rows
    }
}

impl Group for TrapRate {
    fn title(&self) -> &'static str {
        "7. Traps per second of guest time"
    }

    fn measure(&self, runs: &mut Runs) -> Result<Vec<Figure>> {
        let boot = runs
            .until_stopped(linux_boot::CONFIG)?
            .traps_of("linux", 0)?
            .clone();
        let idle = runs
            .until_stopped(LINUX_IDLE)?
            .traps_of("linux", 0)?
            .clone();
        let heartbeat = runs
            .until_stopped(HEARTBEAT)?
            .traps_of("heartbeat", 0)?
            .clone();
        let mut figures = Window::difference(&idle, &boot)?.figures(
            "linux-idle",
            "Linux idle",
            "The run of bench-linux-idle minus that of bench-linux-boot: the same boot, then \
             `sleep 10` (one vCPU on CPU 0). `call`, `mmio`, `sysreg`, `irq`, `wfx`: the \
             general trap path; `call-fast`, `irq-fast`: the assembly fast paths (constant \
             hypercalls, virtual timer injection)."
                .to_string(),
        );
        figures.extend(Window::of(&heartbeat).figures(
            "heartbeat",
            "bare-metal heartbeat",
            "The whole run of the test guest printing 10 heartbeats 100 ms apart (it busy-waits \
             on the counter, so its traps are its console writes). It stands in for the RTOS \
             partition (the RTOS's own counts are in its scenario: on its CPU, only its timer, all through the fast path)."
                .to_string(),
        ));
        Ok(figures)
    }
}
