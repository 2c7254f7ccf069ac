//! Boot-time checks of a partition's device tree (issue 11, point 7): the blob a partition's
//! `dtb` names must be a valid DTB and describe what a kernel needs to boot in it: `/chosen`,
//! a memory node with a `reg`, a `/cpus` node with at least one `cpu` (and no more than the
//! partition has vCPUs), and, for a Linux kernel (an arm64 `Image`, by its header's magic), an
//! interrupt controller (bare-metal guests may poll). A tree that fails is rejected by
//! `check-config` and `build`, naming the partition and the file, before anything boots it.
//!
//! Read with the `fdt` crate (the same reader the derived trees use).

use fdt::Fdt;

/// The arm64 Linux `Image` header's magic, "ARM\x64", at offset 0x38 (Documentation/arch/arm64/
/// booting.rst).
const IMAGE_MAGIC: &[u8; 4] = b"ARM\x64";

/// Whether `kernel` is an arm64 Linux `Image`.
pub fn is_linux_image(kernel: &[u8]) -> bool {
    kernel.get(0x38..0x3c) == Some(IMAGE_MAGIC.as_slice())
}

/// What is wrong with `blob` as the device tree of a partition with `vcpus` vCPUs, if anything
/// (`linux`: its kernel is a Linux `Image`).
pub fn problems(blob: &[u8], vcpus: usize, linux: bool) -> Vec<String> {
    let fdt = match Fdt::new(blob) {
        Ok(fdt) => fdt,
        Err(e) => return vec![format!("not a valid device tree blob ({e:?})")],
    };
    let mut problems = Vec::new();
    if fdt.find_node("/chosen").is_none() {
        problems.push("has no /chosen node (boot arguments, console)".to_string());
    }
    let memory = fdt.all_nodes().any(|node| {
        let is_memory = node
            .property("device_type")
            .and_then(|p| p.as_str())
            .is_some_and(|t| t == "memory");
        is_memory && node.reg().is_some_and(|mut reg| reg.next().is_some())
    });
    if !memory {
        problems.push("has no memory node (device_type = \"memory\" with a reg)".to_string());
    }
    match fdt.find_node("/cpus") {
        None => problems.push("has no /cpus node".to_string()),
        Some(cpus) => {
            let count = cpus
                .children()
                .filter(|c| {
                    c.property("device_type")
                        .and_then(|p| p.as_str())
                        .is_some_and(|t| t == "cpu")
                })
                .count();
            if count == 0 {
                problems.push("has no cpu node under /cpus".to_string());
            } else if count > vcpus {
                problems.push(format!(
                    "describes {count} CPUs but the partition has {vcpus} vCPU(s)"
                ));
            }
        }
    }
    if linux
        && !fdt
            .all_nodes()
            .any(|node| node.property("interrupt-controller").is_some())
    {
        problems
            .push("has no interrupt controller (a node with `interrupt-controller`)".to_string());
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(source: &str) -> Vec<u8> {
        let dir = std::env::temp_dir().join(format!("bulkhead-dtcheck-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}.dts", source.len()));
        std::fs::write(&path, source).unwrap();
        crate::check_config::compile_dts(&path).unwrap()
    }

    const GOOD: &str = r#"/dts-v1/;
/ {
    #address-cells = <2>; #size-cells = <2>;
    chosen { bootargs = ""; };
    memory@40000000 { device_type = "memory"; reg = <0 0x40000000 0 0x1000000>; };
    cpus { #address-cells = <1>; #size-cells = <0>;
        cpu@0 { device_type = "cpu"; reg = <0>; };
        cpu@1 { device_type = "cpu"; reg = <1>; };
    };
    gic: intc@8000000 { interrupt-controller; #interrupt-cells = <3>; reg = <0 0x8000000 0 0x10000>; };
};
"#;

    #[test]
    fn a_complete_tree_passes_and_garbage_is_not_a_tree() {
        assert!(problems(&compile(GOOD), 2, true).is_empty());
        let mut image = vec![0u8; 64];
        image[0x38..0x3c].copy_from_slice(b"ARM\x64");
        assert!(is_linux_image(&image) && !is_linux_image(&[0; 64]));
        assert_eq!(problems(b"not a device tree at all", 1, false).len(), 1);
        assert!(problems(b"not a device tree at all", 1, false)[0]
            .starts_with("not a valid device tree"));
    }

    #[test]
    fn each_missing_part_is_named() {
        let without = |what: &str| compile(&GOOD.replace(what, ""));
        let p = problems(&without("chosen { bootargs = \"\"; };"), 2, true);
        assert!(p.iter().any(|p| p.contains("/chosen")), "{p:?}");
        let p = problems(&without("device_type = \"memory\";"), 2, true);
        assert!(p.iter().any(|p| p.contains("memory node")), "{p:?}");
        let p = problems(&without("interrupt-controller;"), 2, true);
        assert!(
            p.iter().any(|p| p.contains("interrupt controller")),
            "{p:?}"
        );
        assert!(problems(&without("interrupt-controller;"), 2, false).is_empty());
        let p = problems(&compile(GOOD), 1, false);
        assert_eq!(p, ["describes 2 CPUs but the partition has 1 vCPU(s)"]);
    }
}
