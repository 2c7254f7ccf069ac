//! Configuration errors: where, and what is wrong, with the evidence.

use crate::range::Range;
use crate::text::node_path;
use core::fmt;
use heapless::String;

/// One problem with a configuration.
///
/// Displays as `"<node path>: <reason>"`, for example
/// `/partitions/rtos/memory@40000000: overlaps partition "linux" at [0x…, 0x…); …`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Index of the partition in configuration order; `None` when the error is
    /// about the whole file.
    pub partition: Option<usize>,
    /// Full path of the offending node, e.g. `/partitions/rtos/memory@40000000`
    /// (truncated if longer than 96 bytes).
    pub node: String<96>,
    /// What is wrong.
    pub kind: ErrorKind,
}

impl ConfigError {
    /// An error at the node whose path is `node`.
    pub fn new(partition: Option<usize>, node: &str, kind: ErrorKind) -> Self {
        Self {
            partition,
            node: crate::text::bounded(node),
            kind,
        }
    }

    /// An error at the node reached by the names in `path` from the root
    /// (`&[]` is the root itself).
    pub(crate) fn at(partition: Option<usize>, path: &[&str], kind: ErrorKind) -> Self {
        Self {
            partition,
            node: node_path(path),
            kind,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.node, self.kind)
    }
}

/// What is wrong, with the evidence needed to explain it.
///
/// Names of other partitions and files are copied (truncated if very long) so
/// an error outlives the DTB it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The blob is not a well-formed flattened device tree.
    NotADeviceTree {
        /// What is malformed.
        why: &'static str,
        /// Byte offset in the blob where the problem was found.
        offset: usize,
    },
    /// A required node is missing; the error's node path names it.
    MissingNode,
    /// A required property is missing.
    MissingProperty {
        /// The property.
        name: &'static str,
    },
    /// A property has the wrong size, format or value.
    BadProperty {
        /// The property.
        name: &'static str,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A property this node kind does not have (probably a typo).
    UnknownProperty {
        /// The property as written.
        name: String<32>,
        /// The properties allowed on this node kind.
        allowed: &'static str,
    },
    /// A child node of a kind that is not allowed here (probably a typo); the
    /// error's node path names it.
    UnknownNode {
        /// The node kinds allowed here.
        allowed: &'static str,
    },
    /// A partition or channel name breaks the naming rules.
    BadName {
        /// What is named: `"partition"` or `"channel"`.
        what: &'static str,
        /// Which rule.
        why: &'static str,
    },
    /// More items than the fixed capacity allows.
    TooMany {
        /// What there are too many of.
        what: &'static str,
        /// The limit.
        max: usize,
    },
    /// Two sibling nodes have the same name; the error's node path names the
    /// second.
    DuplicateName,
    /// `/partitions` has no partition in it.
    NoPartitions,
    /// A partition has no `memory@...` node.
    NoMemory,
    /// The configuration was written for another board.
    BoardMismatch {
        /// The `board` property of the configuration.
        config: String<32>,
        /// The board checked against.
        board: String<32>,
    },
    /// A fixed-PA memory region overlaps memory of an earlier partition (or an
    /// earlier region of the same one).
    MemoryOverlap {
        /// The partition owning the other memory.
        other: String<32>,
        /// The other memory's physical range.
        range: Range,
    },
    /// A fixed-PA memory region overlaps RAM the board reserves.
    OverlapsReserved {
        /// Why that RAM is reserved.
        why: &'static str,
        /// The reserved range.
        range: Range,
    },
    /// A fixed-PA memory region is not wholly inside one board RAM range.
    NotInRam {
        /// The region's physical range.
        range: Range,
    },
    /// Two memory regions of the same partition overlap in IPA.
    RegionsOverlap {
        /// The earlier region's node name.
        other: String<32>,
        /// The earlier region's IPA range.
        range: Range,
    },
    /// A CPU is listed twice (in two partitions, or twice in one).
    CpuTwice {
        /// The CPU's MPIDR affinity value.
        mpidr: u64,
        /// The partition that already has it.
        other: String<32>,
    },
    /// A CPU the board does not have.
    NoSuchCpu {
        /// The MPIDR affinity value as written.
        mpidr: u64,
    },
    /// A value that cannot be an MPIDR affinity (bits 63 to 24 set).
    InvalidMpidr {
        /// The value as written.
        mpidr: u64,
    },
    /// An address or size is not aligned.
    Unaligned {
        /// Which address or size.
        what: &'static str,
        /// Its value.
        addr: u64,
        /// The required alignment in bytes.
        align: u64,
    },
    /// An image spills past the end of the memory region it is loaded into.
    ImageTooLarge {
        /// The image file.
        file: String<64>,
        /// Its size in bytes.
        size: u64,
        /// Bytes from the load address to the end of the region.
        room: u64,
    },
    /// An image's load address is in no memory region of the partition.
    ImageOutsideMemory {
        /// The image file.
        file: String<64>,
        /// The load address.
        load: u64,
    },
    /// Two images of one partition (kernel, dtb, initrd) overlap once loaded.
    ImagesOverlap {
        /// The other image: `"kernel"`, `"dtb"` or `"initrd"`.
        other: &'static str,
        /// The other image's IPA range.
        range: Range,
    },
    /// The kernel entry point is in no memory region of the partition.
    EntryOutside {
        /// The entry IPA.
        entry: u64,
    },
    /// A second partition is marked `privileged` (the first keeps it).
    PrivilegedTwice {
        /// The partition already marked privileged.
        other: String<32>,
    },
    /// An image file does not exist.
    MissingImage {
        /// The file name.
        file: String<64>,
    },
    /// A device's physical range is already passed through to a partition.
    DeviceTwice {
        /// The earlier device's physical range.
        range: Range,
        /// The partition that has it.
        other: String<32>,
    },
    /// A device's physical range overlaps MMIO the hypervisor itself uses.
    DeviceOverlapsHost {
        /// The hypervisor's device range.
        range: Range,
        /// What that device is, e.g. `"console UART"`.
        what: &'static str,
    },
    /// A device's physical range overlaps board RAM.
    DeviceInRam {
        /// The RAM range.
        range: Range,
    },
    /// A device's IPA range overlaps the partition's memory.
    DeviceOverlapsMemory {
        /// The memory region's IPA range.
        range: Range,
    },
    /// Two devices of one partition overlap in IPA.
    DevicesOverlap {
        /// The earlier device's node name.
        other: String<32>,
        /// The earlier device's IPA range.
        range: Range,
    },
    /// An interrupt is already routed to a partition.
    IrqTwice {
        /// The GIC INTID.
        intid: u32,
        /// The partition that has it.
        other: String<32>,
    },
    /// An interrupt that is not a shared peripheral interrupt (INTID 32..=1019).
    BadIrq {
        /// The INTID as written.
        intid: u32,
    },
    /// A partition's `console-mode` does not fit its nodes.
    ConsoleMode {
        /// What is wrong.
        why: &'static str,
    },
    /// The root's `console-focus` names no partition with a virtual console.
    ConsoleFocus {
        /// The name as written.
        name: String<32>,
    },
    /// A device interrupt is an SPI beyond what the virtual GIC or the board's GIC has.
    IrqBeyond {
        /// The INTID as written.
        intid: u32,
        /// The highest INTID `what` has.
        max: u32,
        /// "the virtual GIC" or "the board's GIC".
        what: &'static str,
    },
    /// The console's IPA range overlaps memory or a device of the partition.
    ConsoleOverlaps {
        /// The overlapped IPA range.
        range: Range,
    },
    /// An `smc-allow` entry names a call that may not go to the platform
    /// firmware: not a valid fast call, or one of an owner the hypervisor
    /// serves itself or SMCCC reserves.
    BadSmc {
        /// The function ID as written.
        function: u32,
        /// Why it may not be forwarded.
        why: &'static str,
    },
    /// A function ID is listed twice in one partition's `smc-allow`.
    SmcTwice {
        /// The function ID.
        function: u32,
    },
    /// A channel names a partition the configuration does not define.
    UnknownPartition {
        /// The name as written.
        name: String<32>,
    },
    /// A channel names the same partition at both ends.
    ChannelLoop {
        /// The partition.
        partition: String<32>,
    },
    /// A doorbell INTID is not a shared peripheral interrupt the virtual GIC models.
    BadDoorbellIrq {
        /// The INTID as written.
        intid: u32,
        /// The partition that would receive it.
        partition: String<32>,
    },
    /// A doorbell INTID is already used in the partition that receives it, by one of its
    /// passthrough devices or by an earlier channel.
    DoorbellIrqTaken {
        /// The INTID.
        intid: u32,
        /// The partition that would receive it.
        partition: String<32>,
        /// What already uses it: `"device"`, `"channel"` or `"its virtual console"`.
        by: &'static str,
        /// The device's node name or the channel's name.
        other: String<32>,
    },
    /// A watchdog frame overlaps memory, a device, the console or the other frame.
    WatchdogOverlaps {
        /// Which frame: `"control"` or `"refresh"`.
        frame: &'static str,
        /// What it overlaps: `"memory"`, `"a device"`, `"the console"`, `"the control frame"`.
        what: &'static str,
        /// The overlapped IPA range.
        range: Range,
    },
    /// A `management` window in a partition that is not `privileged`.
    ManagementUnprivileged,
    /// A `management` window of the wrong size or overlapping memory, a device, the console or
    /// a watchdog frame.
    BadManagementWindow {
        /// What is wrong, as a phrase.
        why: &'static str,
        /// The window as written.
        range: Range,
    },
    /// A watchdog's interrupt is not a shared peripheral interrupt the virtual GIC models.
    BadWatchdogIrq {
        /// The INTID as written.
        intid: u32,
    },
    /// A watchdog's interrupt is already used in its partition, by a passthrough device or a
    /// channel's doorbell.
    WatchdogIrqTaken {
        /// The INTID.
        intid: u32,
        /// What already uses it: `"device"` or `"channel"`.
        by: &'static str,
        /// The device's node name or the channel's name.
        other: String<32>,
    },
    /// A stream ID lies beyond the hypervisor's stream table.
    StreamIdTooLarge {
        /// The stream ID.
        sid: u32,
    },
    /// A partition's `vsock` node without `vsock-cid`, or the other way round.
    BadVsock {
        /// What is wrong, as a phrase.
        why: &'static str,
    },
    /// A `vsock-cid` that is reserved (0, 1, 2 or 0xffffffff).
    BadVsockCid {
        /// The CID as written.
        cid: u32,
    },
    /// A `vsock-cid` an earlier partition already has.
    VsockCidTwice {
        /// The CID.
        cid: u32,
        /// The partition that has it.
        other: String<32>,
    },
    /// A `vsock` window of the wrong size or alignment, or overlapping something else of the
    /// partition.
    BadVsockWindow {
        /// What is wrong, as a phrase.
        why: &'static str,
        /// The window as written.
        range: Range,
    },
    /// A `vsock` device's interrupt is not a virtual SPI, or the partition uses it already.
    BadVsockIrq {
        /// The INTID as written.
        intid: u32,
        /// What is wrong, as a phrase.
        why: &'static str,
    },
    /// A vsock channel's end has no vsock device.
    VsockChannelEnd {
        /// The partition without one.
        partition: String<32>,
    },
    /// Validation found more errors than fit in its result; this stands in for
    /// the rest.
    MoreErrors,
    /// A DMA master with neither an SMMU in front of it (`stream-ids`) nor `unprotected-dma`
    /// in a direct-mapped partition.
    DmaUnprotected {
        /// What makes it a DMA master: its known `compatible`, or `"dma-master"`.
        what: &'static str,
    },
    /// A device marked `unprotected-dma` in a partition that is not `direct-map`.
    UnprotectedDmaNotDirectMapped,
    /// A device with both `unprotected-dma` and `stream-ids`.
    UnprotectedDmaWithStreamIds,
    /// A device with `stream-ids` on a board with no SMMU the hypervisor drives.
    NoSmmu,
    /// A stream ID already given to another device.
    StreamIdTwice {
        /// The stream ID.
        id: u32,
        /// The partition owning the other device.
        partition: String<32>,
        /// The other device's node name.
        device: String<32>,
    },
    /// A direct-mapped region (PA = IPA) is not wholly inside one board RAM range.
    DirectMapNotInRam {
        /// The region's physical range (its IPA range).
        range: Range,
    },
    /// A direct-mapped region (PA = IPA) overlaps RAM the board reserves (the hypervisor's).
    DirectMapOverlapsReserved {
        /// Why that RAM is reserved.
        why: &'static str,
        /// The reserved range.
        range: Range,
    },
    /// A direct-mapped region (PA = IPA) overlaps fixed memory of an earlier partition (or of
    /// the same one).
    DirectMapOverlap {
        /// The partition owning the other memory.
        other: String<32>,
        /// The other memory's physical range.
        range: Range,
    },
    /// A serial (virtio) channel lacks something or its device window is misplaced.
    BadVirtioChannel {
        /// The partition the problem is in.
        partition: String<32>,
        /// What is wrong, as a phrase.
        why: &'static str,
    },
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotADeviceTree { why, offset } => write!(
                f,
                "not a flattened device tree ({why}, at byte {offset}); \
                 compile the .dts with `dtc -I dts -O dtb`"
            ),
            Self::MissingNode => {
                f.write_str("required node is missing; add it (see docs/configuration.md)")
            }
            Self::MissingProperty { name } => {
                write!(f, "missing required property `{name}`")
            }
            Self::BadProperty { name, why } => write!(f, "bad property `{name}`: {why}"),
            Self::UnknownProperty { name, allowed } => write!(
                f,
                "unknown property `{name}` (a typo?); allowed here: {allowed}"
            ),
            Self::UnknownNode { allowed } => {
                write!(f, "unknown node (a typo?); allowed here: {allowed}")
            }
            Self::BadName { what, why } => write!(f, "bad {what} name: {why}"),
            Self::TooMany { what, max } => write!(f, "too many {what}: at most {max} allowed"),
            Self::DuplicateName => {
                f.write_str("a sibling node has the same name; rename one of them")
            }
            Self::NoPartitions => {
                f.write_str("no partitions defined; add at least one partition node")
            }
            Self::NoMemory => f.write_str(
                "partition has no memory; add a `memory@<ipa> { reg = <...>; };` node",
            ),
            Self::BoardMismatch { config, board } => write!(
                f,
                "configuration is for board \"{config}\" but the board is \"{board}\"; \
                 use the configuration for this board or fix `board`"
            ),
            Self::MemoryOverlap { other, range } => write!(
                f,
                "overlaps partition \"{other}\" at {range}; change `phys`, or drop it \
                 to let the hypervisor allocate"
            ),
            Self::OverlapsReserved { why, range } => write!(
                f,
                "overlaps the {why} at {range}; change `phys`, or drop it to let the \
                 hypervisor allocate"
            ),
            Self::NotInRam { range } => write!(
                f,
                "physical range {range} is not inside the board's RAM; change `phys`, or drop it to \
                 let the hypervisor allocate"
            ),
            Self::RegionsOverlap { other, range } => write!(
                f,
                "IPA range overlaps `{other}` at {range} in the same partition; move or shrink one \
                 of them"
            ),
            Self::CpuTwice { mpidr, other } => write!(
                f,
                "CPU 0x{mpidr:x} is already given to partition \"{other}\"; \
                 each CPU belongs to at most one partition"
            ),
            Self::NoSuchCpu { mpidr } => write!(
                f,
                "CPU 0x{mpidr:x} does not exist on this board"
            ),
            Self::InvalidMpidr { mpidr } => write!(
                f,
                "0x{mpidr:x} is not an MPIDR affinity value (Aff2:Aff1:Aff0; bits [63:24] \
                 must be zero)"
            ),
            Self::Unaligned { what, addr, align } => write!(
                f,
                "{what} 0x{addr:x} is not aligned to 0x{align:x} bytes"
            ),
            Self::ImageTooLarge { file, size, room } => write!(
                f,
                "image \"{file}\" ({size} bytes) does not fit: only {room} bytes remain in \
                 its memory region after the load address; load it lower or enlarge the region"
            ),
            Self::ImageOutsideMemory { file, load } => write!(
                f,
                "load address 0x{load:x} of \"{file}\" is not inside any memory region \
                 of this partition"
            ),
            Self::ImagesOverlap { other, range } => write!(
                f,
                "overlaps the {other} image at {range}; move one of the load addresses"
            ),
            Self::EntryOutside { entry } => write!(
                f,
                "entry point 0x{entry:x} is not inside any memory region of this partition"
            ),
            Self::PrivilegedTwice { other } => write!(
                f,
                "partition \"{other}\" is already `privileged`; at most one partition may \
                 manage the others: remove one `privileged`"
            ),
            Self::MissingImage { file } => write!(f, "image file \"{file}\" not found"),
            Self::DeviceTwice { range, other } => write!(
                f,
                "physical range overlaps {range}, already passed through to partition \
                 \"{other}\"; a device belongs to at most one partition"
            ),
            Self::DeviceOverlapsHost { range, what } => write!(
                f,
                "physical range overlaps {range}, which the hypervisor itself uses (its \
                 {what}); no partition may be given it"
            ),
            Self::DeviceInRam { range } => write!(
                f,
                "physical range overlaps board RAM at {range}; give RAM to a partition \
                 with a `memory@` node instead"
            ),
            Self::DeviceOverlapsMemory { range } => write!(
                f,
                "IPA range overlaps this partition's memory at {range}; set `ipa` to a \
                 free guest address"
            ),
            Self::DevicesOverlap { other, range } => write!(
                f,
                "IPA range overlaps `{other}` at {range} in the same partition; set `ipa` \
                 to a free guest address"
            ),
            Self::IrqTwice { intid, other } => write!(
                f,
                "interrupt {intid} is already routed to partition \"{other}\"; \
                 each interrupt belongs to at most one partition"
            ),
            Self::IrqBeyond { intid, max, what } => write!(
                f,
                "interrupt {intid} is beyond what {what} supports (INTIDs 32..={max})"
            ),
            Self::BadIrq { intid } => write!(
                f,
                "interrupt {intid} is not a shared peripheral interrupt; use a GIC INTID \
                 in 32..=1019"
            ),
            Self::ConsoleMode { why } => write!(f, "console-mode: {why}"),
            Self::ConsoleFocus { name } => write!(
                f,
                "console-focus names \"{name}\", which is no partition with a virtual console; \
                 name one that has a `console` node"
            ),
            Self::ConsoleOverlaps { range } => write!(
                f,
                "console overlaps {range} in this partition's address space; move it to \
                 a free IPA"
            ),
            Self::BadSmc { function, why } => write!(
                f,
                "`smc-allow` entry {function:#010x} cannot go to the firmware: {why}; only fast \
                 calls of the CPU (1), SiP (2), OEM (3) and trusted application and OS (48..=63) \
                 owners can be allow-listed"
            ),
            Self::SmcTwice { function } => write!(
                f,
                "`smc-allow` lists {function:#010x} twice; remove one"
            ),
            Self::UnknownPartition { name } => write!(
                f,
                "there is no partition \"{name}\"; a channel names two partitions defined \
                 under /partitions"
            ),
            Self::ChannelLoop { partition } => write!(
                f,
                "joins partition \"{partition}\" to itself; a channel joins two different \
                 partitions"
            ),
            Self::BadDoorbellIrq { intid, partition } => write!(
                f,
                "interrupt {intid} cannot be partition \"{partition}\"'s doorbell: a doorbell \
                 is a virtual shared peripheral interrupt, INTID 32..={}",
                crate::limits::MAX_DOORBELL_INTID
            ),
            Self::DoorbellIrqTaken {
                intid,
                partition,
                by,
                other,
            } => write!(
                f,
                "interrupt {intid} cannot be partition \"{partition}\"'s doorbell: that \
                 partition already uses it for {by} `{other}`; give each doorbell an INTID its \
                 partition uses for nothing else"
            ),
            Self::WatchdogOverlaps { frame, what, range } => write!(
                f,
                "the watchdog's {frame} frame overlaps {what} at {range}; give each frame a \
                 4 KiB window of its own"
            ),
            Self::ManagementUnprivileged => f.write_str(
                "a management window is only for the `privileged` partition; add `privileged;` \
                 to this partition or remove its `management` node",
            ),
            Self::BadManagementWindow { why, range } => write!(
                f,
                "the management window {range} {why}; give it a page-aligned 4 KiB window of \
                 its own"
            ),
            Self::BadWatchdogIrq { intid } => write!(
                f,
                "interrupt {intid} cannot be the watchdog's: it is a virtual shared peripheral \
                 interrupt, INTID 32..={}",
                crate::limits::MAX_DOORBELL_INTID
            ),
            Self::WatchdogIrqTaken { intid, by, other } => write!(
                f,
                "interrupt {intid} cannot be the watchdog's: the partition already uses it for \
                 {by} `{other}`; give the watchdog an INTID the partition uses for nothing else"
            ),
            Self::StreamIdTooLarge { sid } => write!(
                f,
                "stream ID {sid:#x} is beyond the SMMU stream table (0x0..={:#x}: PCIe bus 0's \
                 requester IDs); put the device on the root bus",
                crate::limits::MAX_STREAM_ID
            ),
            Self::BadVsock { why } => write!(f, "bad vsock device: {why}"),
            Self::BadVsockCid { cid } => write!(
                f,
                "vsock CID {cid} is reserved (0: hypervisor, 1: loopback, 2: host, 0xffffffff: \
                 any); give the partition a CID from 3 up"
            ),
            Self::VsockCidTwice { cid, other } => write!(
                f,
                "vsock CID {cid} is already partition \"{other}\"'s; each partition needs its \
                 own CID"
            ),
            Self::BadVsockWindow { why, range } => write!(
                f,
                "the vsock window {range} {why}; give it a page-aligned 4 KiB window of its own"
            ),
            Self::BadVsockIrq { intid, why } => write!(
                f,
                "interrupt {intid} cannot be the vsock device's: {why}; give it a virtual SPI \
                 (INTID 32..={}) the partition uses for nothing else",
                crate::limits::MAX_DOORBELL_INTID
            ),
            Self::VsockChannelEnd { partition } => write!(
                f,
                "partition \"{partition}\" has no vsock device; give it `vsock-cid` and a \
                 `vsock` node, or use a doorbell channel"
            ),
            Self::MoreErrors => {
                f.write_str("more errors not shown; fix these and check again")
            }
            Self::DmaUnprotected { what } => write!(
                f,
                "is a DMA master ({what}): it can read and write any physical memory, the \
                 hypervisor's and every other partition's; put it behind the SMMU the hypervisor \
                 drives (`stream-ids`), or make its partition `direct-map` and mark it \
                 `unprotected-dma`"
            ),
            Self::UnprotectedDmaNotDirectMapped => f.write_str(
                "`unprotected-dma` in a partition that is not direct-mapped: the addresses its \
                 driver programs are IPAs, which the device would take as physical; add \
                 `direct-map;` to the partition, or give the device `stream-ids` behind the SMMU",
            ),
            Self::UnprotectedDmaWithStreamIds => f.write_str(
                "has both `unprotected-dma` and `stream-ids`; keep `stream-ids` (the SMMU \
                 protects it) or `unprotected-dma`, not both",
            ),
            Self::NoSmmu => f.write_str(
                "has `stream-ids`, but the board has no SMMU the hypervisor drives; on QEMU virt \
                 use `iommu=smmuv3`, or make the partition `direct-map` and mark the device \
                 `unprotected-dma`",
            ),
            Self::StreamIdTwice {
                id,
                partition,
                device,
            } => write!(
                f,
                "stream ID {id} (0x{id:x}) is already given to `{device}` of partition \
                 \"{partition}\"; each stream ID belongs to one device"
            ),
            Self::DirectMapNotInRam { range } => write!(
                f,
                "direct-map puts this region at PA = IPA {range}, which is not inside the \
                 board's RAM; move the region (`reg`) into RAM"
            ),
            Self::DirectMapOverlapsReserved { why, range } => write!(
                f,
                "direct-map puts this region at PA = IPA, which overlaps the {why} at {range}; \
                 move the region (`reg`) clear of it"
            ),
            Self::DirectMapOverlap { other, range } => write!(
                f,
                "direct-map puts this region at PA = IPA, which overlaps the memory of \
                 partition \"{other}\" at {range}; move one of them"
            ),
            Self::BadVirtioChannel { partition, why } => write!(
                f,
                "the serial channel's virtio device in partition `{partition}` {why}"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    /// One sample of every error kind, in declaration order.
    fn samples() -> std::vec::Vec<ErrorKind> {
        use crate::text::bounded;
        let r = Range::new(0x4000_0000, 0x1000);
        std::vec![
            ErrorKind::NotADeviceTree {
                why: "bad magic, expected 0xd00dfeed",
                offset: 0
            },
            ErrorKind::MissingNode,
            ErrorKind::MissingProperty { name: "cpus" },
            ErrorKind::BadProperty {
                name: "reg",
                why: "size must not be zero"
            },
            ErrorKind::UnknownProperty {
                name: bounded("cpu"),
                allowed: "cpus, on-stop, smc-allow"
            },
            ErrorKind::UnknownNode {
                allowed: "partitions"
            },
            ErrorKind::BadName {
                what: "partition",
                why: "longer than 31 bytes"
            },
            ErrorKind::TooMany {
                what: "partitions",
                max: 8
            },
            ErrorKind::DuplicateName,
            ErrorKind::NoPartitions,
            ErrorKind::NoMemory,
            ErrorKind::BoardMismatch {
                config: bounded("rpi4"),
                board: bounded("qemu-virt")
            },
            ErrorKind::MemoryOverlap {
                other: bounded("linux"),
                range: r
            },
            ErrorKind::OverlapsReserved {
                why: "hypervisor image and bundle",
                range: r
            },
            ErrorKind::NotInRam { range: r },
            ErrorKind::RegionsOverlap {
                other: bounded("memory@40000000"),
                range: r
            },
            ErrorKind::CpuTwice {
                mpidr: 1,
                other: bounded("linux")
            },
            ErrorKind::NoSuchCpu { mpidr: 0x100 },
            ErrorKind::InvalidMpidr { mpidr: 0x8000_0000 },
            ErrorKind::Unaligned {
                what: "IPA",
                addr: 0x4000_0800,
                align: 0x1000
            },
            ErrorKind::ImageTooLarge {
                file: bounded("Image"),
                size: 65536,
                room: 4096
            },
            ErrorKind::ImageOutsideMemory {
                file: bounded("Image"),
                load: 0x8000_0000
            },
            ErrorKind::ImagesOverlap {
                other: "kernel",
                range: r
            },
            ErrorKind::EntryOutside { entry: 0x8000_0000 },
            ErrorKind::PrivilegedTwice {
                other: bounded("linux")
            },
            ErrorKind::MissingImage {
                file: bounded("Image")
            },
            ErrorKind::DeviceTwice {
                range: r,
                other: bounded("linux")
            },
            ErrorKind::DeviceOverlapsHost {
                range: r,
                what: "hardware RNG, the RNG200"
            },
            ErrorKind::DeviceInRam { range: r },
            ErrorKind::DeviceOverlapsMemory { range: r },
            ErrorKind::DevicesOverlap {
                other: bounded("device@9040000"),
                range: r
            },
            ErrorKind::IrqTwice {
                intid: 40,
                other: bounded("linux")
            },
            ErrorKind::BadIrq { intid: 7 },
            ErrorKind::ConsoleOverlaps { range: r },
            ErrorKind::BadSmc {
                function: 0x8400_0008,
                why: "owner 4 (standard secure services: PSCI, TRNG, ...) is served by Bulkhead \
                      itself"
            },
            ErrorKind::SmcTwice {
                function: 0x8200_ff01
            },
            ErrorKind::UnknownPartition {
                name: bounded("rots")
            },
            ErrorKind::ChannelLoop {
                partition: bounded("rtos")
            },
            ErrorKind::BadDoorbellIrq {
                intid: 600,
                partition: bounded("rtos")
            },
            ErrorKind::DoorbellIrqTaken {
                intid: 40,
                partition: bounded("linux"),
                by: "device",
                other: bounded("device@9040000")
            },
            ErrorKind::WatchdogOverlaps {
                frame: "refresh",
                what: "memory",
                range: r
            },
            ErrorKind::ManagementUnprivileged,
            ErrorKind::BadManagementWindow {
                why: "overlaps the console",
                range: r
            },
            ErrorKind::BadWatchdogIrq { intid: 20 },
            ErrorKind::WatchdogIrqTaken {
                intid: 48,
                by: "channel",
                other: bounded("ping")
            },
            ErrorKind::StreamIdTooLarge { sid: 0x100 },
            ErrorKind::BadVsock {
                why: "`vsock-cid` without a `vsock` node"
            },
            ErrorKind::BadVsockCid { cid: 2 },
            ErrorKind::VsockCidTwice {
                cid: 3,
                other: bounded("linux")
            },
            ErrorKind::BadVsockWindow {
                why: "overlaps memory",
                range: r
            },
            ErrorKind::BadVsockIrq {
                intid: 48,
                why: "the partition uses it for channel `ping`"
            },
            ErrorKind::VsockChannelEnd {
                partition: bounded("rtos")
            },
            ErrorKind::MoreErrors,
            ErrorKind::DmaUnprotected {
                what: "virtio,mmio"
            },
            ErrorKind::UnprotectedDmaNotDirectMapped,
            ErrorKind::UnprotectedDmaWithStreamIds,
            ErrorKind::NoSmmu,
            ErrorKind::StreamIdTwice {
                id: 8,
                partition: bounded("linux"),
                device: bounded("device@10000000")
            },
            ErrorKind::DirectMapNotInRam { range: r },
            ErrorKind::DirectMapOverlapsReserved {
                why: "hypervisor image and bundle",
                range: r
            },
            ErrorKind::DirectMapOverlap {
                other: bounded("rtos"),
                range: r
            },
        ]
    }
    #[test]
    fn every_error_kind_displays_its_evidence_and_a_fix() {
        let expected = [
        "not a flattened device tree (bad magic, expected 0xd00dfeed, at byte 0); compile the .dts with `dtc -I dts -O dtb`",
        "required node is missing; add it (see docs/configuration.md)",
        "missing required property `cpus`",
        "bad property `reg`: size must not be zero",
        "unknown property `cpu` (a typo?); allowed here: cpus, on-stop, smc-allow",
        "unknown node (a typo?); allowed here: partitions",
        "bad partition name: longer than 31 bytes",
        "too many partitions: at most 8 allowed",
        "a sibling node has the same name; rename one of them",
        "no partitions defined; add at least one partition node",
        "partition has no memory; add a `memory@<ipa> { reg = <...>; };` node",
        "configuration is for board \"rpi4\" but the board is \"qemu-virt\"; use the configuration for this board or fix `board`",
        "overlaps partition \"linux\" at [0x0000_0000_4000_0000, 0x0000_0000_4000_1000); change `phys`, or drop it to let the hypervisor allocate",
        "overlaps the hypervisor image and bundle at [0x0000_0000_4000_0000, 0x0000_0000_4000_1000); change `phys`, or drop it to let the hypervisor allocate",
        "physical range [0x0000_0000_4000_0000, 0x0000_0000_4000_1000) is not inside the board's RAM; change `phys`, or drop it to let the hypervisor allocate",
        "IPA range overlaps `memory@40000000` at [0x0000_0000_4000_0000, 0x0000_0000_4000_1000) in the same partition; move or shrink one of them",
        "CPU 0x1 is already given to partition \"linux\"; each CPU belongs to at most one partition",
        "CPU 0x100 does not exist on this board",
        "0x80000000 is not an MPIDR affinity value (Aff2:Aff1:Aff0; bits [63:24] must be zero)",
        "IPA 0x40000800 is not aligned to 0x1000 bytes",
        "image \"Image\" (65536 bytes) does not fit: only 4096 bytes remain in its memory region after the load address; load it lower or enlarge the region",
        "load address 0x80000000 of \"Image\" is not inside any memory region of this partition",
        "overlaps the kernel image at [0x0000_0000_4000_0000, 0x0000_0000_4000_1000); move one of the load addresses",
        "entry point 0x80000000 is not inside any memory region of this partition",
        "partition \"linux\" is already `privileged`; at most one partition may manage the others: remove one `privileged`",
        "image file \"Image\" not found",
        "physical range overlaps [0x0000_0000_4000_0000, 0x0000_0000_4000_1000), already passed through to partition \"linux\"; a device belongs to at most one partition",
        "physical range overlaps [0x0000_0000_4000_0000, 0x0000_0000_4000_1000), which the hypervisor itself uses (its hardware RNG, the RNG200); no partition may be given it",
        "physical range overlaps board RAM at [0x0000_0000_4000_0000, 0x0000_0000_4000_1000); give RAM to a partition with a `memory@` node instead",
        "IPA range overlaps this partition's memory at [0x0000_0000_4000_0000, 0x0000_0000_4000_1000); set `ipa` to a free guest address",
        "IPA range overlaps `device@9040000` at [0x0000_0000_4000_0000, 0x0000_0000_4000_1000) in the same partition; set `ipa` to a free guest address",
        "interrupt 40 is already routed to partition \"linux\"; each interrupt belongs to at most one partition",
        "interrupt 7 is not a shared peripheral interrupt; use a GIC INTID in 32..=1019",
        "console overlaps [0x0000_0000_4000_0000, 0x0000_0000_4000_1000) in this partition's address space; move it to a free IPA",
        "`smc-allow` entry 0x84000008 cannot go to the firmware: owner 4 (standard secure services: PSCI, TRNG, ...) is served by Bulkhead itself; only fast calls of the CPU (1), SiP (2), OEM (3) and trusted application and OS (48..=63) owners can be allow-listed",
        "`smc-allow` lists 0x8200ff01 twice; remove one",
        "there is no partition \"rots\"; a channel names two partitions defined under /partitions",
        "joins partition \"rtos\" to itself; a channel joins two different partitions",
        "interrupt 600 cannot be partition \"rtos\"'s doorbell: a doorbell is a virtual shared peripheral interrupt, INTID 32..=511",
        "interrupt 40 cannot be partition \"linux\"'s doorbell: that partition already uses it for device `device@9040000`; give each doorbell an INTID its partition uses for nothing else",
        "the watchdog's refresh frame overlaps memory at [0x0000_0000_4000_0000, 0x0000_0000_4000_1000); give each frame a 4 KiB window of its own",
        "a management window is only for the `privileged` partition; add `privileged;` to this partition or remove its `management` node",
        "the management window [0x0000_0000_4000_0000, 0x0000_0000_4000_1000) overlaps the console; give it a page-aligned 4 KiB window of its own",
        "interrupt 20 cannot be the watchdog's: it is a virtual shared peripheral interrupt, INTID 32..=511",
        "interrupt 48 cannot be the watchdog's: the partition already uses it for channel `ping`; give the watchdog an INTID the partition uses for nothing else",
        "stream ID 0x100 is beyond the SMMU stream table (0x0..=0xff: PCIe bus 0's requester IDs); put the device on the root bus",
        "bad vsock device: `vsock-cid` without a `vsock` node",
        "vsock CID 2 is reserved (0: hypervisor, 1: loopback, 2: host, 0xffffffff: any); give the partition a CID from 3 up",
        "vsock CID 3 is already partition \"linux\"'s; each partition needs its own CID",
        "the vsock window [0x0000_0000_4000_0000, 0x0000_0000_4000_1000) overlaps memory; give it a page-aligned 4 KiB window of its own",
        "interrupt 48 cannot be the vsock device's: the partition uses it for channel `ping`; give it a virtual SPI (INTID 32..=511) the partition uses for nothing else",
        "partition \"rtos\" has no vsock device; give it `vsock-cid` and a `vsock` node, or use a doorbell channel",
        "more errors not shown; fix these and check again",
        "is a DMA master (virtio,mmio): it can read and write any physical memory, the hypervisor's and every other partition's; put it behind the SMMU the hypervisor drives (`stream-ids`), or make its partition `direct-map` and mark it `unprotected-dma`",
        "`unprotected-dma` in a partition that is not direct-mapped: the addresses its driver programs are IPAs, which the device would take as physical; add `direct-map;` to the partition, or give the device `stream-ids` behind the SMMU",
        "has both `unprotected-dma` and `stream-ids`; keep `stream-ids` (the SMMU protects it) or `unprotected-dma`, not both",
        "has `stream-ids`, but the board has no SMMU the hypervisor drives; on QEMU virt use `iommu=smmuv3`, or make the partition `direct-map` and mark the device `unprotected-dma`",
        "stream ID 8 (0x8) is already given to `device@10000000` of partition \"linux\"; each stream ID belongs to one device",
        "direct-map puts this region at PA = IPA [0x0000_0000_4000_0000, 0x0000_0000_4000_1000), which is not inside the board's RAM; move the region (`reg`) into RAM",
        "direct-map puts this region at PA = IPA, which overlaps the hypervisor image and bundle at [0x0000_0000_4000_0000, 0x0000_0000_4000_1000); move the region (`reg`) clear of it",
        "direct-map puts this region at PA = IPA, which overlaps the memory of partition \"rtos\" at [0x0000_0000_4000_0000, 0x0000_0000_4000_1000); move one of them",
    ];
        let kinds = samples();
        assert_eq!(kinds.len(), expected.len());
        for (kind, want) in kinds.iter().zip(expected) {
            assert_eq!(std::format!("{kind}"), want);
        }
    }

    #[test]
    fn config_error_display_is_node_colon_reason() {
        let e = ConfigError::new(
            Some(1),
            "/partitions/rtos/memory@40000000",
            ErrorKind::NoMemory,
        );
        assert!(std::format!("{e}")
            .starts_with("/partitions/rtos/memory@40000000: partition has no memory"));
    }
}
