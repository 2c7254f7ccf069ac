//! Checking a partition's DMA masters: each is behind the SMMU the hypervisor drives (with
//! stream IDs no other device has), or in a direct-mapped partition and marked
//! `unprotected-dma` (docs/configuration.md, "DMA").

use crate::board::Board;
use crate::error::{ConfigError, ErrorKind};
use crate::model::{DmaMaster, PartitionConfig};
use crate::report::Report;
use crate::text::bounded;

/// Checks the devices of partition `index` (`partition`); `earlier` are the partitions before
/// it in configuration order, whose stream IDs it must not reuse.
pub(super) fn check(
    index: usize,
    partition: &PartitionConfig<'_>,
    earlier: &[PartitionConfig<'_>],
    board: &Board,
    report: &mut Report,
) {
    for (i, device) in partition.devices.iter().enumerate() {
        let error = |kind| {
            ConfigError::at(
                Some(index),
                &["partitions", partition.name, device.node],
                kind,
            )
        };
        let has_ids = !device.stream_ids.is_empty();
        if device.unprotected_dma && has_ids {
            report.push(error(ErrorKind::UnprotectedDmaWithStreamIds));
        } else if device.unprotected_dma && !partition.direct_map {
            report.push(error(ErrorKind::UnprotectedDmaNotDirectMapped));
        } else if has_ids && board.smmu.is_none() {
            report.push(error(ErrorKind::NoSmmu));
        } else if !device.unprotected_dma && !has_ids && device.dma != DmaMaster::No {
            let what = match device.dma {
                DmaMaster::Known(compatible) => compatible,
                _ => "marked `dma-master`",
            };
            report.push(error(ErrorKind::DmaUnprotected { what }));
        }
        let before = partition.devices.get(..i).unwrap_or_default();
        let others = earlier
            .iter()
            .flat_map(|p| p.devices.iter().map(move |d| (p.name, d)))
            .chain(before.iter().map(|d| (partition.name, d)));
        for (j, &id) in device.stream_ids.iter().enumerate() {
            let twice_here = device.stream_ids.get(..j).unwrap_or_default().contains(&id);
            let owner = others
                .clone()
                .find(|(_, d)| d.stream_ids.contains(&id))
                .or(twice_here.then_some((partition.name, device)));
            if let Some((owner, other)) = owner {
                report.push(error(ErrorKind::StreamIdTwice {
                    id,
                    partition: bounded(owner),
                    device: bounded(other.node),
                }));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use crate::error::ErrorKind;
    use crate::model::DmaMaster;
    use crate::range::Range;
    use crate::test_support::{
        config_dts, messages, partition, qemu_virt, validation_errors, with_parsed, LINUX,
    };

    /// A direct-mapped (`direct`) partition `dm` at 0x8000_0000 with one device of `props`.
    fn with_device(direct: bool, props: &str) -> std::string::String {
        let flag = if direct { "direct-map;" } else { "" };
        let body = std::format!(
            "cpus = <0x2>; {flag}
             memory@80000000 {{ reg = <0x0 0x80000000 0x0 0x01000000>; }};
             kernel {{ file = \"test-guest.bin\"; load = <0x0 0x80000000>; }};
             device@a003000 {{ reg = <0x0 0x0a003000 0x0 0x1000>; interrupts = <79>; {props} }};"
        );
        config_dts(&std::format!("{LINUX}{}", partition("dm", &body)))
    }

    fn kinds(dts: &str) -> std::vec::Vec<ErrorKind> {
        validation_errors(dts).into_iter().map(|e| e.kind).collect()
    }

    #[test]
    fn a_known_compatible_or_dma_master_marks_a_device() {
        with_parsed(&with_device(false, "compatible = \"virtio,mmio\";"), |c| {
            let device = &c.partitions[1].devices[0];
            assert_eq!(device.dma, DmaMaster::Known("virtio,mmio"));
            assert!(device.is_dma_master());
        });
        with_parsed(&with_device(false, "dma-master;"), |c| {
            assert_eq!(c.partitions[1].devices[0].dma, DmaMaster::Marked);
        });
        with_parsed(&with_device(false, "compatible = \"arm,pl011\";"), |c| {
            assert!(!c.partitions[1].devices[0].is_dma_master());
        });
    }

    #[test]
    fn a_dma_master_with_no_protection_is_refused() {
        let errors = validation_errors(&with_device(true, "compatible = \"virtio,mmio\";"));
        assert_eq!(errors.len(), 1, "{}", messages(&errors));
        assert_eq!(errors[0].node.as_str(), "/partitions/dm/device@a003000");
        assert_eq!(
            errors[0].kind,
            ErrorKind::DmaUnprotected {
                what: "virtio,mmio"
            }
        );
        assert_eq!(
            kinds(&with_device(false, "dma-master;")),
            [ErrorKind::DmaUnprotected {
                what: "marked `dma-master`"
            }]
        );
    }

    #[test]
    fn unprotected_dma_needs_a_direct_mapped_partition() {
        let marked = "compatible = \"virtio,mmio\"; unprotected-dma;";
        assert!(kinds(&with_device(true, marked)).is_empty());
        assert_eq!(
            kinds(&with_device(false, marked)),
            [ErrorKind::UnprotectedDmaNotDirectMapped]
        );
    }

    #[test]
    fn stream_ids_need_the_smmu_and_no_unprotected_dma() {
        let ids = "dma-master; stream-ids = <8>;";
        assert_eq!(kinds(&with_device(false, ids)), [ErrorKind::NoSmmu]);
        with_parsed(&with_device(false, ids), |c| {
            let mut board = qemu_virt();
            board.smmu = Some(Range::new(0x0905_0000, 0x2_0000));
            let errors = crate::validate(c, &board, &crate::test_support::image_size);
            assert!(errors.is_empty(), "{}", messages(&errors));
        });
        assert_eq!(
            kinds(&with_device(true, "stream-ids = <8>; unprotected-dma;")),
            [ErrorKind::UnprotectedDmaWithStreamIds]
        );
    }

    #[test]
    fn a_stream_id_given_twice_names_the_first_owner() {
        let other = partition(
            "pci",
            "cpus = <0x3>;
             memory@40000000 { reg = <0x0 0x40000000 0x0 0x01000000>; };
             kernel { file = \"test-guest.bin\"; load = <0x0 0x40000000>; };
             device@10000000 { reg = <0x0 0x10000000 0x0 0x1000>; stream-ids = <8 9>; };",
        );
        let dts = config_dts(&std::format!(
            "{other}{}",
            partition(
                "dm",
                "cpus = <0x2>;
                 memory@40000000 { reg = <0x0 0x40000000 0x0 0x01000000>; };
                 kernel { file = \"test-guest.bin\"; load = <0x0 0x40000000>; };
                 device@20000000 { reg = <0x0 0x20000000 0x0 0x1000>; stream-ids = <7 9 7>; };"
            )
        ));
        with_parsed(&dts, |c| {
            let mut board = qemu_virt();
            board.smmu = Some(Range::new(0x0905_0000, 0x2_0000));
            let errors = crate::validate(c, &board, &crate::test_support::image_size);
            let twice: std::vec::Vec<_> = errors
                .iter()
                .filter_map(|e| match &e.kind {
                    ErrorKind::StreamIdTwice {
                        id,
                        partition,
                        device,
                    } => Some((*id, partition.as_str(), device.as_str())),
                    _ => None,
                })
                .collect();
            assert_eq!(
                twice,
                [(9, "pci", "device@10000000"), (7, "dm", "device@20000000")],
                "{}",
                messages(&errors)
            );
            assert_eq!(errors.len(), 2, "{}", messages(&errors));
        });
    }

    #[test]
    fn direct_map_puts_every_region_at_its_ipa_and_checks_it_like_fixed_memory() {
        with_parsed(&with_device(true, ""), |c| {
            let dm = &c.partitions[1];
            assert!(dm.direct_map);
            assert_eq!(dm.memory[0].phys, Some(0x8000_0000));
        });
        let at = |ipa: &str| {
            config_dts(&std::format!(
                "{LINUX}{}",
                partition(
                    "dm",
                    &std::format!(
                        "cpus = <0x2>; direct-map;
                         memory@{ipa} {{ reg = <0x0 0x{ipa} 0x0 0x01000000>; }};
                         kernel {{ file = \"test-guest.bin\"; load = <0x0 0x{ipa}>; }};"
                    )
                )
            ))
        };
        assert!(matches!(
            kinds(&at("42000000"))[..],
            [ErrorKind::DirectMapOverlapsReserved {
                why: "hypervisor image and bundle",
                ..
            }]
        ));
        assert!(matches!(
            kinds(&at("c0000000"))[..],
            [ErrorKind::DirectMapNotInRam { .. }]
        ));
        let fixed = LINUX.replace(
            "reg = <0x0 0x40000000 0x0 0x10000000>;",
            "reg = <0x0 0x40000000 0x0 0x10000000>; phys = <0x0 0x80000000>;",
        );
        let dts = config_dts(&std::format!(
            "{fixed}{}",
            partition(
                "dm",
                "cpus = <0x2>; direct-map;
                 memory@88000000 { reg = <0x0 0x88000000 0x0 0x01000000>; };
                 kernel { file = \"test-guest.bin\"; load = <0x0 0x88000000>; };"
            )
        ));
        assert!(matches!(
            kinds(&dts)[..],
            [ErrorKind::DirectMapOverlap { ref other, .. }] if other.as_str() == "linux"
        ));
    }

    #[test]
    fn a_direct_mapped_region_with_another_phys_is_a_parse_error() {
        let dts = config_dts(&partition(
            "dm",
            "cpus = <0x2>; direct-map;
             memory@80000000 { reg = <0x0 0x80000000 0x0 0x01000000>; phys = <0x0 0x90000000>; };
             kernel { file = \"test-guest.bin\"; load = <0x0 0x80000000>; };",
        ));
        let e = crate::test_support::parse_error(&dts);
        assert_eq!(e.node.as_str(), "/partitions/dm/memory@80000000");
        assert!(std::format!("{e}").contains("`direct-map`"), "{e}");
    }
}
