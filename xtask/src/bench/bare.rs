//! The bare-metal baseline: the same partition images on QEMU `virt` without EL2.
//!
//! QEMU starts the CPU at EL1 (`virtualization=off`) and answers PSCI over HVC itself, in C.
//! The partition's kernel, device tree and initrd are loaded at the addresses its configuration
//! gives, and a two-instruction stub (`x0 = device tree; b entry`; three with `br` when the
//! entry is out of branch range) stands in for the hypervisor, so the guest starts exactly as
//! it does under Bulkhead. All of them go in one ELF passed with
//! `-kernel`: QEMU loads an ELF's segments where they say and, because the image covers the
//! base of RAM, puts no device tree of its own there (a raw `-device loader` at 0x4000_0000
//! would collide with the device tree QEMU places at the base of RAM).

use anyhow::{bail, Context, Result};
use bulkhead_config::model::Config;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::linux_files;
use crate::image::{self, BuildArgs};
use crate::{check_config, paths};

/// ELF machine number of AArch64.
pub const EM_AARCH64: u16 = 183;
/// Size of an ELF64 file header.
const ELF_HEADER_SIZE: u64 = 64;
/// Size of an ELF64 program header.
const PROGRAM_HEADER_SIZE: u64 = 56;

/// `movz x0, #imm16, lsl #16`: x0 = `address` when only bits [31:16] are set.
fn movz_x0_high(address: u64) -> Result<u32> {
    if address & 0xffff != 0 || address >> 32 != 0 {
        bail!("the device tree address {address:#x} must be 64 KiB aligned and below 4 GiB");
    }
    Ok(0xd2a0_0000 | (((address >> 16) as u32) << 5))
}

/// `movz x16, #imm16, lsl #16`: x16 = `address` when only bits [31:16] are set.
fn movz_x16_high(address: u64) -> Result<u32> {
    if address & 0xffff != 0 || address >> 32 != 0 {
        bail!("the entry {address:#x} must be 64 KiB aligned and below 4 GiB");
    }
    Ok(0xd2a0_0010 | (((address >> 16) as u32) << 5))
}

/// `br x16`.
const BR_X16: u32 = 0xd61f_0200;

/// `b target` placed at `from`.
pub fn branch(from: u64, target: u64) -> Result<u32> {
    let offset = (target as i64 - from as i64) / 4;
    if !(-(1 << 25)..(1 << 25)).contains(&offset) {
        bail!("{target:#x} is out of branch range of {from:#x}");
    }
    Ok(0x1400_0000 | (offset as u32 & 0x03ff_ffff))
}

/// The boot stub at `at`: x0 = `dtb`, then jump to `entry` (the boot protocol of a partition):
/// `b entry` when it is in range (±128 MiB), else `movz x16, entry; br x16`.
pub fn stub(at: u64, dtb: u64, entry: u64) -> Result<Vec<u8>> {
    let mut words = vec![movz_x0_high(dtb)?];
    match branch(at + 4, entry) {
        Ok(b) => words.push(b),
        Err(_) => words.extend([movz_x16_high(entry)?, BR_X16]),
    }
    Ok(words.iter().flat_map(|w| w.to_le_bytes()).collect())
}

/// A minimal ELF64 executable: one loadable segment per `(address, bytes)`, entered at `entry`.
pub fn elf(entry: u64, segments: &[(u64, &[u8])]) -> Vec<u8> {
    let count = segments.len() as u64;
    let mut out = Vec::new();
    out.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0"); // 64-bit, LE, v1
    out.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    out.extend_from_slice(&EM_AARCH64.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes()); // EV_CURRENT
    out.extend_from_slice(&entry.to_le_bytes());
    out.extend_from_slice(&ELF_HEADER_SIZE.to_le_bytes()); // e_phoff
    out.extend_from_slice(&0u64.to_le_bytes()); // e_shoff: no sections
    out.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    out.extend_from_slice(&(ELF_HEADER_SIZE as u16).to_le_bytes());
    out.extend_from_slice(&(PROGRAM_HEADER_SIZE as u16).to_le_bytes());
    out.extend_from_slice(&(count as u16).to_le_bytes());
    out.extend_from_slice(&[0; 6]); // e_shentsize, e_shnum, e_shstrndx
    let mut offset = ELF_HEADER_SIZE + PROGRAM_HEADER_SIZE * count;
    for (address, bytes) in segments {
        let size = bytes.len() as u64;
        out.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
        out.extend_from_slice(&7u32.to_le_bytes()); // R W X
        for field in [offset, *address, *address, size, size, 4] {
            out.extend_from_slice(&field.to_le_bytes());
        }
        offset += size;
    }
    for (_, bytes) in segments {
        out.extend_from_slice(bytes);
    }
    out
}

/// Builds the bare-metal ELF for the first partition of the configuration `args` names, with
/// the same files a Bulkhead build of `args` would bundle.
pub fn image(args: &BuildArgs) -> Result<PathBuf> {
    let config = &image::config_path(args);
    linux_files::export(args);
    let loaded = check_config::load(config, None, args.smp)?;
    let parsed = Config::parse(&loaded.dtb).map_err(|e| anyhow::anyhow!("{e}"))?;
    let partition = parsed
        .partitions
        .first()
        .context("the bench configuration has no partition")?;
    let dtb = partition
        .dtb
        .as_ref()
        .context("the bench partition has no device tree")?;
    let ram_end = partition
        .memory
        .iter()
        .map(|m| m.ipa.start + m.ipa.size)
        .max()
        .unwrap_or(0);
    // The stub goes just past the partition's RAM, where nothing else is.
    let stub_at = ram_end;
    let file = |name: &str| {
        loaded
            .files
            .get(name)
            .with_context(|| format!("{name} was not built"))
    };
    let stub = stub(stub_at, dtb.load, partition.entry)?;
    let mut segments = vec![
        (
            partition.kernel.load,
            file(partition.kernel.file)?.as_slice(),
        ),
        (dtb.load, file(dtb.file)?.as_slice()),
    ];
    if let Some(initrd) = &partition.initrd {
        segments.push((initrd.load, file(initrd.file)?.as_slice()));
    }
    segments.push((stub_at, &stub));
    let elf = elf(stub_at, &segments);
    let stem = config.file_stem().unwrap_or_default().to_string_lossy();
    let out = paths::out_dir(loaded.board.name)
        .join("bench")
        .join(format!("{stem}-bare.elf"));
    std::fs::create_dir_all(out.parent().expect("has a parent"))?;
    crate::artifacts::write_if_changed(&out, &elf)?;
    Ok(out)
}

/// The QEMU command line of a bare run: the machine of `qemu::virt_command` (`cpus` CPUs,
/// instruction counting on) without the virtualization extensions, so the CPU starts at EL1.
/// CPUs other than the first start powered off (PSCI CPU_ON over HVC starts them).
pub fn command(elf: &Path, cpus: u32) -> Command {
    let mut command = Command::new("qemu-system-aarch64");
    command
        .args(["-M", "virt,gic-version=3", "-cpu", "cortex-a72", "-m", "2G"])
        .args(["-nographic", "-no-reboot"])
        .args(crate::qemu::NO_NIC)
        .arg("-smp")
        .arg(cpus.to_string())
        .arg("-kernel")
        .arg(elf)
        .args(["-icount", "shift=0,sleep=off"])
        .args(["-global", "cortex-a72-arm-cpu.cntfrq=1000000000"]);
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stub_sets_x0_and_branches_back_to_the_entry() {
        let code = stub(0x4100_0000, 0x40f0_0000, 0x4000_0000).unwrap();
        let words: Vec<u32> = code
            .chunks(4)
            .map(|w| u32::from_le_bytes(w.try_into().unwrap()))
            .collect();
        // movz x0, #0x40f0, lsl #16; b .-0x1000004
        assert_eq!(words, [0xd2a8_1e00, 0x17bf_ffff]);
        assert!(stub(0x4100_0000, 0x40f0_1000, 0x4000_0000).is_err());
        // 512 MiB away: movz x0, #0x5fe0, lsl #16; movz x16, #0x4000, lsl #16; br x16
        let far: Vec<u32> = stub(0x6000_0000, 0x5fe0_0000, 0x4000_0000)
            .unwrap()
            .chunks(4)
            .map(|w| u32::from_le_bytes(w.try_into().unwrap()))
            .collect();
        assert_eq!(far, [0xd2ab_fc00, 0xd2a8_0010, 0xd61f_0200]);
    }

    #[test]
    fn bare_runs_have_no_default_network_card() {
        assert!(crate::qemu::tests::has_no_nic(&command(
            Path::new("x.elf"),
            2
        )));
    }

    #[test]
    fn elf_has_one_load_segment_per_piece() {
        let elf = elf(0x4100_0000, &[(0x4000_0000, b"abcd"), (0x4100_0000, b"xy")]);
        assert_eq!(&elf[..4], b"\x7fELF");
        let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]);
        let u64_at = |o: usize| u64::from_le_bytes(elf[o..o + 8].try_into().unwrap());
        assert_eq!(u16_at(18), EM_AARCH64);
        assert_eq!(u64_at(24), 0x4100_0000); // e_entry
        assert_eq!(u16_at(56), 2); // e_phnum
        let second = 64 + 56;
        assert_eq!(u64_at(second + 8), 64 + 2 * 56 + 4); // p_offset
        assert_eq!(u64_at(second + 16), 0x4100_0000); // p_vaddr
        assert_eq!(&elf[elf.len() - 6..], b"abcdxy");
    }
}
