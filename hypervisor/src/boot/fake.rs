//! A machine for host tests of boot: device trees and bundles from byte arrays, every hardware
//! step recorded.

use std::string::{String, ToString};
use std::vec::Vec;
use std::{boxed::Box, format, vec};

use bulkhead_config::range::Range;

use crate::host_dt::{HostInfo, UartKind};
use crate::pagetable::{Table, TablePool, ENTRIES, PAGE_SIZE};
use crate::system::Partition;

use super::{BootCpu, BootPlatform, FastAnswer, SecondaryStart, VirtualGic};

/// Where the fake loader put the hypervisor image.
pub const IMAGE_START: u64 = 0x4008_0000;
/// Where the fake image ends (and the bundle begins).
pub const IMAGE_END: u64 = 0x4012_3000;
/// Where the fake boot loader put the host device tree.
pub const DTB_PA: u64 = 0x4800_0000;

/// The fake machine: what it holds, and a log of what boot did to it.
pub struct FakeMachine {
    /// The host device tree at x0, if any.
    pub dtb: Option<&'static [u8]>,
    /// The bytes after the image (the bundle, if any).
    pub after_image: &'static [u8],
    /// The boot CPU.
    pub cpu: BootCpu,
    /// PSCI CPU_ON results by logical CPU (default 0, success).
    pub psci_results: Vec<(usize, i64)>,
    /// Console lines.
    pub lines: Vec<String>,
    /// Hardware steps in order: `console`, `mmu`, `entropy`, `gic`, `fast-calls`, `mpidrs`.
    pub steps: Vec<&'static str>,
    /// SPIs routed: (INTID, CPU).
    pub routes: Vec<(u32, usize)>,
    /// Virtual distributors installed, by partition index.
    pub vgics: Vec<(usize, VirtualGic)>,
    /// Firmware allow-lists, by partition id.
    pub allowed: Vec<(usize, Vec<u32>)>,
    /// Images loaded, by partition id: (PA, length) of each.
    pub loaded: Vec<(usize, Vec<(u64, usize)>)>,
    /// The fast-call table installed.
    pub fast_calls: Option<Vec<FastAnswer>>,
    /// The MPIDRs published to secondaries.
    pub mpidrs: Vec<u64>,
    /// Secondaries started, in order.
    pub started: Vec<SecondaryStart>,
}

impl FakeMachine {
    /// A machine whose boot loader passed `dtb` and whose image is followed by `after_image`.
    pub fn new(dtb: Option<&'static [u8]>, after_image: Vec<u8>) -> Self {
        FakeMachine {
            dtb,
            after_image: Box::leak(after_image.into_boxed_slice()),
            cpu: BootCpu {
                mpidr: 0,
                pa_range: 2,
                gic_sysregs: true,
            },
            psci_results: Vec::new(),
            lines: Vec::new(),
            steps: Vec::new(),
            routes: Vec::new(),
            vgics: Vec::new(),
            allowed: Vec::new(),
            loaded: Vec::new(),
            fast_calls: None,
            mpidrs: Vec::new(),
            started: Vec::new(),
        }
    }

    /// The console lines that contain `text`.
    pub fn lines_with(&self, text: &str) -> Vec<&str> {
        self.lines
            .iter()
            .filter(|line| line.contains(text))
            .map(String::as_str)
            .collect()
    }
}

impl BootPlatform for FakeMachine {
    fn print(&mut self, args: core::fmt::Arguments<'_>) {
        self.lines.push(format!("{args}"));
    }
    fn host_device_tree(&mut self) -> Option<(Range, &'static [u8])> {
        self.dtb
            .map(|dtb| (Range::new(DTB_PA, dtb.len() as u64), dtb))
    }
    fn boot_cpu(&mut self) -> BootCpu {
        self.cpu
    }
    fn counter(&mut self) -> u64 {
        1234
    }
    fn start_console(&mut self, host: &HostInfo<'_>) -> Option<(UartKind, Range)> {
        assert!(host.uart.is_some(), "the fixtures all have a console");
        self.steps.push("console");
        host.uart
    }
    fn enable_mmu(&mut self, _host: &HostInfo<'_>, _tables: &mut dyn TablePool) {
        self.steps.push("mmu");
    }
    fn init_entropy(&mut self, _host: &HostInfo<'_>) {
        self.steps.push("entropy");
    }
    fn init_gic(&mut self, _host: &HostInfo<'_>) {
        self.steps.push("gic");
    }
    fn image_range(&mut self) -> (u64, u64) {
        (IMAGE_START, IMAGE_END)
    }
    fn after_image(&mut self, len: usize) -> Option<&'static [u8]> {
        self.after_image.get(..len)
    }
    fn route_spi(&mut self, intid: u32, cpu: usize) {
        self.routes.push((intid, cpu));
    }
    fn init_virtual_gic(&mut self, index: usize, gic: &VirtualGic) {
        self.vgics.push((index, gic.clone()));
    }
    fn allow_firmware_calls(&mut self, id: usize, functions: &[u32]) {
        self.allowed.push((id, functions.to_vec()));
    }
    fn load_images(&mut self, partition: &Partition) {
        let images = partition
            .images
            .iter()
            .map(|image| (image.pa, image.data.len()))
            .collect();
        self.loaded.push((partition.id, images));
    }
    fn install_fast_calls(&mut self, calls: &[FastAnswer]) {
        self.steps.push("fast-calls");
        self.fast_calls = Some(calls.to_vec());
    }
    fn publish_cpu_mpidrs(&mut self, cpus: &[u64]) {
        self.steps.push("mpidrs");
        self.mpidrs = cpus.to_vec();
    }
    fn start_secondary(&mut self, start: &SecondaryStart) -> Result<(), i64> {
        self.started.push(*start);
        match self.psci_results.iter().find(|(cpu, _)| *cpu == start.cpu) {
            Some(&(_, code)) if code != 0 => Err(code),
            _ => Ok(()),
        }
    }
}

/// Translation tables in a vector, at most `limit` of them; table `i` has the fake physical
/// address `BASE + i * 4096`.
pub struct FakeTables {
    tables: Vec<Table>,
    limit: usize,
}

impl FakeTables {
    const BASE: u64 = 0x7_0000_0000;

    /// A pool of at most `limit` tables.
    pub fn new(limit: usize) -> Self {
        FakeTables {
            tables: Vec::new(),
            limit,
        }
    }

    /// Walks the stage-2 tables rooted at `root` like the MMU: the PA `ipa` maps to, if any.
    pub fn translate(&mut self, root: u64, ipa: u64) -> Option<u64> {
        const OUTPUT: u64 = 0x0000_ffff_ffff_f000;
        let mut table = root;
        for (level, shift) in [(1, 30), (2, 21), (3, 12)] {
            let index = ((ipa >> shift) & (ENTRIES as u64 - 1)) as usize;
            let desc = self.table(table)?[index];
            if desc & 1 == 0 {
                return None;
            }
            let is_table = level < 3 && desc & 2 != 0;
            if !is_table {
                return Some((desc & OUTPUT) + (ipa & ((1 << shift) - 1)));
            }
            table = desc & OUTPUT;
        }
        None
    }

    /// Tables handed out.
    pub fn used(&self) -> usize {
        self.tables.len()
    }
}

impl TablePool for FakeTables {
    fn alloc(&mut self) -> Option<u64> {
        if self.tables.len() >= self.limit {
            return None;
        }
        self.tables.push([0; ENTRIES]);
        Some(Self::BASE + (self.tables.len() as u64 - 1) * PAGE_SIZE)
    }

    fn table(&mut self, pa: u64) -> Option<&mut Table> {
        let index = pa.checked_sub(Self::BASE)? / PAGE_SIZE;
        self.tables.get_mut(usize::try_from(index).ok()?)
    }
}

pub use bulkhead_config::test_support::compile;

/// A bundle of the configuration `dts` and the named images (each `size` bytes of its first
/// letter).
pub fn bundle(dts: &str, images: &[(&str, usize)]) -> Vec<u8> {
    let config = compile(dts);
    let data: Vec<(String, Vec<u8>)> = images
        .iter()
        .map(|&(name, size)| (name.to_string(), vec![name.as_bytes()[0]; size]))
        .collect();
    let mut entries: Vec<(&str, &[u8])> = vec![(bulkhead_config::CONFIG_ENTRY, &config[..])];
    entries.extend(data.iter().map(|(n, d)| (n.as_str(), d.as_slice())));
    bulkhead_config::write_bundle(&entries)
}
