//! Building the bare-metal binaries: the hypervisor for a board and the guest images.

use anyhow::Result;
use std::path::PathBuf;
use std::process::Command;

use crate::{elf, paths, shell, tools};

/// Guest images xtask builds itself, by the file name configurations use.
pub const BUILT_GUESTS: &[(&str, &str)] = &[
    ("test-guest.bin", "test-guest"),
    ("bench-guest.bin", "bench-guest"),
    ("rtos.bin", "rtos-app"),
];

fn cargo_build(package: &str, envs: &[(&str, String)]) -> Result<PathBuf> {
    cargo_build_with(package, envs, &[])
}

fn cargo_build_with(package: &str, envs: &[(&str, String)], features: &[&str]) -> Result<PathBuf> {
    tools::ensure_rust_target()?;
    let mut command = Command::new(env!("CARGO"));
    command.current_dir(paths::root()).args([
        "build",
        "--release",
        "--package",
        package,
        "--target",
        paths::BARE_TARGET,
    ]);
    if !features.is_empty() {
        command.args(["--features", &features.join(",")]);
    }
    for (key, value) in envs {
        command.env(key, value);
    }
    shell::run(&mut command)?;
    Ok(paths::target().join(paths::BARE_TARGET).join("release"))
}

/// Builds a Linux userspace tool of `guest-shim/` (`bulkheadctl`, `dmaprobe`) for the Linux
/// partitions' initramfs: a static, stripped aarch64 musl executable (rust-lld and the target's
/// self-contained CRT, so no cross toolchain is needed).
pub fn linux_tool(package: &str) -> Result<Vec<u8>> {
    tools::ensure_target(paths::LINUX_TARGET)?;
    let mut command = Command::new(env!("CARGO"));
    command
        .current_dir(paths::root())
        .args([
            "build",
            "--release",
            "--package",
            package,
            "--target",
            paths::LINUX_TARGET,
        ])
        .env("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER", "rust-lld")
        .env(
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUSTFLAGS",
            "-C target-feature=+crt-static -C strip=symbols",
        );
    shell::run(&mut command)?;
    let path = paths::target()
        .join(paths::LINUX_TARGET)
        .join("release")
        .join(package);
    let binary = std::fs::read(&path)?;
    // A static executable has no program interpreter (PT_INTERP, type 3).
    anyhow::ensure!(
        binary.get(..4) == Some(b"\x7fELF".as_slice()) && !has_interpreter(&binary),
        "{} is not a static ELF executable",
        path.display()
    );
    Ok(binary)
}

/// Whether the 64-bit little-endian ELF `elf` has a PT_INTERP program header.
fn has_interpreter(elf: &[u8]) -> bool {
    let read = |at: usize, len: usize| -> u64 {
        elf.get(at..at + len).map_or(0, |b| {
            b.iter()
                .rev()
                .fold(0u64, |acc, &byte| (acc << 8) | u64::from(byte))
        })
    };
    let (phoff, phentsize, phnum) = (read(0x20, 8), read(0x36, 2), read(0x38, 2));
    (0..phnum).any(|i| read((phoff + i * phentsize) as usize, 4) == 3)
}

/// Builds the hypervisor for `board` and returns its flat image (with the arm64 Image header);
/// `test_hooks` adds the hypervisor's test-only failure hooks (feature `test-hooks`); `console`
/// names the board UART it owns (`None`: the board's default).
pub fn hypervisor(
    board: &bulkhead_platforms::PlatformFacts,
    test_hooks: bool,
    console: Option<&str>,
) -> Result<Vec<u8>> {
    let features: &[&str] = if test_hooks { &["test-hooks"] } else { &[] };
    let Some(uart) = board.console(console) else {
        anyhow::bail!(
            "board {} has no console {:?}; it has: {}",
            board.name,
            console.unwrap_or("(default)"),
            board
                .consoles
                .iter()
                .map(|c| c.kind.name())
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    let dir = cargo_build_with(
        "hypervisor",
        &[
            ("BULKHEAD_BOARD", board.name.to_string()),
            (
                "BULKHEAD_LOAD_ADDRESS",
                format!("{:#x}", board.load_address),
            ),
            ("BULKHEAD_CONSOLE", console_spec(uart)),
        ],
        features,
    )?;
    let (base, image) = elf::flatten(&dir.join("bulkhead"), Some("__image_end"))?;
    anyhow::ensure!(
        base == board.load_address,
        "the hypervisor is linked at {base:#x}, not at {:#x} (stale build?)",
        board.load_address
    );
    Ok(image)
}

/// The `BULKHEAD_CONSOLE` value the hypervisor reads at build time (its `console_spec`
/// module): `kind,base,clock,gpio` with `-` for no GPIO block.
pub fn console_spec(uart: &bulkhead_platforms::ConsoleFacts) -> String {
    format!(
        "{},{:#x},{},{}",
        uart.kind.name(),
        uart.base,
        uart.clock_hz,
        uart.gpio.map_or("-".to_string(), |g| format!("{g:#x}"))
    )
}

/// Builds every guest xtask knows and writes `<name>` into `target/bulkhead/<board>/artifacts`.
pub fn guests(board: &str) -> Result<PathBuf> {
    let out = paths::out_dir(board).join("artifacts");
    std::fs::create_dir_all(&out)?;
    for (file, package) in BUILT_GUESTS {
        let dir = cargo_build(package, &[])?;
        let (_, image) = elf::flatten(&dir.join(package), None)?;
        write_if_changed(&out.join(file), &image)?;
    }
    Ok(out)
}

/// Writes `data` to `path` unless it already holds exactly that.
pub fn write_if_changed(path: &std::path::Path, data: &[u8]) -> Result<()> {
    if std::fs::read(path).ok().as_deref() != Some(data) {
        std::fs::write(path, data)?;
    }
    Ok(())
}
