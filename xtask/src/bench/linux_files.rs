//! The files the Linux benchmarks (groups 6 and 7) boot with: Debian's kernel behind an entry
//! stub, and the test initramfs with a program that reads the counter at userspace's first
//! instruction. Both are written as instruction words here, so no cross toolchain is needed.
//!
//! A Linux configuration for the benchmarks loads `linux-Image` at the partition's entry
//! (`device-trees/qemu-virt/bench-linux-*.dts`). For a run, that file is:
//! - the entry stub: the partition's first instruction reads `CNTVCT_EL0`, the stub stores the
//!   value big-endian over the placeholder `/chosen/bulkhead,bench-entry-counter` of the
//!   partition's device tree (x0 points at it) and branches to the kernel with x1, x2 = 0 (the
//!   arm64 boot protocol);
//! - zeros up to 2 MiB, then Debian's Image, at a 2 MiB-aligned address as arm64 Images need.
//!
//! The initramfs is the test one followed by a second cpio archive (the kernel unpacks
//! concatenated archives, a later file replacing an earlier one) that moves the test `/init`
//! script (`guest-shim/linux/init`) to `/bin/init.sh` and puts a static program at `/init`:
//! its first instruction, userspace's first, reads the counter; it prints
//! `HIL:BENCH linux-userspace counter=0x...` and executes `/bin/init.sh`, which prints the
//! entry counter from `/sys/firmware/devicetree` (`hil=bench-boot`). The command line stays
//! the Linux partition's, and the configuration booted by hand runs the script as `/init`.

use anyhow::{bail, Context, Result};
use bulkhead_config::model::Config;

use super::bare;
use super::run::BOARD;
use crate::image::{self, BuildArgs};
use crate::initramfs::{cpio, Member};
use crate::{artifacts, check_config, linux, paths};

/// Where Debian's Image goes in `linux-Image`: the next 2 MiB boundary after the stub.
const KERNEL_OFFSET: u64 = 0x20_0000;
/// The value of `/chosen/bulkhead,bench-entry-counter` until the stub writes over it.
pub const PLACEHOLDER: [u8; 8] = *b"HIL:ENTR";
/// The userspace program: the kernel runs `/init` first.
const PROGRAM_PATH: &str = "init";
/// Where the bench initramfs keeps the test `/init` script, which the program executes.
const SCRIPT_PATH: &str = "bin/init.sh";
/// The program's load address (a fixed, page-aligned address: it is not position independent
/// only in that its ELF header says where it goes).
const PROGRAM_BASE: u64 = 0x40_0000;
/// ELF64 file header and one program header: the program's code starts right after them.
const PROGRAM_HEADERS: u64 = 64 + 56;

/// The stub at the partition's entry. `counter_offset` is where the placeholder is in the
/// partition's device tree (x0 at entry).
pub fn entry_stub(counter_offset: u64) -> Result<Vec<u8>> {
    if !counter_offset.is_multiple_of(4) || counter_offset >= 4096 {
        bail!(
            "the counter placeholder is at offset {counter_offset:#x} of the device tree; the \
             entry stub needs it 4-byte aligned and in the first 4 KiB"
        );
    }
    // add x2, x0, #counter_offset
    let add_offset = 0x9100_0002 | ((counter_offset as u32) << 10);
    let mut words = vec![
        0xd53b_e041, // mrs x1, cntvct_el0: the partition's first instruction
        0xdac0_0c21, // rev x1, x1: big-endian, as device trees are
        add_offset,  // add x2, x0, #counter_offset
        0xb900_0041, // str w1, [x2]: MMU off, so two aligned words
        0xd360_fc21, // lsr x1, x1, #32
        0xb900_0441, // str w1, [x2, #4]
        0xd50b_7e22, // dc civac, x2: no stale cached copy for Linux to read
        0x9100_1042, // add x2, x2, #4
        0xd50b_7e22, // dc civac, x2
        0xd503_3f9f, // dsb sy
        0xd280_0001, // mov x1, #0: x1..x3 are zero at a kernel's entry
        0xd280_0002, // mov x2, #0
    ];
    let at = 4 * words.len() as u64;
    words.push(bare::branch(at, KERNEL_OFFSET)?); // b kernel
    Ok(words.iter().flat_map(|w| w.to_le_bytes()).collect())
}

/// The code of the program at `/init`, assembled from:
/// ```text
/// _start: mrs   x19, cntvct_el0          // userspace's first instruction
///         adr   x1, digits_end
///         mov   x2, #16
/// 1:      and   x3, x19, #0xf            // x19 in hex, last digit first
///         add   x4, x3, #'0'
///         cmp   x3, #10
///         add   x5, x3, #('a' - 10)
///         csel  x4, x5, x4, hs
///         strb  w4, [x1, #-1]!
///         lsr   x19, x19, #4
///         subs  x2, x2, #1
///         b.ne  1b
///         mov   x0, #1                   // write(1, message, 53)
///         adr   x1, message
///         mov   x2, #53
///         mov   x8, #64
///         svc   #0
///         adr   x0, script               // execve("/bin/init.sh", argv, envp) as given
///         add   x1, sp, #8
///         ldr   x3, [sp]
///         add   x2, x1, x3, lsl #3
///         add   x2, x2, #8
///         mov   x8, #221
///         svc   #0
///         mov   x0, #127                 // exit(127) if execve failed
///         mov   x8, #93
///         svc   #0
/// message: "HIL:BENCH linux-userspace counter=0x" "0000000000000000"
/// digits_end: "\n"
/// script: "/bin/init.sh\0"
/// ```
const PROGRAM_CODE: [u32; 27] = [
    0xd53b_e053,
    0x1000_04e1,
    0xd280_0202,
    0x9240_0e63,
    0x9100_c064,
    0xf100_287f,
    0x9101_5c65,
    0x9a84_20a4,
    0x381f_fc24,
    0xd344_fe73,
    0xf100_0442,
    0x54ff_ff01,
    0xd280_0020,
    0x1000_01c1,
    0xd280_06a2,
    0xd280_0808,
    0xd400_0001,
    0x3000_02e0,
    0x9100_23e1,
    0xf940_03e3,
    0x8b03_0c22,
    0x9100_2042,
    0xd280_1ba8,
    0xd400_0001,
    0xd280_0fe0,
    0xd280_0ba8,
    0xd400_0001,
];
/// The path the program executes, NUL-terminated: [`SCRIPT_PATH`].
const SCRIPT_EXEC: &[u8] = b"/bin/init.sh\0";
/// The line the program prints, with room for 16 hex digits before its newline.
const PROGRAM_MESSAGE: &[u8] = b"HIL:BENCH linux-userspace counter=0x0000000000000000\n";

/// The program at `/init`: a static AArch64 Linux executable with one read-write-execute
/// segment (it writes its digits into its own message).
pub fn userspace_program() -> Vec<u8> {
    let mut body: Vec<u8> = PROGRAM_CODE.iter().flat_map(|w| w.to_le_bytes()).collect();
    body.extend_from_slice(PROGRAM_MESSAGE);
    body.extend_from_slice(SCRIPT_EXEC);
    let size = PROGRAM_HEADERS + body.len() as u64;
    let mut out = Vec::new();
    out.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0"); // 64-bit, LE, v1
    out.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    out.extend_from_slice(&bare::EM_AARCH64.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes()); // EV_CURRENT
    out.extend_from_slice(&(PROGRAM_BASE + PROGRAM_HEADERS).to_le_bytes()); // e_entry
    out.extend_from_slice(&64u64.to_le_bytes()); // e_phoff
    out.extend_from_slice(&0u64.to_le_bytes()); // e_shoff: no sections
    out.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    out.extend_from_slice(&64u16.to_le_bytes()); // e_ehsize
    out.extend_from_slice(&56u16.to_le_bytes()); // e_phentsize
    out.extend_from_slice(&1u16.to_le_bytes()); // e_phnum
    out.extend_from_slice(&[0; 6]); // e_shentsize, e_shnum, e_shstrndx

    // One segment: the whole file, headers included, at PROGRAM_BASE (file offset and
    // address agree modulo 64 KiB, as the kernel's ELF loader needs).
    out.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    out.extend_from_slice(&7u32.to_le_bytes()); // R W X
    for field in [0, PROGRAM_BASE, PROGRAM_BASE, size, size, 0x1_0000] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    out.extend_from_slice(&body);
    out
}

/// The test initramfs followed by an archive with the program at `/init` and the test
/// `/init` script at `/bin/init.sh`.
pub fn initramfs() -> Result<Vec<u8>> {
    let mut archive = linux::initramfs()?;
    let script = std::fs::read(paths::root().join("guest-shim/linux/init"))?;
    let program = userspace_program();
    archive.extend_from_slice(&cpio(&[
        Member::File(SCRIPT_PATH, 0o755, &script),
        Member::File(PROGRAM_PATH, 0o755, &program),
    ]));
    Ok(archive)
}

/// Where `bytes` (the placeholder) is in `blob`; it must be there exactly once.
fn find_once(blob: &[u8], bytes: &[u8]) -> Option<u64> {
    let mut hits = blob
        .windows(bytes.len())
        .enumerate()
        .filter(|(_, w)| *w == bytes)
        .map(|(i, _)| i as u64);
    let first = hits.next()?;
    hits.next().is_none().then_some(first)
}

/// Makes `check_config::load` (and so the bare-metal image) use the Linux files in `args`, as
/// `image::build` does.
pub fn export(args: &BuildArgs) {
    if let Some(path) = &args.linux_image {
        std::env::set_var("BULKHEAD_LINUX_IMAGE", path);
    }
    if let Some(path) = &args.initrd {
        std::env::set_var("BULKHEAD_INITRD", path);
    }
    if let Some(path) = &args.linux_modules {
        std::env::set_var("BULKHEAD_LINUX_MODULES", path);
    }
}

/// If the configuration in `args` boots `linux-Image`, writes the stub-and-kernel file and the
/// bench initramfs for it and puts them in `args` (as `--linux-image` and `--initrd`).
pub fn provide(args: &mut BuildArgs) -> Result<()> {
    let config = image::config_path(args);
    let compiled = check_config::compile_dts(&config)?;
    let parsed = Config::parse(&compiled).map_err(|e| anyhow::anyhow!("{e}"))?;
    let Some(partition) = parsed
        .partitions
        .iter()
        .find(|p| p.kernel.file == linux::KERNEL)
    else {
        return Ok(());
    };
    let name = partition.name;
    if partition.entry != partition.kernel.load {
        bail!(
            "{name}: the entry stub needs the partition to start at {}'s load address",
            linux::KERNEL
        );
    }
    let dtb = partition
        .dtb
        .as_ref()
        .with_context(|| format!("{name}: a Linux bench partition needs a device tree"))?
        .file
        .to_string();
    let dir = paths::out_dir(BOARD).join("bench");
    std::fs::create_dir_all(&dir)?;
    let initrd = dir.join("initramfs-bench.cpio");
    artifacts::write_if_changed(&initrd, &initramfs()?)?;
    let (kernel, _) = linux::kernel()?;

    // Where the placeholder is once xtask has filled in the initrd's place: load the
    // configuration as it will be built, with Debian's Image itself standing in for the stub.
    let mut probe = args.clone();
    probe.linux_image = Some(kernel.clone());
    probe.initrd = Some(initrd.clone());
    export(&probe);
    let loaded = check_config::load(&config, None, args.smp)?;
    let blob = loaded
        .files
        .get(&dtb)
        .context("the device tree was not built")?;
    let offset = find_once(blob, &PLACEHOLDER).with_context(|| {
        format!(
            "{dtb} must hold the placeholder `bulkhead,bench-entry-counter = <0x48494c3a \
             0x454e5452>` (\"HIL:ENTR\") exactly once, for the entry stub"
        )
    })?;

    let mut file = entry_stub(offset)?;
    file.resize(KERNEL_OFFSET as usize, 0);
    file.extend_from_slice(&std::fs::read(&kernel)?);
    let stem = config.file_stem().unwrap_or_default().to_string_lossy();
    let stubbed = dir.join(format!("{stem}-linux-Image"));
    artifacts::write_if_changed(&stubbed, &file)?;
    args.linux_image = Some(stubbed);
    args.initrd = Some(initrd);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(bytes: &[u8]) -> Vec<u32> {
        bytes
            .chunks(4)
            .map(|w| u32::from_le_bytes(w.try_into().unwrap()))
            .collect()
    }

    /// The target of the `adr` at byte `at` of the program's code.
    fn adr_target(at: usize) -> usize {
        let word = PROGRAM_CODE[at / 4];
        assert_eq!(word & 0x9f00_0000, 0x1000_0000, "not an adr at {at:#x}");
        let immlo = (word >> 29) & 3;
        let immhi = (word >> 5) & 0x7_ffff;
        at + ((immhi << 2) | immlo) as usize
    }

    #[test]
    fn entry_stub_reads_the_counter_first_stores_it_and_branches_to_the_kernel() {
        let stub = words(&entry_stub(0x124).unwrap());
        assert_eq!(stub[0], 0xd53b_e041, "mrs x1, cntvct_el0 comes first");
        assert_eq!(stub[2], 0x9104_9002, "add x2, x0, #0x124");
        let last = stub.len() - 1;
        // b +(0x200000 - 4 * last)
        assert_eq!(
            stub[last],
            0x1400_0000 | ((0x20_0000 - 4 * last as u32) / 4)
        );
        assert!(entry_stub(0x122).is_err());
        assert!(entry_stub(0x1000).is_err());
    }

    #[test]
    fn userspace_program_points_at_its_own_message_digits_and_init_path() {
        let code = PROGRAM_CODE.len() * 4;
        let data = code;
        assert_eq!(
            adr_target(0x04),
            data + PROGRAM_MESSAGE.len() - 1,
            "digits_end"
        );
        assert_eq!(adr_target(0x34), data, "message");
        assert_eq!(adr_target(0x44), data + PROGRAM_MESSAGE.len(), "script");
        assert_eq!(SCRIPT_EXEC, format!("/{SCRIPT_PATH}\0").as_bytes());
        // mov x2, #53: the message's length.
        assert_eq!(
            PROGRAM_CODE[0x38 / 4],
            0xd280_0002 | ((PROGRAM_MESSAGE.len() as u32) << 5)
        );
        let elf = userspace_program();
        let u64_at = |o: usize| u64::from_le_bytes(elf[o..o + 8].try_into().unwrap());
        assert_eq!(u64_at(24), PROGRAM_BASE + PROGRAM_HEADERS, "e_entry");
        assert_eq!(u64_at(64 + 32), elf.len() as u64, "p_filesz");
        assert!(elf.ends_with(SCRIPT_EXEC));
        assert_eq!(
            words(&elf[120..124]),
            [0xd53b_e053],
            "mrs x19, cntvct_el0 comes first"
        );
    }

    #[test]
    fn the_placeholder_must_be_there_exactly_once() {
        assert_eq!(find_once(b"..HIL:ENTR..", &PLACEHOLDER), Some(2));
        assert_eq!(find_once(b"HIL:ENTRHIL:ENTR", &PLACEHOLDER), None);
        assert_eq!(find_once(b"nothing", &PLACEHOLDER), None);
    }
}
