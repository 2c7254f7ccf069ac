//! Links the EL2 binary at the board's load address (from `BULKHEAD_LOAD_ADDRESS`, set by
//! `cargo xtask build`; QEMU `virt` by default). Host builds (unit tests) link normally.

fn main() {
    println!("cargo:rerun-if-changed=link.ld");
    println!("cargo:rerun-if-env-changed=BULKHEAD_LOAD_ADDRESS");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os != "none" {
        return;
    }
    let load = std::env::var("BULKHEAD_LOAD_ADDRESS").unwrap_or_else(|_| "0x40200000".into());
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-link-arg-bins=--defsym=LOAD_ADDRESS={load}");
    println!("cargo:rustc-link-arg-bins=-T{dir}/link.ld");
}
