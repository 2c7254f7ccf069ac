//! `cargo xtask check-boot`: no exclusive or atomic read-modify-write runs before the EL2 MMU
//! and caches are on.
//!
//! The boot CPU runs from `_start` with its MMU and caches off, so every access is to Device
//! memory; on the BCM2711 an exclusive (LDXR/STXR, what `spin` and core's atomics compile to
//! without LSE) or an LSE atomic there never completes: the Pi prints the firmware's lines and
//! then nothing (docs/rpi4.md). QEMU completes them whatever the memory type, so no scenario
//! can see the mistake; this check reads the built ELF instead. It scans everything reachable
//! from the entry ([`scan`]) up to the functions that run with the MMU on, [`MMU_ON`], and
//! fails on any such instruction, naming it and the call chain that reaches it.

pub mod scan;

use anyhow::{bail, Context, Result};
use object::{Object, ObjectSection, ObjectSymbol, SectionKind, SymbolKind};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::{artifacts, paths};

/// The code the boot CPU reaches only with its EL2 MMU and caches on: `primary_main` calls
/// `primary_main_mmu_on` (boot/target.rs) right after the switch, and nothing else does.
/// Secondary CPUs turn their MMU on in `secondary_entry` (entry.S) before any Rust code, and
/// the full exception vectors are installed only after the switch (the early ones take no
/// lock).
pub const MMU_ON: &[&str] = &["primary_main_mmu_on"];

/// Arguments of `cargo xtask check-boot`.
#[derive(clap::Args)]
pub struct CheckBootArgs {
    /// Check this ELF instead of building the hypervisor for the Raspberry Pi 4.
    #[arg(long)]
    pub elf: Option<PathBuf>,
}

/// `cargo xtask check-boot`.
pub fn run(args: &CheckBootArgs) -> Result<()> {
    let elf = match &args.elf {
        Some(path) => path.clone(),
        None => build()?,
    };
    check(&elf)
}

/// Builds the hypervisor as `cargo xtask build --board rpi4` does; the ELF's path.
pub fn build() -> Result<PathBuf> {
    let board = bulkhead_platforms::by_name("rpi4").context("no platform rpi4")?;
    artifacts::hypervisor(board, false, None)?;
    Ok(paths::target()
        .join(paths::BARE_TARGET)
        .join("release")
        .join("bulkhead"))
}

/// Scans `elf`; an error naming every forbidden instruction if it has any before the MMU is
/// on.
pub fn check(elf: &Path) -> Result<()> {
    let data = std::fs::read(elf).with_context(|| format!("reading {}", elf.display()))?;
    let file = object::File::parse(&*data).with_context(|| format!("parsing {}", elf.display()))?;
    let mut code = Vec::new();
    let mut data_sections = Vec::new();
    for section in file.sections() {
        let Ok(bytes) = section.data() else { continue };
        match section.kind() {
            SectionKind::Text => code.push((section.address(), bytes)),
            SectionKind::ReadOnlyData | SectionKind::Data | SectionKind::ReadOnlyDataWithRel => {
                data_sections.push((section.address(), bytes))
            }
            _ => {}
        }
    }
    let mut symbols = BTreeMap::new();
    let mut by_name = BTreeMap::new();
    for symbol in file.symbols() {
        let Ok(name) = symbol.name() else { continue };
        if name.is_empty() || name.starts_with("$") {
            continue;
        }
        if matches!(
            symbol.kind(),
            SymbolKind::Text | SymbolKind::Label | SymbolKind::Unknown
        ) {
            symbols.insert(
                symbol.address(),
                format!("{:#}", rustc_demangle::demangle(name)),
            );
            by_name.insert(name.to_string(), symbol.address());
        }
    }
    let mut stops = BTreeSet::new();
    for name in MMU_ON {
        match by_name.get(*name) {
            Some(&address) => {
                stops.insert(address);
            }
            None => eprintln!(
                "check-boot: {} has no symbol {name}: scanning everything reachable from the \
                 entry (an image from before the boot split)",
                elf.display()
            ),
        }
    }
    let image = scan::Image {
        code,
        data: data_sections,
        symbols,
    };
    let entry = file.entry();
    let report = scan::scan(&image, entry, &stops);
    eprintln!(
        "check-boot: {} instructions reachable from {} before the MMU is on ({} stop(s) reached)",
        report.instructions,
        image.name_of(entry),
        report.stops_reached.len()
    );
    // One line per function holding forbidden instructions, with the calls that reach it.
    let mut by_function: BTreeMap<String, (usize, &scan::Finding)> = BTreeMap::new();
    for finding in &report.findings {
        let function = image.function_of(finding.address);
        by_function.entry(function).or_insert((0, finding)).0 += 1;
    }
    for (function, (count, first)) in &by_function {
        let mut path: Vec<String> = Vec::new();
        for &address in &first.path {
            let name = image.function_of(address);
            if path.last() != Some(&name) {
                path.push(name);
            }
        }
        eprintln!(
            "  {function}: {count} instruction(s), first {:#x} {:08x} ({})\n    reached by {}",
            first.address,
            first.insn,
            first.class.mnemonics(),
            path.join(" -> ")
        );
    }
    if !report.findings.is_empty() {
        bail!(
            "{} exclusive/atomic instruction(s) run before the EL2 MMU and caches are on (they \
             hang a real Raspberry Pi 4): take no lock and no atomic read-modify-write before \
             `primary_main_mmu_on` (docs/rpi4.md)",
            report.findings.len()
        );
    }
    if stops.is_empty() || report.stops_reached.is_empty() {
        bail!("the scan never reached the MMU switch's continuation: is it still {MMU_ON:?}?");
    }
    eprintln!("check-boot: ok, no exclusive or atomic read-modify-write before the MMU is on");
    Ok(())
}
