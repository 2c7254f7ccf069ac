//! Boot from the host device-tree fixtures and bundles built with the configuration crate's
//! writer, on a fake machine.

mod placement;
mod refusals;
mod start;

pub(super) use super::fake::{bundle, FakeMachine, FakeTables, DTB_PA, IMAGE_END};
pub(super) use super::*;
pub(super) use crate::host_dt::HostInfo;
pub(super) use crate::partition::PartitionState;
pub(super) use crate::system::VcpuSlot;
pub(super) use crate::vgic::distributor::GicVersion;

pub(super) const VIRT_GICV3: &[u8] = include_bytes!("../../../tests/fixtures/qemu-virt-gicv3.dtb");
pub(super) const VIRT_GICV2: &[u8] = include_bytes!("../../../tests/fixtures/qemu-virt-gicv2.dtb");
pub(super) const RPI4: &[u8] = include_bytes!("../../../tests/fixtures/bcm2711-rpi-4-b.dtb");
pub(super) const BARE_METAL: &str =
    include_str!("../../../../device-trees/qemu-virt/bare-metal.dts");
pub(super) const PASSTHROUGH: &str =
    include_str!("../../../../device-trees/qemu-virt/passthrough.dts");
pub(super) const DOORBELL: &str = include_str!("../../../../device-trees/qemu-virt/doorbell.dts");

pub(super) const MIB: u64 = 1 << 20;
pub(super) const KERNEL_SIZE: usize = 5000;
pub(super) const DTB_SIZE: usize = 300;

/// The images the qemu-virt configurations name.
pub(super) const GUEST_IMAGES: &[(&str, usize)] = &[
    ("test-guest.bin", KERNEL_SIZE),
    ("heartbeat.dtb", DTB_SIZE),
    ("passthrough-uart.dtb", DTB_SIZE),
    ("doorbell-ping.dtb", DTB_SIZE),
    ("doorbell-pong.dtb", DTB_SIZE),
    ("doorbell-bystander.dtb", DTB_SIZE),
];

/// A place for one boot's system.
pub(super) fn system_slot() -> &'static spin::Once<crate::system::System> {
    std::boxed::Box::leak(std::boxed::Box::new(spin::Once::new()))
}

/// Boots `host` with `after_image` behind the image, through both halves of boot.
pub(super) fn boot(
    host: &'static [u8],
    after_image: Vec<u8>,
) -> (FakeMachine, Option<Booted<'static>>, bool) {
    let mut machine = FakeMachine::new(Some(host), after_image);
    let mut tables = FakeTables::new(64);
    let booted = init(&mut machine, &mut tables, system_slot());
    let started = booted.as_ref().is_some_and(|b| b.running);
    (machine, booted, started)
}

/// A qemu-virt configuration with one partition per `(name, cpus, body)`.
pub(super) fn qemu_config(partitions: &[(&str, &str, &str)]) -> std::string::String {
    let mut dts = std::string::String::from(
        "/dts-v1/;\n/ { compatible = \"bulkhead,config\"; board = \"qemu-virt\";\n\
         partitions { #address-cells = <2>; #size-cells = <2>;\n",
    );
    for (name, cpus, body) in partitions {
        dts += &format!(
            "{name} {{ #address-cells = <2>; #size-cells = <2>; cpus = <{cpus}>;\n\
             {body}\nkernel {{ file = \"test-guest.bin\"; load = <0x0 0x40000000>; }};\n}};\n"
        );
    }
    dts + "}; };\n"
}

pub(super) const RAM_16M: &str = "memory@40000000 { reg = <0x0 0x40000000 0x0 0x01000000>; };";

pub(super) fn state_of(booted: &Booted, name: &str) -> PartitionState {
    booted
        .system
        .partitions
        .iter()
        .find(|p| p.name.as_str() == name)
        .map(|p| p.state())
        .expect("the partition exists")
}
