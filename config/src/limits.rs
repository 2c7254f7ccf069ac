//! Fixed capacities. The hypervisor parses the configuration without a heap, so
//! every list has a compile-time maximum; exceeding one is a configuration
//! error ([`crate::ErrorKind::TooMany`]), never a truncation.

/// Most partitions one configuration may define.
pub const MAX_PARTITIONS: usize = 8;
/// Most physical CPUs one partition (and one board) may have.
pub const MAX_CPUS: usize = 8;
/// Most `memory@...` regions one partition may have.
pub const MAX_REGIONS: usize = 8;
/// Most passthrough `device@...` nodes one partition may have.
pub const MAX_DEVICES: usize = 16;
/// Most interrupts one passthrough device may list.
pub const MAX_IRQS_PER_DEVICE: usize = 8;
/// Most SMMU stream IDs one passthrough device may list (`stream-ids`).
pub const MAX_STREAM_IDS: usize = 4;
/// The highest stream ID a configuration may assign: the hypervisor's linear SMMU stream table
/// has 256 entries (PCIe bus 0's requester IDs).
pub const MAX_STREAM_ID: u32 = 0xff;
/// Most SMCCC function IDs one partition's `smc-allow` may list.
pub const MAX_SMC_ALLOW: usize = 16;
/// Most inter-partition channels (`/channels/<name>`) one configuration may
/// define.
pub const MAX_CHANNELS: usize = 16;
/// Most serial (virtio-console) channels one configuration may define: the hypervisor keeps
/// one link per serial channel in a table of this size.
pub const MAX_SERIAL_LINKS: usize = 4;
/// The highest INTID a doorbell may use. A doorbell is a purely virtual SPI
/// in its partition's virtual distributor, which models INTIDs 0..=511 (the
/// hypervisor checks at compile time that its virtual GIC covers this).
pub const MAX_DOORBELL_INTID: u32 = 511;
/// The INTID of every partition's virtual PL011 interrupt in its virtual GIC: SPI 1, where
/// QEMU virt's UART0 interrupts (a purely virtual SPI: no physical interrupt is involved).
pub const CONSOLE_INTID: u32 = 33;
/// Longest partition or channel name, in bytes.
pub const MAX_NAME: usize = 31;
/// Longest image file name, in bytes: it must fit a bundle entry name.
pub const MAX_FILE_NAME: usize = crate::bundle::ENTRY_NAME_LEN;
/// Most errors [`crate::validate()`] returns; when there are more, the last slot
/// holds [`crate::ErrorKind::MoreErrors`].
pub const MAX_ERRORS: usize = 32;
