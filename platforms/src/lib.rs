//! What each supported board needs that its device tree does not say.
//!
//! Platform facts are data, not code: where the boot loader puts the hypervisor image, how much
//! memory the image and its bundle may take, and the board as `xtask` launches it (so a
//! configuration can be checked at build time before any hardware is involved). Everything the
//! device tree does say (RAM, CPUs, GIC, UART, PSCI) is read from it at boot.
#![no_std]
#![forbid(unsafe_code)]

pub mod qemu_virt;
pub mod rpi4;

use bulkhead_config::board::HostDevice;
use bulkhead_config::range::Range;

/// How secondary CPUs are released by the firmware on a board.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuRelease {
    /// PSCI `CPU_ON`, with the conduit the device tree's `/psci` node names.
    Psci,
    /// The spin table: write the entry address to `cpu-release-addr`, clean it, `sev`.
    SpinTable,
}

/// Which kind of UART a console is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsoleKind {
    /// An Arm PL011.
    Pl011,
    /// The BCM2835-family auxiliary mini UART.
    MiniUart,
}

impl ConsoleKind {
    /// The name a configuration's `console` property and the build use.
    pub fn name(self) -> &'static str {
        match self {
            ConsoleKind::Pl011 => "pl011",
            ConsoleKind::MiniUart => "mini-uart",
        }
    }
}

/// A UART the hypervisor can own as its console: it programs the UART itself (and the pins,
/// where `gpio` says), from its first instruction, without the firmware's help.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsoleFacts {
    /// Its kind.
    pub kind: ConsoleKind,
    /// Its registers' physical base (the device tree's `reg`, as the CPU sees it).
    pub base: u64,
    /// The UART's reference clock in Hz: the PL011's UARTCLK, or the mini UART's VPU core
    /// clock (pinned by `config.txt` on the Pi).
    pub clock_hz: u64,
    /// The BCM2711 GPIO block whose GPIO14/15 carry this UART (TXD/RXD on header pins 8/10),
    /// if the pins must be switched to it.
    pub gpio: Option<u64>,
}

/// A memory range the hypervisor must never give to a partition, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReservedFact {
    /// The reserved physical range.
    pub range: Range,
    /// Why it is reserved, printed in configuration errors.
    pub why: &'static str,
}

/// The facts of one board.
#[derive(Clone, Copy, Debug)]
pub struct PlatformFacts {
    /// Board name, as a configuration's `board` property names it.
    pub name: &'static str,
    /// Physical address the boot loader enters the hypervisor image at (RAM base + the Image
    /// header's `text_offset`). The hypervisor is linked there.
    pub load_address: u64,
    /// Memory reserved for the hypervisor image, its bundle and its run-time data, starting at
    /// the 2 MiB-aligned base below `load_address`.
    pub hypervisor_reserve: Range,
    /// How secondary CPUs are started.
    pub cpu_release: CpuRelease,
    /// The board as `xtask run` launches it by default: CPUs by MPIDR affinity.
    pub cpus: &'static [u64],
    /// The most CPUs a run may give the board (QEMU `-smp N`), numbered MPIDR 0..N (Aff0);
    /// `None` when the board's CPUs are fixed (`cpus`).
    pub max_smp: Option<u32>,
    /// The board as `xtask run` launches it: RAM.
    pub ram: &'static [Range],
    /// Other memory no partition may have (firmware, the boot loader's device tree copy).
    pub reserved: &'static [ReservedFact],
    /// MMIO the hypervisor itself drives (its UARTs, the GIC, the hardware RNG): never passed
    /// through.
    pub host_devices: &'static [HostDevice],
    /// The UARTs the hypervisor can own as its console; the first is the default, a
    /// configuration's `console` property picks another by kind.
    pub consoles: &'static [ConsoleFacts],
    /// The highest INTID the board's GIC implements, when it is known at build time.
    pub max_intid: Option<u32>,
    /// The SMMUv3 the hypervisor drives, if the board has one (QEMU `virt` run with
    /// `iommu=smmuv3`): its register file, which no partition is given.
    pub smmu: Option<Range>,
}

impl PlatformFacts {
    /// The board as a configuration is validated against at build time, with its default CPUs.
    pub fn board(&self) -> bulkhead_config::board::Board {
        self.board_with_cpus(self.cpus.iter().copied())
    }

    /// The board as a run with `smp` CPUs launches it (QEMU `-smp`): CPUs MPIDR 0..smp. `None`
    /// when the board's CPUs are fixed or `smp` is 0 or above [`PlatformFacts::max_smp`].
    pub fn board_for_smp(&self, smp: u32) -> Option<bulkhead_config::board::Board> {
        let max = self.max_smp?;
        (1..=max)
            .contains(&smp)
            .then(|| self.board_with_cpus(0..u64::from(smp)))
    }

    fn board_with_cpus(&self, cpus: impl Iterator<Item = u64>) -> bulkhead_config::board::Board {
        use bulkhead_config::board::{Board, Reserved};
        let mut board = Board::default();
        let _ = board.name.push_str(self.name);
        let room = board.cpus.capacity();
        board.cpus.extend(cpus.take(room));
        board
            .ram
            .extend(self.ram.iter().copied().take(board.ram.capacity()));
        let _ = board.reserved.push(Reserved {
            range: self.hypervisor_reserve,
            why: "hypervisor image and bundle",
        });
        for fact in self.reserved {
            let _ = board.reserved.push(Reserved {
                range: fact.range,
                why: fact.why,
            });
        }
        let room = board.host_devices.capacity();
        board
            .host_devices
            .extend(self.host_devices.iter().copied().take(room));
        board.max_intid = self.max_intid;
        if let Some(range) = self.smmu {
            board.smmu = Some(range);
            let _ = board.host_devices.push(HostDevice {
                range,
                what: "SMMU",
            });
        }
        board
    }
}

impl PlatformFacts {
    /// The console of kind `name` (`None`: the default), if the board has one.
    pub fn console(&self, name: Option<&str>) -> Option<&'static ConsoleFacts> {
        match name {
            None => self.consoles.first(),
            Some(name) => self.consoles.iter().find(|c| c.kind.name() == name),
        }
    }
}

/// Every supported board.
pub const ALL: &[&PlatformFacts] = &[&qemu_virt::FACTS, &rpi4::FACTS];

/// The facts of the board called `name`.
pub fn by_name(name: &str) -> Option<&'static PlatformFacts> {
    ALL.iter().copied().find(|facts| facts.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qemu_virt_has_as_many_cpus_as_the_run_asks_for() {
        assert_eq!(qemu_virt::FACTS.board().cpus.as_slice(), [0, 1, 2, 3]);
        let eight = qemu_virt::FACTS.board_for_smp(8).expect("8 CPUs fit");
        assert_eq!(eight.cpus.as_slice(), [0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(eight.ram, qemu_virt::FACTS.board().ram);
        let one = qemu_virt::FACTS.board_for_smp(1).expect("1 CPU");
        assert_eq!(one.cpus.as_slice(), [0]);
        assert!(qemu_virt::FACTS.board_for_smp(0).is_none());
        assert!(qemu_virt::FACTS.board_for_smp(9).is_none());
    }

    #[test]
    fn the_pi_has_its_four_cpus_whatever_the_run_says() {
        assert!(rpi4::FACTS.board_for_smp(4).is_none());
        assert_eq!(rpi4::FACTS.board().cpus.as_slice(), [0, 1, 2, 3]);
    }
}
