//! What the hypervisor learns from the host device tree the boot loader passed in x0.
//!
//! Nothing the device tree says is hard-coded: RAM, CPUs, the GIC, the console UART and the
//! PSCI conduit all come from here.

use bulkhead_config::range::Range;
use fdt::Fdt;
use heapless::Vec;

/// Which GIC the board has, with its register frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gic {
    /// GICv2 (GIC-400): distributor, CPU interface, hypervisor control and vCPU interface.
    V2 {
        distributor: Range,
        cpu: Range,
        hyp: Option<Range>,
        vcpu: Option<Range>,
    },
    /// GICv3: distributor and redistributor region.
    V3 {
        distributor: Range,
        redistributors: Range,
    },
}

impl Gic {
    /// The architecture version (2 or 3).
    pub fn version(&self) -> u8 {
        match self {
            Gic::V2 { .. } => 2,
            Gic::V3 { .. } => 3,
        }
    }
}

/// How the firmware's PSCI is called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PsciConduit {
    /// `smc #0`.
    Smc,
    /// `hvc #0` (only meaningful below a higher hypervisor; not used at EL2).
    Hvc,
}

/// A UART the hypervisor can print on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UartKind {
    /// Arm PL011.
    Pl011,
}

/// The host facts Bulkhead needs.
#[derive(Clone, Debug)]
pub struct HostInfo<'a> {
    /// The root node's `model` (or first `compatible`).
    pub model: &'a str,
    /// RAM ranges.
    pub ram: Vec<Range, 8>,
    /// Ranges reserved by `/memreserve/` and `/reserved-memory`.
    pub reserved: Vec<Range, 16>,
    /// CPUs by MPIDR affinity (`reg` of each `/cpus/cpu@*`).
    pub cpus: Vec<u64, { crate::MAX_CPUS }>,
    /// The interrupt controller.
    pub gic: Option<Gic>,
    /// The console: `/chosen/stdout-path`, else the first PL011.
    pub uart: Option<(UartKind, Range)>,
    /// The PSCI conduit, if the firmware has PSCI.
    pub psci: Option<PsciConduit>,
    /// The device tree's own size in bytes.
    pub size: usize,
}

/// Why the host device tree could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostDtError {
    /// x0 does not point at a valid flattened device tree.
    Invalid,
}

fn first_reg(node: &fdt::node::FdtNode<'_, '_>, index: usize) -> Option<Range> {
    let region = node.reg()?.nth(index)?;
    Some(Range {
        start: region.starting_address as u64,
        size: region.size? as u64,
    })
}

impl<'a> HostInfo<'a> {
    /// Parses the host device tree.
    pub fn parse(blob: &'a [u8]) -> Result<Self, HostDtError> {
        let fdt = Fdt::new(blob).map_err(|_| HostDtError::Invalid)?;
        let root = fdt.root();
        let model = root
            .property("model")
            .and_then(|p| p.as_str())
            .or_else(|| Some(root.compatible().first()))
            .unwrap_or("unknown board");
        // The strings live in `blob`; re-borrow them with its lifetime.
        let model = str_in_blob(blob, model).unwrap_or("unknown board");

        let mut ram = Vec::new();
        for node in fdt
            .all_nodes()
            .filter(|n| n.name == "memory" || n.name.starts_with("memory@"))
        {
            if node.property("device_type").and_then(|p| p.as_str()) != Some("memory") {
                continue;
            }
            for region in node.reg().into_iter().flatten() {
                if let Some(size) = region.size.filter(|&s| s > 0) {
                    let _ = ram.push(Range {
                        start: region.starting_address as u64,
                        size: size as u64,
                    });
                }
            }
        }

        let mut reserved = Vec::new();
        for reservation in fdt.memory_reservations() {
            let _ = reserved.push(Range {
                start: reservation.address() as u64,
                size: reservation.size() as u64,
            });
        }
        if let Some(node) = fdt.find_node("/reserved-memory") {
            for child in node.children() {
                if let Some(range) = first_reg(&child, 0) {
                    let _ = reserved.push(range);
                }
            }
        }

        let mut cpus = Vec::new();
        for cpu in fdt.cpus() {
            let _ = cpus.push(cpu.ids().first() as u64);
        }

        let gic = if let Some(node) = fdt.find_compatible(&["arm,gic-v3"]) {
            match (first_reg(&node, 0), first_reg(&node, 1)) {
                (Some(distributor), Some(redistributors)) => Some(Gic::V3 {
                    distributor,
                    redistributors,
                }),
                _ => None,
            }
        } else if let Some(node) = fdt.find_compatible(&["arm,gic-400", "arm,cortex-a15-gic"]) {
            match (first_reg(&node, 0), first_reg(&node, 1)) {
                (Some(distributor), Some(cpu)) => Some(Gic::V2 {
                    distributor,
                    cpu,
                    hyp: first_reg(&node, 2),
                    vcpu: first_reg(&node, 3),
                }),
                _ => None,
            }
        } else {
            None
        };

        let is_pl011 = |node: &fdt::node::FdtNode<'_, '_>| {
            node.compatible()
                .is_some_and(|c| c.all().any(|s| s == "arm,pl011"))
        };
        let uart = fdt
            .chosen()
            .stdout()
            .filter(is_pl011)
            .or_else(|| fdt.find_compatible(&["arm,pl011"]))
            .and_then(|node| first_reg(&node, 0))
            .map(|range| (UartKind::Pl011, range));

        let psci = fdt.find_node("/psci").and_then(|node| {
            match node.property("method").and_then(|p| p.as_str()) {
                Some("smc") => Some(PsciConduit::Smc),
                Some("hvc") => Some(PsciConduit::Hvc),
                _ => None,
            }
        });

        Ok(HostInfo {
            model,
            ram,
            reserved,
            cpus,
            gic,
            uart,
            psci,
            size: fdt.total_size(),
        })
    }

    /// Total RAM in bytes.
    pub fn ram_bytes(&self) -> u64 {
        self.ram.iter().map(|r| r.size).sum()
    }
}

/// Finds `s` (a slice of `blob`) again as a `&'a str` borrowed from `blob`.
fn str_in_blob<'a>(blob: &'a [u8], s: &str) -> Option<&'a str> {
    let start = (s.as_ptr() as usize).checked_sub(blob.as_ptr() as usize)?;
    let bytes = blob.get(start..start.checked_add(s.len())?)?;
    core::str::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const VIRT_GICV3: &[u8] = include_bytes!("../tests/fixtures/qemu-virt-gicv3.dtb");
    const VIRT_GICV2: &[u8] = include_bytes!("../tests/fixtures/qemu-virt-gicv2.dtb");

    #[test]
    fn qemu_virt_gicv3_facts_are_read_from_the_tree() {
        let info = HostInfo::parse(VIRT_GICV3).unwrap();
        assert_eq!(
            info.ram.as_slice(),
            &[Range {
                start: 0x4000_0000,
                size: 2 << 30
            }]
        );
        assert_eq!(info.cpus.as_slice(), &[0, 1, 2, 3]);
        assert_eq!(
            info.gic,
            Some(Gic::V3 {
                distributor: Range {
                    start: 0x0800_0000,
                    size: 0x1_0000
                },
                redistributors: Range {
                    start: 0x080a_0000,
                    size: 0xf6_0000
                },
            })
        );
        assert_eq!(
            info.uart,
            Some((
                UartKind::Pl011,
                Range {
                    start: 0x0900_0000,
                    size: 0x1000
                }
            ))
        );
        assert_eq!(info.psci, Some(PsciConduit::Smc));
    }

    #[test]
    fn qemu_virt_gicv2_has_the_virtualization_frames() {
        let info = HostInfo::parse(VIRT_GICV2).unwrap();
        match info.gic {
            Some(Gic::V2 {
                distributor,
                cpu,
                hyp: Some(hyp),
                vcpu: Some(vcpu),
            }) => {
                assert_eq!(distributor.start, 0x0800_0000);
                assert_eq!(cpu.start, 0x0801_0000);
                assert_eq!(hyp.start, 0x0803_0000);
                assert_eq!(vcpu.start, 0x0804_0000);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn garbage_is_rejected() {
        assert_eq!(
            HostInfo::parse(&[0u8; 64]).err(),
            Some(HostDtError::Invalid)
        );
    }
}
