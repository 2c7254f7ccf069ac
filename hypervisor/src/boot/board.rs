//! The board as the host device tree describes it: what the configuration is validated against
//! again at boot, the same way `cargo xtask build` validated it against the board it knew.

use bulkhead_config::board::{Board, HostDevice, Reserved};
use bulkhead_config::range::Range;

use crate::host_dt::{Gic, HostInfo};

/// The board `host` describes, named `name`, with the hypervisor's own memory `hyp` and the
/// host device tree `dtb` reserved. The host's console, watchdog, RNG and GIC are host devices,
/// which no partition may be given.
pub fn board_from_host(name: &str, host: &HostInfo<'_>, hyp: Range, dtb: Range) -> Board {
    let mut board = Board::default();
    let _ = board.name.push_str(name);
    for &mpidr in &host.cpus {
        let _ = board.cpus.push(mpidr);
    }
    for &ram in &host.ram {
        let _ = board.ram.push(ram);
    }
    let _ = board.reserved.push(Reserved {
        range: hyp,
        why: "hypervisor image and bundle",
    });
    let _ = board.reserved.push(Reserved {
        range: dtb,
        why: "host device tree",
    });
    for range in &host.reserved {
        let _ = board.reserved.push(Reserved {
            range: *range,
            why: "reserved by firmware",
        });
    }
    let mut host_device = |range: Option<Range>, what: &'static str| {
        if let Some(range) = range {
            let _ = board.host_devices.push(HostDevice { range, what });
        }
    };
    host_device(host.uart.map(|(_, range)| range), "console UART");
    host_device(host.pm_watchdog, "power-management watchdog");
    host_device(host.rng200, "hardware RNG, the RNG200");
    host_device(host.smmu, "SMMU");
    board.smmu = host.smmu;
    match host.gic {
        Some(Gic::V3 {
            distributor,
            redistributors,
        }) => {
            host_device(Some(distributor), "GIC distributor");
            host_device(Some(redistributors), "GIC redistributors");
        }
        Some(Gic::V2 {
            distributor,
            cpu,
            hyp,
            vcpu,
        }) => {
            host_device(Some(distributor), "GIC distributor");
            host_device(Some(cpu), "GIC CPU interface");
            host_device(hyp, "GIC hypervisor interface");
            host_device(vcpu, "GIC virtual CPU interface");
        }
        None => {}
    }
    board
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host_dt::HostInfo;

    const VIRT_GICV2: &[u8] = include_bytes!("../../tests/fixtures/qemu-virt-gicv2.dtb");
    const RPI4: &[u8] = include_bytes!("../../tests/fixtures/bcm2711-rpi-4-b.dtb");

    fn whats(board: &Board) -> std::vec::Vec<&'static str> {
        board.host_devices.iter().map(|d| d.what).collect()
    }

    #[test]
    fn the_hypervisor_and_the_device_tree_are_reserved_on_the_host_board() {
        let host = HostInfo::parse(VIRT_GICV2).unwrap();
        let hyp = Range::new(0x4000_0000, 0x40_0000);
        let dtb = Range::new(0x4800_0000, 0x10_0000);
        let board = board_from_host("qemu-virt", &host, hyp, dtb);
        assert_eq!(board.name.as_str(), "qemu-virt");
        assert_eq!(board.cpus.as_slice(), host.cpus.as_slice());
        assert_eq!(board.ram.as_slice(), host.ram.as_slice());
        assert_eq!(board.reserved[0].range, hyp);
        assert_eq!(board.reserved[1].range, dtb);
        assert_eq!(
            whats(&board),
            [
                "console UART",
                "GIC distributor",
                "GIC CPU interface",
                "GIC hypervisor interface",
                "GIC virtual CPU interface"
            ]
        );
    }

    #[test]
    fn the_pis_firmware_memory_watchdog_and_rng_are_off_limits() {
        let host = HostInfo::parse(RPI4).unwrap();
        let board = board_from_host("rpi4", &host, Range::new(0, 0), Range::new(0, 0));
        assert!(board
            .reserved
            .iter()
            .any(|r| r.range == Range::new(0, 0x1000) && r.why == "reserved by firmware"));
        let whats = whats(&board);
        assert!(whats.contains(&"power-management watchdog"));
        assert!(whats.contains(&"hardware RNG, the RNG200"));
        assert!(whats.contains(&"GIC virtual CPU interface"));
    }
}
