//! Where things are in the repository and under `target/`.

use std::path::PathBuf;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the repository")
        .to_path_buf()
}

/// `target/`.
pub fn target() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// Where xtask puts what it builds for `board`.
pub fn out_dir(board: &str) -> PathBuf {
    target().join("bulkhead").join(board)
}

/// The configurations and guest device trees of `board`.
pub fn device_trees(board: &str) -> PathBuf {
    root().join("device-trees").join(board)
}

/// The Rust target of everything that runs on the boards.
pub const BARE_TARGET: &str = "aarch64-unknown-none-softfloat";

/// The Rust target of the Linux userspace tools in the test initramfs (`bulkheadctl`): static
/// musl binaries, linked with rust-lld and the target's self-contained C runtime.
pub const LINUX_TARGET: &str = "aarch64-unknown-linux-musl";
