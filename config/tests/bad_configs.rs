//! Checks the invalid qemu-virt configurations in `device-trees/qemu-virt/bad/`:
//! each breaks exactly one rule, and the error message contains the text its
//! `/* expect: ... */` first line promises.

use bulkhead_config::board::HostDevice;
use bulkhead_config::{validate, Board, Config, ConfigError, Range, Reserved};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The qemu-virt board the fixtures are written for.
fn qemu_virt() -> Board {
    let mut b = Board {
        name: "qemu-virt".try_into().expect("fits"),
        max_intid: Some(287),
        ..Board::default()
    };
    b.cpus.extend_from_slice(&[0, 1, 2, 3]).expect("fits");
    b.ram
        .push(Range::new(0x4000_0000, 0x8000_0000))
        .expect("fits");
    let reserved = [
        (0x4000_0000, 0x0400_0000, "hypervisor image and bundle"),
        (0x4800_0000, 0x0020_0000, "host device tree"),
    ];
    for (start, size, why) in reserved {
        let range = Range::new(start, size);
        b.reserved.push(Reserved { range, why }).expect("fits");
    }
    let host_devices = [
        (0x0900_0000, 0x1000, "console UART"),
        (0x0800_0000, 0x0100_0000, "GIC"),
    ];
    for (start, size, what) in host_devices {
        let range = Range::new(start, size);
        b.host_devices
            .push(HostDevice { range, what })
            .expect("fits");
    }
    // QEMU virt with `iommu=smmuv3`: its SMMUv3 (hw/arm/virt.c VIRT_SMMU, 0x0905_0000, 128 KiB),
    // so a fixture's `stream-ids` break only the rule the fixture is about.
    b.smmu = Some(Range::new(0x0905_0000, 0x2_0000));
    b
}

/// `test-guest.bin` exists and is 64 KiB; nothing else exists.
fn image_size(file: &str) -> Option<u64> {
    (file == "test-guest.bin").then_some(0x1_0000)
}

fn compile(path: &Path) -> Vec<u8> {
    let out = Command::new("dtc")
        .args(["-q", "-I", "dts", "-O", "dtb", "-o", "-"])
        .arg(path)
        .output()
        .expect("dtc runs");
    assert!(
        out.status.success(),
        "dtc failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Parse and validation errors of a compiled configuration, as messages.
fn errors(dtb: &[u8], image_size: &dyn Fn(&str) -> Option<u64>) -> Vec<String> {
    match Config::parse(dtb) {
        Err(e) => vec![e.to_string()],
        Ok(config) => validate(&config, &qemu_virt(), image_size)
            .iter()
            .map(ConfigError::to_string)
            .collect(),
    }
}

fn bad_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../device-trees/qemu-virt/bad")
}

#[test]
fn every_bad_qemu_virt_config_fails_with_its_expected_reason() {
    let mut seen = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(bad_dir())
        .expect("bad/ exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "dts"))
        .collect();
    entries.sort();
    for path in entries {
        let text = std::fs::read_to_string(&path).expect("readable");
        let first = text.lines().next().unwrap_or_default();
        let expect = first
            .strip_prefix("/* expect: ")
            .and_then(|s| s.strip_suffix(" */"))
            .unwrap_or_else(|| panic!("{}: first line is not /* expect: ... */", path.display()));
        let messages = errors(&compile(&path), &image_size);
        assert_eq!(
            messages.len(),
            1,
            "{}: expected exactly one error, got {messages:#?}",
            path.display()
        );
        assert!(
            messages[0].contains(expect),
            "{}: {:?} does not contain {expect:?}",
            path.display(),
            messages[0]
        );
        seen.push(
            path.file_stem()
                .expect("stem")
                .to_string_lossy()
                .into_owned(),
        );
    }
    for name in [
        "memory-overlap",
        "overlaps-hypervisor",
        "cpu-twice",
        "no-such-cpu",
        "unaligned-region",
        "image-too-large",
        "entry-outside",
        "missing-image",
        "device-twice",
        "channel-unknown-partition",
        "channel-loop",
        "channel-irq-not-spi",
        "channel-irq-beyond-vgic",
        "channel-irq-device",
        "channel-irq-twice",
        "dma-unprotected",
        "direct-map-overlaps-hypervisor",
        "direct-map-overlaps-partition",
        "direct-map-not-in-ram",
        "stream-id-twice",
        "unprotected-dma-not-direct-mapped",
    ] {
        assert!(seen.iter().any(|s| s == name), "{name}.dts is missing");
    }
}

#[test]
fn documented_example_is_valid_for_qemu_virt() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/example.dts");
    let messages = errors(&compile(&example), &|_| Some(0x1_0000));
    assert!(messages.is_empty(), "{messages:#?}");
}
