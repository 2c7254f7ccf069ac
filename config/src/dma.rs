//! Devices that do DMA: which ones are known to, and the warning an unprotected one gets.
//!
//! Stage-2 translation confines a partition's CPUs, not its devices: a passthrough device that
//! reads and writes memory on its own (a DMA master) reaches every physical address unless an
//! SMMU the hypervisor drives stands in front of it. [`crate::validate()`] refuses a DMA master
//! unless it has `stream-ids` behind such an SMMU, or its partition is direct-mapped (so the
//! guest-physical addresses its driver programs are the right physical ones) and the device is
//! marked `unprotected-dma`, which [`UnprotectedDma`] then warns about (docs/configuration.md,
//! "DMA").

use crate::model::{Config, Device, DmaMaster, PartitionConfig};
use core::fmt;

/// Device-tree `compatible` strings of devices known to be DMA masters, each with what the
/// device is. Data, not code: add a line for a new one.
pub const KNOWN_DMA_MASTERS: &[(&str, &str)] = &[
    // virtio over MMIO: the device reads and writes the driver's virtqueues and buffers.
    ("virtio,mmio", "virtio-mmio transport"),
    // PCI host bridges: every function behind them can be a bus master.
    ("pci-host-ecam-generic", "PCIe host bridge"),
    ("pci-host-cam-generic", "PCI host bridge"),
    (
        "brcm,bcm2711-pcie",
        "BCM2711 PCIe root complex (VL805 xHCI behind it)",
    ),
    // Raspberry Pi 4 (BCM2711) masters: none is cache-coherent, none has an IOMMU.
    (
        "brcm,bcm2711-emmc2",
        "BCM2711 EMMC2 SD controller (SDMA/ADMA2)",
    ),
    ("brcm,bcm2711-genet-v5", "BCM2711 GENET Ethernet MAC"),
    ("brcm,bcm2835-sdhci", "BCM2835 Arasan SDHCI (EMMC)"),
    ("arasan,sdhci-5.1", "Arasan SDHCI 5.1"),
    ("arasan,sdhci-8.9a", "Arasan SDHCI 8.9a"),
    ("brcm,bcm2835-dma", "BCM2835 DMA engine"),
    ("brcm,bcm2711-dma", "BCM2711 DMA engine (DMA4 channels)"),
    ("brcm,bcm2835-usb", "BCM2835 DWC2 USB OTG controller"),
    ("snps,dwc2", "Synopsys DWC2 USB controller"),
    ("generic-xhci", "xHCI USB host controller"),
    ("arm,pl330", "Arm PL330 DMA engine"),
    ("arm,pl080", "Arm PL080 DMA engine"),
    ("arm,pl081", "Arm PL081 DMA engine"),
];

/// The known DMA master whose `compatible` string is `compatible`, as its table entry's
/// `'static` string.
pub fn known(compatible: &str) -> Option<&'static str> {
    KNOWN_DMA_MASTERS
        .iter()
        .find(|(c, _)| *c == compatible)
        .map(|(c, _)| *c)
}

/// The first known DMA master among the strings of a `compatible` string list.
pub fn known_in<'s>(compatibles: impl IntoIterator<Item = &'s str>) -> Option<&'static str> {
    compatibles.into_iter().find_map(known)
}

/// What a known DMA master's `compatible` says it is.
pub fn what(compatible: &str) -> Option<&'static str> {
    KNOWN_DMA_MASTERS
        .iter()
        .find(|(c, _)| *c == compatible)
        .map(|(_, what)| *what)
}

/// A device allowed to do DMA with nothing in front of it (`unprotected-dma`), in a
/// direct-mapped partition: displays as the one-line warning `check-config` and the
/// hypervisor's boot log print.
#[derive(Clone, Copy, Debug)]
pub struct UnprotectedDma<'c, 'a> {
    /// The partition.
    pub partition: &'c PartitionConfig<'a>,
    /// The device.
    pub device: &'c Device<'a>,
}

impl fmt::Display for UnprotectedDma<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "warning: partition \"{}\" device {} ",
            self.partition.name, self.device.node
        )?;
        if let DmaMaster::Known(compatible) = self.device.dma {
            write!(f, "({compatible}) ")?;
        }
        write!(
            f,
            "does unprotected DMA (no SMMU, direct-mapped at PA = IPA): it can read and write all \
             physical memory, the hypervisor's and every other partition's"
        )
    }
}

/// Every device marked `unprotected-dma` in a direct-mapped partition, in configuration
/// order: what [`UnprotectedDma`] warns about (validation refuses the others).
pub fn unprotected<'c, 'a>(config: &'c Config<'a>) -> impl Iterator<Item = UnprotectedDma<'c, 'a>> {
    config.partitions.iter().flat_map(|partition| {
        partition
            .devices
            .iter()
            .filter(move |d| d.unprotected_dma && partition.direct_map)
            .map(move |device| UnprotectedDma { partition, device })
    })
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn known_masters_are_found_in_a_compatible_list() {
        assert_eq!(known("virtio,mmio"), Some("virtio,mmio"));
        assert_eq!(known("arm,pl011"), None);
        assert_eq!(
            known_in(["brcm,bcm2711-foo", "brcm,bcm2711-emmc2"]),
            Some("brcm,bcm2711-emmc2")
        );
        assert_eq!(
            what("brcm,bcm2711-genet-v5"),
            Some("BCM2711 GENET Ethernet MAC")
        );
        for (compatible, what) in KNOWN_DMA_MASTERS {
            assert!(!compatible.is_empty() && !what.is_empty());
            assert_eq!(known(compatible), Some(*compatible), "listed once");
        }
    }

    #[test]
    fn the_warning_is_one_line_naming_partition_and_device() {
        let dts = r#"/dts-v1/;
/ { compatible = "bulkhead,config"; board = "qemu-virt";
  partitions { #address-cells = <2>; #size-cells = <2>;
    linux { #address-cells = <2>; #size-cells = <2>; cpus = <0>; direct-map;
      memory@80000000 { reg = <0 0x80000000 0 0x1000000>; };
      kernel { file = "k"; load = <0 0x80000000>; };
      device@a003000 { reg = <0 0x0a003000 0 0x1000>; compatible = "virtio,mmio";
                       unprotected-dma; };
    };
    other { #address-cells = <2>; #size-cells = <2>; cpus = <1>;
      memory@40000000 { reg = <0 0x40000000 0 0x1000000>; };
      kernel { file = "k"; load = <0 0x40000000>; };
    };
  };
};"#;
        let dtb = crate::test_support::compile(dts);
        let config = Config::parse(&dtb).unwrap();
        let lines: std::vec::Vec<_> = unprotected(&config).map(|w| w.to_string()).collect();
        assert_eq!(lines.len(), 1);
        assert!(!lines[0].contains('\n'));
        assert!(
            lines[0].starts_with(
                "warning: partition \"linux\" device device@a003000 (virtio,mmio) does \
                 unprotected DMA"
            ),
            "{}",
            lines[0]
        );
    }
}
