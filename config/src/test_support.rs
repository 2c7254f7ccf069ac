//! Helpers for unit tests: compiling DTS with `dtc`, hand-building malformed
//! blobs, and the qemu-virt board. Other crates' tests use [`compile`] (feature
//! `test-support`); the rest serves this crate's own tests.
#![cfg_attr(not(test), allow(dead_code))]
// Test code: a failed helper is a failed test, so the panic guards do not apply.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

extern crate std;

use crate::board::{Board, HostDevice, Reserved};
use crate::range::Range;
use std::io::Write;
use std::process::{Command, Stdio};
use std::vec::Vec;

/// Compiles device-tree source with `dtc`, panicking with dtc's message on
/// failure.
pub fn compile(dts: &str) -> Vec<u8> {
    let mut child = Command::new("dtc")
        .args(["-q", "-I", "dts", "-O", "dtb", "-o", "-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dtc is installed");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(dts.as_bytes())
        .expect("write dts");
    let out = child.wait_with_output().expect("dtc runs");
    assert!(
        out.status.success(),
        "dtc failed: {}\n{dts}",
        std::string::String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The qemu-virt board the fixtures are written for.
pub(crate) fn qemu_virt() -> Board {
    let mut b = Board {
        name: "qemu-virt".try_into().expect("fits"),
        max_intid: Some(287),
        ..Board::default()
    };
    for mpidr in 0..4 {
        b.cpus.push(mpidr).expect("fits");
    }
    b.ram
        .push(Range::new(0x4000_0000, 0x8000_0000))
        .expect("fits");
    b.reserved
        .push(Reserved {
            range: Range::new(0x4000_0000, 0x0400_0000),
            why: "hypervisor image and bundle",
        })
        .expect("fits");
    b.reserved
        .push(Reserved {
            range: Range::new(0x4800_0000, 0x0020_0000),
            why: "host device tree",
        })
        .expect("fits");
    b.host_devices
        .push(HostDevice {
            range: Range::new(0x0900_0000, 0x1000),
            what: "console UART",
        })
        .expect("fits");
    b.host_devices
        .push(HostDevice {
            range: Range::new(0x0800_0000, 0x0100_0000),
            what: "GIC",
        })
        .expect("fits");
    b
}

/// Image sizes for tests: every file exists and is 64 KiB, except names
/// starting with `missing`.
pub(crate) fn image_size(file: &str) -> Option<u64> {
    if file.starts_with("missing") {
        None
    } else {
        Some(0x1_0000)
    }
}

/// Where the structure block is in a blob.
pub(crate) struct HeaderInfo {
    pub(crate) struct_off: usize,
    pub(crate) struct_len: usize,
}

/// Builds flattened device trees token by token, including malformed ones
/// `dtc` would never produce.
#[derive(Default)]
pub(crate) struct FdtBuilder {
    structs: Vec<u8>,
    strings: Vec<u8>,
}

impl FdtBuilder {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn token(mut self, t: u32) -> Self {
        self.structs.extend_from_slice(&t.to_be_bytes());
        self
    }

    fn pad(&mut self) {
        while !self.structs.len().is_multiple_of(4) {
            self.structs.push(0);
        }
    }

    pub(crate) fn begin(mut self, name: &str) -> Self {
        self = self.token(1);
        self.structs.extend_from_slice(name.as_bytes());
        self.structs.push(0);
        self.pad();
        self
    }

    pub(crate) fn end(self) -> Self {
        self.token(2)
    }

    pub(crate) fn nop(self) -> Self {
        self.token(4)
    }

    pub(crate) fn prop(mut self, name: &str, value: &[u8]) -> Self {
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(name.as_bytes());
        self.strings.push(0);
        self.prop_raw_name(off, value)
    }

    pub(crate) fn prop_str(self, name: &str, value: &str) -> Self {
        let mut v = value.as_bytes().to_vec();
        v.push(0);
        self.prop(name, &v)
    }

    pub(crate) fn prop_cells(self, name: &str, cells: &[u32]) -> Self {
        let v: Vec<u8> = cells.iter().flat_map(|c| c.to_be_bytes()).collect();
        self.prop(name, &v)
    }

    pub(crate) fn prop_raw_name(mut self, name_off: u32, value: &[u8]) -> Self {
        self = self.token(3);
        self.structs
            .extend_from_slice(&(value.len() as u32).to_be_bytes());
        self.structs.extend_from_slice(&name_off.to_be_bytes());
        self.structs.extend_from_slice(value);
        self.pad();
        self
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        let this = self.token(9);
        let rsv_off = 40u32;
        let struct_off = rsv_off + 16;
        let strings_off = struct_off + this.structs.len() as u32;
        let total = strings_off + this.strings.len() as u32;
        let mut out = Vec::new();
        for v in [
            0xd00d_feed,
            total,
            struct_off,
            strings_off,
            rsv_off,
            17,
            16,
            0,
            this.strings.len() as u32,
            this.structs.len() as u32,
        ] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out.extend_from_slice(&[0; 16]);
        out.extend_from_slice(&this.structs);
        out.extend_from_slice(&this.strings);
        out
    }

    pub(crate) fn parse_header(dtb: &[u8]) -> HeaderInfo {
        let field =
            |at: usize| u32::from_be_bytes(dtb[at..at + 4].try_into().expect("4 bytes")) as usize;
        HeaderInfo {
            struct_off: field(8),
            struct_len: field(36),
        }
    }
}

/// A configuration for qemu-virt holding the given partition nodes.
pub(crate) fn config_dts(partitions: &str) -> std::string::String {
    std::format!(
        "/dts-v1/;\n/ {{\n compatible = \"bulkhead,config\";\n board = \"qemu-virt\";\n \
         partitions {{\n  #address-cells = <2>; #size-cells = <2>;\n{partitions}\n }};\n}};\n"
    )
}

/// A configuration for qemu-virt holding the given partition nodes and a
/// `/channels` node holding the given channel nodes.
pub(crate) fn config_with_channels(partitions: &str, channels: &str) -> std::string::String {
    config_dts(partitions).replace(
        "\n};\n",
        &std::format!("\n channels {{\n{channels}\n }};\n}};\n"),
    )
}

/// A valid partition: CPUs 0 and 1, 256 MiB at IPA 0x4000_0000, a kernel.
pub(crate) const LINUX: &str = r#"
  linux {
   #address-cells = <2>; #size-cells = <2>;
   cpus = <0x0 0x1>;
   memory@40000000 { reg = <0x0 0x40000000 0x0 0x10000000>; };
   kernel { file = "test-guest.bin"; load = <0x0 0x40080000>; };
  };"#;

/// A second valid partition: CPU 2, 4 MiB at IPA 0, a kernel at 0.
pub(crate) const RTOS: &str = r#"
  rtos {
   #address-cells = <2>; #size-cells = <2>;
   cpus = <0x2>;
   memory@0 { reg = <0x0 0x0 0x0 0x00400000>; };
   kernel { file = "rtos.bin"; load = <0x0 0x0>; };
  };"#;

/// A partition with `body` (properties and nodes) and nothing else.
pub(crate) fn partition(name: &str, body: &str) -> std::string::String {
    std::format!("  {name} {{ #address-cells = <2>; #size-cells = <2>; {body} }};\n")
}

/// Compiles and parses a configuration, panicking on a parse error.
pub(crate) fn with_parsed<R>(dts: &str, f: impl FnOnce(&crate::Config<'_>) -> R) -> R {
    let dtb = compile(dts);
    let result = match crate::Config::parse(&dtb) {
        Ok(config) => f(&config),
        Err(e) => panic!("unexpected parse error: {e}\n{dts}"),
    };
    result
}

/// Compiles a configuration and returns its parse error, panicking if it
/// parses.
pub(crate) fn parse_error(dts: &str) -> crate::ConfigError {
    let dtb = compile(dts);
    let result = match crate::Config::parse(&dtb) {
        Ok(config) => panic!("parsed, expected an error: {config:?}"),
        Err(e) => e,
    };
    result
}

/// Compiles, parses and validates a configuration against qemu-virt.
pub(crate) fn validation_errors(dts: &str) -> Vec<crate::ConfigError> {
    with_parsed(dts, |config| {
        crate::validate(config, &qemu_virt(), &image_size)
            .into_iter()
            .collect()
    })
}

/// The messages of `errors`, one per line, for assertion output.
pub(crate) fn messages(errors: &[crate::ConfigError]) -> std::string::String {
    errors.iter().map(|e| std::format!("{e}\n")).collect()
}
