//! DMA masters and direct-mapped partitions at build time (docs/configuration.md, "DMA").
//!
//! The configuration crate recognises a DMA master by its node's `dma-master` or
//! `compatible`; here a device whose configuration node says neither is also recognised by the
//! partition's own device tree: a node there, at the device's addresses, whose `compatible` is
//! a known DMA master's ([`bulkhead_config::dma::KNOWN_DMA_MASTERS`]). A direct-mapped
//! partition's device tree must describe its memory where direct-map puts it (PA = IPA).
//! Devices allowed unprotected DMA get the one-line warning the hypervisor also prints at boot.

use bulkhead_config::dma::{known_in, unprotected};
use bulkhead_config::model::{Config, DmaMaster, PartitionConfig};
use fdt::Fdt;
use std::collections::BTreeMap;

/// The `(start, size)` of every `reg` entry of a node (addresses as its parent's cells say).
fn regs(node: &fdt::node::FdtNode<'_, '_>) -> Vec<(u64, u64)> {
    node.reg()
        .map(|reg| {
            reg.map(|r| (r.starting_address as u64, r.size.unwrap_or(0) as u64))
                .collect()
        })
        .unwrap_or_default()
}

/// Marks each device of `config` that nothing marks a DMA master yet as one when its
/// partition's device tree (`files`, by the partition's `dtb`) has a node of a known DMA
/// master's `compatible` whose registers lie in the device's IPA range.
pub fn mark_known_masters(config: &mut Config<'_>, files: &BTreeMap<String, Vec<u8>>) {
    for partition in config.partitions.iter_mut() {
        let Some(blob) = partition.dtb.and_then(|dtb| files.get(dtb.file)) else {
            continue;
        };
        let Ok(fdt) = Fdt::new(blob) else { continue };
        for device in partition.devices.iter_mut() {
            if device.is_dma_master() {
                continue;
            }
            let range = device.ipa_range();
            let found = fdt.all_nodes().find_map(|node| {
                let known = known_in(node.compatible()?.all())?;
                let inside = regs(&node)
                    .iter()
                    .any(|&(start, _)| range.contains_addr(start));
                inside.then_some(known)
            });
            if let Some(known) = found {
                device.dma = DmaMaster::Known(known);
            }
        }
    }
}

/// The warning lines of a valid configuration: one per device allowed unprotected DMA.
pub fn warnings(config: &Config<'_>) -> Vec<String> {
    unprotected(config).map(|w| w.to_string()).collect()
}

/// What is wrong with the memory nodes of a direct-mapped partition's device tree `blob`: each
/// must lie inside the partition's memory, which sits at PA = IPA.
pub fn direct_map_memory_problems(blob: &[u8], partition: &PartitionConfig<'_>) -> Vec<String> {
    if !partition.direct_map {
        return Vec::new();
    }
    let Ok(fdt) = Fdt::new(blob) else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    for node in fdt.all_nodes() {
        let is_memory = node
            .property("device_type")
            .and_then(|p| p.as_str())
            .is_some_and(|t| t == "memory");
        if !is_memory {
            continue;
        }
        for (start, size) in regs(&node) {
            let inside = partition.memory.iter().any(|region| {
                let r = bulkhead_config::Range::new(start, size);
                region.ipa.contains(&r)
            });
            if !inside {
                problems.push(format!(
                    "describes memory at [{start:#x}, {:#x}) ({}), outside the partition's \
                     direct-mapped memory (PA = IPA: {}); describe the memory the configuration \
                     gives it",
                    start.saturating_add(size),
                    node.name,
                    partition
                        .memory
                        .iter()
                        .map(|r| r.ipa.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"/dts-v1/;
/ { compatible = "bulkhead,config"; board = "qemu-virt";
  partitions { #address-cells = <2>; #size-cells = <2>;
    linux { #address-cells = <2>; #size-cells = <2>; cpus = <0>; direct-map;
      memory@80000000 { reg = <0 0x80000000 0 0x1000000>; };
      kernel { file = "k"; load = <0 0x80000000>; };
      dtb { file = "guest.dtb"; load = <0 0x80f00000>; };
      device@a003000 { reg = <0 0x0a003000 0 0x1000>; interrupts = <79>; };
      device@9040000 { reg = <0 0x09040000 0 0x1000>; interrupts = <40>; };
    };
  };
};"#;

    const GUEST: &str = r#"/dts-v1/;
/ { #address-cells = <2>; #size-cells = <2>;
  memory@40000000 { device_type = "memory"; reg = <0 0x40000000 0 0x1000000>; };
  virtio_mmio@a003e00 { compatible = "virtio,mmio"; reg = <0 0x0a003e00 0 0x200>; };
  pl011@9040000 { compatible = "arm,pl011", "arm,primecell"; reg = <0 0x09040000 0 0x1000>; };
};"#;

    fn compile(name: &str, source: &str) -> Vec<u8> {
        let dir = std::env::temp_dir().join(format!("bulkhead-dma-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, source).unwrap();
        crate::check_config::compile_dts(&path).unwrap()
    }

    #[test]
    fn a_device_is_a_known_dma_master_by_its_guest_device_tree_node() {
        let dtb = compile("config.dts", CONFIG);
        let mut config = Config::parse(&dtb).unwrap();
        let files = BTreeMap::from([("guest.dtb".to_string(), compile("guest.dts", GUEST))]);
        mark_known_masters(&mut config, &files);
        let devices = &config.partitions[0].devices;
        assert_eq!(devices[0].dma, DmaMaster::Known("virtio,mmio"));
        assert_eq!(devices[1].dma, DmaMaster::No, "a PL011 is no DMA master");
    }

    #[test]
    fn a_direct_mapped_tree_must_describe_memory_at_the_physical_addresses() {
        let dtb = compile("config.dts", CONFIG);
        let config = Config::parse(&dtb).unwrap();
        let partition = &config.partitions[0];
        let wrong = direct_map_memory_problems(&compile("guest.dts", GUEST), partition);
        assert_eq!(wrong.len(), 1, "{wrong:?}");
        assert!(wrong[0].contains("[0x40000000, 0x41000000)"), "{wrong:?}");
        let right = GUEST.replace(
            "memory@40000000 { device_type = \"memory\"; reg = <0 0x40000000",
            "memory@80000000 { device_type = \"memory\"; reg = <0 0x80000000",
        );
        assert!(direct_map_memory_problems(&compile("right.dts", &right), partition).is_empty());
    }
}
