//! Lets `defmt` keep `info` and above in this crate unless the builder chose a filter
//! (`DEFMT_LOG`); defmt's own default keeps errors only.

fn main() {
    println!("cargo:rerun-if-env-changed=DEFMT_LOG");
    if std::env::var_os("DEFMT_LOG").is_none() {
        println!("cargo:rustc-env=DEFMT_LOG=info");
    }
}
