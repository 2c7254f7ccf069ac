//! Group 8: footprint: the hypervisor's sections, its RAM at run time and its lines of Rust.

use anyhow::{Context, Result};
use object::{Object, ObjectSection, ObjectSymbol};

use super::figure::{thousands, Figure, Unit, Value};
use super::group::Group;
use super::lines;
use super::run::{self, Runs};
use crate::{image, paths};

/// The configuration whose bundle counts toward RAM use (`bench-boot.dts`: one partition).
const CONFIG: &str = "bench-boot";
/// The hypervisor reserves RAM for its image and bundle in 2 MiB blocks.
const RESERVE_ALIGN: u64 = 2 << 20;

/// Section sizes, RAM use and lines of code.
pub struct Footprint;

/// Sizes read from the hypervisor's ELF.
#[derive(Default)]
struct Sections {
    text: u64,
    rodata: u64,
    data: u64,
    bss: u64,
    image_start: u64,
    image_end: u64,
    table_pool: u64,
    stacks: u64,
}

fn read_sections(data: &[u8]) -> Result<Sections> {
    let file = object::File::parse(data).context("parsing the hypervisor ELF")?;
    let mut sizes = Sections::default();
    for section in file.sections() {
        let name = section.name().unwrap_or("");
        let slot = match name.split('.').nth(1).unwrap_or("") {
            "text" => &mut sizes.text,
            "rodata" => &mut sizes.rodata,
            "data" => &mut sizes.data,
            // The EL2 stacks have their own page-aligned section after .bss; counted with it.
            "bss" | "stacks" => &mut sizes.bss,
            _ => continue,
        };
        *slot += section.size();
    }
    for symbol in file.symbols() {
        let name = symbol.name().unwrap_or("");
        match name {
            "__image_start" => sizes.image_start = symbol.address(),
            "__image_end" => sizes.image_end = symbol.address(),
            // With their guard pages (arch/stack.rs).
            "PRIMARY_STACK" | "SECONDARY_STACKS" | "EMERGENCY_STACKS" => {
                sizes.stacks += symbol.size()
            }
            _ if name.contains("table_pool") && name.contains("POOL") => {
                sizes.table_pool += symbol.size()
            }
            _ => {}
        }
    }
    anyhow::ensure!(
        sizes.image_end > sizes.image_start,
        "the hypervisor ELF lacks __image_start/__image_end"
    );
    Ok(sizes)
}

fn bytes(id: &str, label: &str, value: u64) -> Figure {
    Figure::new(id, label, Unit::Bytes, Value::Count(value))
}

fn kib(value: u64) -> String {
    format!("{} KiB", thousands(value.div_ceil(1024)))
}

impl Group for Footprint {
    fn title(&self) -> &'static str {
        "8. Footprint"
    }

    fn measure(&self, _runs: &mut Runs) -> Result<Vec<Figure>> {
        let boot_image = image::build(&run::build_args(CONFIG))?;
        let elf = paths::target()
            .join(paths::BARE_TARGET)
            .join("release")
            .join("bulkhead");
        let s = read_sections(&std::fs::read(&elf)?)?;
        let image = s.image_end - s.image_start;
        let bundle = std::fs::metadata(&boot_image)?.len().saturating_sub(image);
        let ram = image + bundle;
        let reserved = (s.image_end + bundle).next_multiple_of(RESERVE_ALIGN)
            - s.image_start / RESERVE_ALIGN * RESERVE_ALIGN;
        let (rust, assembly) = lines::count_tree(&paths::root().join("hypervisor"))?;
        Ok(vec![
            bytes("footprint-text", ".text", s.text).note(kib(s.text)),
            bytes("footprint-rodata", ".rodata", s.rodata),
            bytes("footprint-data", ".data", s.data),
            bytes("footprint-bss", ".bss", s.bss).note(format!(
                "{}, of which the stage-2/EL2 table pool {} and the EL2 stacks {}.",
                kib(s.bss),
                kib(s.table_pool),
                kib(s.stacks)
            )),
            bytes(
                "footprint-image",
                "image in RAM (.text to end of .bss)",
                image,
            )
            .note(kib(image)),
            bytes(
                "footprint-bundle",
                "bundle of bench-boot (config + guest)",
                bundle,
            )
            .note(kib(bundle)),
            bytes("footprint-ram", "hypervisor RAM at run time", ram).note(format!(
                "{}: image (with .bss) + bundle. The hypervisor reserves it in 2 MiB blocks: \
                 {} MiB.",
                kib(ram),
                reserved >> 20
            )),
            Figure::new(
                "loc-hypervisor",
                "Rust in hypervisor/ (without tests)",
                Unit::Lines,
                Value::Count(rust.code),
            )
            .note("Non-blank lines that are not only comments."),
            Figure::new(
                "loc-hypervisor-tests",
                "Rust tests in hypervisor/",
                Unit::Lines,
                Value::Count(rust.tests),
            )
            .note("`#[cfg(test)]` items and hypervisor/tests/."),
            Figure::new(
                "loc-hypervisor-asm",
                "assembly in hypervisor/ (.S)",
                Unit::Lines,
                Value::Count(assembly),
            ),
        ])
    }
}
