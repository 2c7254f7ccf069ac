//! Group 6: Linux from the partition's first instruction to userspace, under Bulkhead and bare.
//!
//! The counters come from the guest itself (see [`super::linux_files`]): the entry stub's
//! first instruction reads one, userspace's first instruction the other.

use anyhow::{bail, Result};

use super::console::BenchLog;
use super::figure::{thousands, Figure, Unit, Value};
use super::group::Group;
use super::linux_files::PLACEHOLDER;
use super::run::{Machine, Runs};

/// The bench configuration (`device-trees/qemu-virt/bench-linux-boot.dts`).
pub const CONFIG: &str = "bench-linux-boot";

/// Debian's kernel in a one-vCPU partition, `-smp 1`.
pub struct LinuxBoot;

/// The counters at the partition's first instruction and at userspace's.
fn counters(log: &BenchLog, machine: Machine) -> Result<(u64, u64)> {
    // Under -icount an idle CPU's counter jumps ahead to its next timer: ticks are only
    // instructions if the kernel never idled before userspace.
    let idle = log.value("linux-idle-loop", "ns")?;
    if idle != 0 {
        bail!(
            "{machine:?}: the kernel spent {idle} ns in its idle loop before /init read it, so \
             the boot's ticks are no longer all instructions; the benchmark needs a new method"
        );
    }
    let entry = log.counter("linux-entry")?;
    let userspace = log.counter("linux-userspace")?;
    if entry == u64::from_be_bytes(PLACEHOLDER) {
        bail!("{machine:?}: the entry stub did not store its counter in the device tree");
    }
    if userspace <= entry {
        bail!("{machine:?}: userspace's counter {userspace} is not after the entry's {entry}");
    }
    Ok((entry, userspace))
}

impl Group for LinuxBoot {
    fn title(&self) -> &'static str {
        "6. Linux boot to userspace (-smp 1)"
    }

    fn measure(&self, runs: &mut Runs) -> Result<Vec<Figure>> {
        let log = runs.log(Machine::Bulkhead, CONFIG)?;
        let release = log.linux_release.clone().unwrap_or_else(|| "?".to_string());
        let (entry, userspace) = counters(log, Machine::Bulkhead)?;
        let (bare_entry, bare_userspace) =
            counters(runs.log(Machine::Bare, CONFIG)?, Machine::Bare)?;
        let (linux, bare_linux) = (userspace - entry, bare_userspace - bare_entry);
        let traps = runs
            .log(Machine::Bulkhead, CONFIG)?
            .traps_of("linux", 0)
            .map(|t| {
                let causes: Vec<String> = t
                    .causes
                    .iter()
                    .filter(|(_, n)| *n > 0)
                    .map(|(cause, n)| format!("{cause} {}", thousands(*n)))
                    .collect();
                causes.join(", ")
            })
            .unwrap_or_else(|_| "not reported".to_string());
        let extra = if linux >= bare_linux {
            format!("{} more", thousands(linux - bare_linux))
        } else {
            format!("{} fewer", thousands(bare_linux - linux))
        };
        let reset_extra = userspace.saturating_sub(bare_userspace);
        Ok(vec![
            Figure::new(
                "linux-reset-userspace-ratio",
                "Bulkhead / bare metal, reset → first userspace instruction (the headline)",
                Unit::Ratio,
                Value::quotient(userspace, bare_userspace, 4),
            )
            .note(format!(
                "Both runs counted from reset, raw (both counters are read by the guest, no \
                 timing frame to subtract): under Bulkhead {} instructions more, {} of them \
                 before the partition's first instruction (the hypervisor's boot and the \
                 images it copies), the rest inside the guest (its traps). Bare metal: the \
                 same images at the same addresses, the same `-seed 1`, and its random pool \
                 seeded at once as under Bulkhead (the guest device tree's fixed `rng-seed` \
                 there, the SMCCC TRNG here): an unseeded bare kernel waits for entropy, about \
                 24 million instructions that are not virtualization's.",
                thousands(reset_extra),
                thousands(entry.saturating_sub(bare_entry)),
            )),
            Figure::new(
                "linux-first-instruction",
                "reset → Linux partition's first instruction",
                Unit::Instructions,
                Value::Count(entry),
            )
            .baseline(Value::Count(bare_entry))
            .note(
                "Under Bulkhead: the hypervisor's boot, including copying the 2 MiB entry stub \
                 area, Debian's Image and the initramfs from the bundle into the partition. \
                 Bare metal, QEMU resets into the three-instruction stub of the baseline.",
            ),
            Figure::new(
                "linux-userspace",
                "Linux partition's first instruction → first userspace instruction",
                Unit::Instructions,
                Value::Count(linux),
            )
            .baseline(Value::Count(bare_linux))
            .note(format!(
                "Kernel {release}. Both counters read by the guest: the entry stub's first \
                 instruction and the first instruction of the program xtask puts at `/init` in \
                 the initramfs. In between: \
                 the stub (13 instructions), Debian's kernel booting with the same device tree, \
                 initramfs and command line (console on the PL011: every character it prints \
                 costs traps under Bulkhead) and the kernel's exec of the program. The kernel's \
                 idle loop had run 0 ns by then (/proc/timer_list), so every tick is an \
                 executed instruction."
            )),
            Figure::new(
                "linux-userspace-ratio",
                "Bulkhead / bare metal, first instruction → userspace",
                Unit::Ratio,
                Value::quotient(linux, bare_linux, 3),
            )
            .note(format!(
                "Under Bulkhead the boot takes {extra} instructions than bare metal. The \
                 whole Bulkhead run (to power-off) trapped: {traps}; almost all MMIO traps \
                 are the console's (the virtual PL011)."
            )),
            Figure::new(
                "linux-reset-userspace",
                "reset → first userspace instruction",
                Unit::Instructions,
                Value::Count(userspace),
            )
            .baseline(Value::Count(bare_userspace)),
        ])
    }
}
