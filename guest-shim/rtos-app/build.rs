//! Bare-metal builds link with the RTOS's link script (the image at 0x4020_0000 with an arm64
//! Image header) and defmt's (the `.defmt` table the host decoder reads). `DEFMT_LOG` defaults
//! to `info` for this crate (defmt's own default keeps errors only).

fn main() {
    println!("cargo:rerun-if-changed=../rtos/link.ld");
    println!("cargo:rerun-if-env-changed=DEFMT_LOG");
    if std::env::var_os("DEFMT_LOG").is_none() {
        println!("cargo:rustc-env=DEFMT_LOG=info");
    }
    if std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default() == "none" {
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
        println!("cargo:rustc-link-arg-bins=-T{dir}/../rtos/link.ld");
        println!("cargo:rustc-link-arg-bins=-Tdefmt.x");
    }
}
