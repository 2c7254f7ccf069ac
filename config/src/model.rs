//! The parsed configuration: what each partition gets.
//!
//! Every string borrows from the DTB the configuration was parsed from, so
//! parsing needs no heap.

use crate::limits::{
    MAX_CHANNELS, MAX_CPUS, MAX_DEVICES, MAX_IRQS_PER_DEVICE, MAX_PARTITIONS, MAX_REGIONS,
    MAX_SMC_ALLOW, MAX_STREAM_IDS,
};
use crate::range::Range;
use heapless::Vec;

/// A whole configuration: the board it is for, its partitions and the
/// channels between them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config<'a> {
    /// The `board` property of the root node.
    pub board: &'a str,
    /// Partitions in the order they appear in the file.
    pub partitions: Vec<PartitionConfig<'a>, MAX_PARTITIONS>,
    /// Inter-partition channels in the order they appear in the file (empty
    /// without a `/channels` node).
    pub channels: Vec<Channel<'a>, MAX_CHANNELS>,
    /// The multiplexed console: `console-focus` and `console-baud` of the root.
    pub console: ConsoleOptions<'a>,
    /// The root's `console` property: the board UART the hypervisor owns as its console
    /// ("pl011" or "mini-uart"); `None`: the board's default.
    pub console_uart: Option<&'a str>,
    /// The root's `on-last-stop` property: what the hypervisor does when the last partition
    /// stops on a board without PSCI SYSTEM_OFF.
    pub on_last_stop: LastStop,
}

/// What the hypervisor does when the last partition has stopped and the firmware cannot power
/// the board off (no PSCI, as with the Raspberry Pi's stock firmware).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LastStop {
    /// Park every CPU and print the halt marker (the default: no reboot loop on a bench).
    #[default]
    Halt,
    /// Reset the board (the Pi's power-management watchdog), which boots it again.
    Reset,
}

/// How the hypervisor's multiplexed console behaves (docs/console.md).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConsoleOptions<'a> {
    /// The partition whose virtual console has the keyboard at boot (`console-focus`); `None`:
    /// the first partition with a virtual console.
    pub focus: Option<&'a str>,
    /// The wire's baud rate the multiplexer paces its output to (`console-baud`); 0: as fast as
    /// the UART takes it.
    pub baud: u32,
}

/// What a partition's console is (`console-mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(u8)]
pub enum ConsoleMode {
    /// No console (`"none"`; the default without a `console` node).
    #[default]
    None = 0,
    /// A virtual PL011, multiplexed onto the hypervisor's console (`"virtual"`; the default
    /// with a `console` node, which it requires).
    Virtual = 1,
    /// A UART of its own among its passthrough devices (`"passthrough"`; it needs a `device`
    /// node and no `console` node).
    Passthrough = 2,
}

impl ConsoleMode {
    /// Decodes [`ConsoleMode`] `as u8`.
    pub fn from_u8(value: u8) -> Self {
        match value {
            1 => ConsoleMode::Virtual,
            2 => ConsoleMode::Passthrough,
            _ => ConsoleMode::None,
        }
    }

    /// The configuration's word for it.
    pub fn name(self) -> &'static str {
        match self {
            ConsoleMode::None => "none",
            ConsoleMode::Virtual => "virtual",
            ConsoleMode::Passthrough => "passthrough",
        }
    }
}

impl<'a> Config<'a> {
    /// The partition called `name`, if any.
    pub fn partition(&self, name: &str) -> Option<&PartitionConfig<'a>> {
        self.partitions.iter().find(|p| p.name == name)
    }

    /// The index of the partition called `name` in configuration order, if any.
    pub fn partition_index(&self, name: &str) -> Option<usize> {
        self.partitions.iter().position(|p| p.name == name)
    }

    /// The channels partition `name` is an endpoint of, in configuration order, each with the
    /// partition's end (0 or 1). The position of a channel in this sequence is the partition's
    /// doorbell index for it (`docs/guest-abi.md`).
    pub fn channels_of<'s>(
        &'s self,
        name: &'s str,
    ) -> impl Iterator<Item = (&'s Channel<'a>, usize)> + 's {
        self.channels
            .iter()
            .filter_map(move |channel| Some((channel, channel.end_of(name)?)))
    }
}

/// A channel between two partitions: for now a doorbell in each direction; shared memory
/// (a `memory` child node) is planned.
///
/// # Invariants
/// After [`crate::validate()`] found no error: both ends name existing, distinct partitions,
/// and each end's INTID is a doorbell SPI its partition uses for nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Channel<'a> {
    /// Channel name (the node name under `/channels`).
    pub name: &'a str,
    /// The two endpoints, in the order the `partitions` property lists them.
    pub ends: [ChannelEnd<'a>; 2],
    /// The shared memory both ends map (`shared-memory`), if any.
    pub shared: Option<SharedMemory>,
    /// What the channel gives its partitions (`kind`; a doorbell pair by default).
    pub kind: ChannelKind,
    /// `port-name` of a serial channel: the virtio-console port's name in both partitions.
    pub port_name: Option<&'a str>,
}

/// A channel's shared memory (`/channels/<name>/shared-memory`): one physical region mapped into
/// both partitions' stage-2, each end at its own IPA, read-write or read-only per end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SharedMemory {
    /// The physical region (`reg`).
    pub phys: Range,
    /// Where each end sees it (`ipa`, in the order of `partitions`).
    pub ipa: [u64; 2],
    /// Whether each end may write it (`access`: "rw" or "ro", in the order of `partitions`).
    pub writable: [bool; 2],
}

impl SharedMemory {
    /// End `end`'s IPA window.
    pub fn window(&self, end: usize) -> Range {
        Range::new(self.ipa.get(end).copied().unwrap_or(0), self.phys.size)
    }
}

/// What a channel gives the two partitions it joins.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ChannelKind {
    /// A doorbell each way (no `kind`, or `kind = "doorbell"`).
    #[default]
    Doorbell,
    /// `kind = "serial"`: a virtio-console port in each partition, joined as a null-modem
    /// cable; each end's INTID is its virtio device's interrupt, `virtio-windows` its registers.
    Serial,
    /// `kind = "vsock"`: virtio-vsock streams between the two partitions' vsock devices; both
    /// ends need a `vsock-cid` and a `vsock` node; no `interrupts` (each partition's one vsock
    /// device has its own).
    Vsock,
}

/// The size of the trapped window of one virtio-mmio device (its registers and config space).
pub const VIRTIO_WINDOW_SIZE: u64 = 0x1000;

impl<'a> Channel<'a> {
    /// Which end (0 or 1) partition `name` is, if it is one (the first, if both).
    pub fn end_of(&self, name: &str) -> Option<usize> {
        self.ends.iter().position(|end| end.partition == name)
    }

    /// The end opposite end `end` (0 or 1).
    pub fn peer_of(&self, end: usize) -> &ChannelEnd<'a> {
        let [first, second] = &self.ends;
        if end == 0 {
            second
        } else {
            first
        }
    }
}

/// One end of a [`Channel`]: a partition and the doorbell interrupt it receives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChannelEnd<'a> {
    /// The partition's name.
    pub partition: &'a str,
    /// The virtual SPI (GIC INTID) that becomes pending in this partition when the other end
    /// rings its doorbell.
    pub intid: u32,
    /// A virtio channel: the IPA of this partition's virtio-mmio device window
    /// ([`VIRTIO_WINDOW_SIZE`] bytes; `virtio-windows`, in the order of `partitions`).
    pub virtio_window: Option<u64>,
}

/// One partition: its CPUs, memory, boot images and devices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionConfig<'a> {
    /// Partition name (the node name under `/partitions`).
    pub name: &'a str,
    /// Physical CPUs by MPIDR affinity value; the guest sees them as vCPU
    /// 0..n-1 in this order, and vCPU 0 boots.
    pub cpus: Vec<u64, MAX_CPUS>,
    /// What happens when the guest stops.
    pub on_stop: OnStop,
    /// Guest RAM regions.
    pub memory: Vec<MemoryRegion<'a>, MAX_REGIONS>,
    /// The kernel image.
    pub kernel: ImageRef<'a>,
    /// Guest-physical address vCPU 0 starts at (defaults to the kernel's load
    /// address).
    pub entry: u64,
    /// Optional device tree blob for the guest; vCPU 0 gets its IPA in `x0`.
    pub dtb: Option<ImageRef<'a>>,
    /// Optional initial ramdisk.
    pub initrd: Option<ImageRef<'a>>,
    /// IPA range of the optional virtual PL011 console.
    pub console: Option<Range>,
    /// What its console is (`console-mode`, or what the `console` node implies).
    pub console_mode: ConsoleMode,
    /// Passthrough devices.
    pub devices: Vec<Device<'a>, MAX_DEVICES>,
    /// The optional emulated SBSA generic watchdog (`watchdog` node).
    pub watchdog: Option<Watchdog>,
    /// IPA range of the optional management window (`management` node, only with
    /// `privileged`): [`MANAGEMENT_WINDOW_SIZE`] bytes, `docs/guest-abi.md`.
    pub management: Option<Range>,
    /// SMCCC function IDs (exact W0 values) whose calls the hypervisor
    /// forwards to the platform firmware for this partition (`smc-allow`), in
    /// the order written. Empty: none.
    pub smc_allow: Vec<u32, MAX_SMC_ALLOW>,
    /// The most restarts allowed within a time window (`max-restarts = <count seconds>`);
    /// `None`: no limit.
    pub max_restarts: Option<RestartLimit>,
    /// May list, start, stop and restart the other partitions through the management calls
    /// (`privileged;`). At most one partition is.
    pub privileged: bool,
    /// What the partition's vCPUs see of their CPUs' performance monitors (`pmu`).
    pub pmu: Pmu,
    /// What a stage-2 data abort of the partition does (`on-fault`).
    pub on_fault: OnFault,
    /// Every memory region sits at PA = IPA (`direct-map;`): each region's `phys` is its IPA.
    /// A device that does DMA with guest-physical addresses then reaches the partition's own
    /// memory (docs/configuration.md, "DMA").
    pub direct_map: bool,
    /// The partition's vsock context ID (`vsock-cid`), with its [`Self::vsock`] device.
    pub vsock_cid: Option<u32>,
    /// The partition's virtio-vsock device (`vsock` node), `docs/ipc.md`.
    pub vsock: Option<VsockDevice>,
}

/// A restart rate limit: at most `count` restarts within any `seconds`-second window; the
/// restart that would exceed it leaves the partition off instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RestartLimit {
    /// Restarts allowed per window, 1..=[`MAX_RESTART_COUNT`].
    pub count: u32,
    /// The window, in seconds of the generic counter, 1..=[`MAX_RESTART_WINDOW_S`].
    pub seconds: u32,
}

/// The largest `count` of `max-restarts` (the hypervisor keeps that many restart times).
pub const MAX_RESTART_COUNT: u32 = 32;
/// The longest window of `max-restarts`: one day.
pub const MAX_RESTART_WINDOW_S: u32 = 86_400;

impl<'a> PartitionConfig<'a> {
    /// The memory region whose IPA range contains `ipa`, if any.
    pub fn ipa_to_region(&self, ipa: u64) -> Option<&MemoryRegion<'a>> {
        self.memory.iter().find(|r| r.ipa.contains_addr(ipa))
    }
}

/// What the hypervisor does when a partition stops (all its vCPUs are off, or it
/// faults).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnStop {
    /// Leave the partition stopped and its CPUs idle (`on-stop = "off"`).
    #[default]
    Off,
    /// Reload the images and boot the partition again (`on-stop = "restart"`).
    Restart,
}

/// What a partition sees of the performance monitors unit (`pmu = "deny"` or `"virtual"`).
/// Either way every PMU access traps to EL2 (docs/guest-abi.md, "Performance monitors").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pmu {
    /// No PMU: ID_AA64DFR0_EL1.PMUVer reads 0 and every PMU register is RAZ/WI (the default).
    #[default]
    Deny,
    /// The vCPU's own PMU, through the trap: counters never count at EL2 (the EL2 filter
    /// bits a guest writes are cleared), no overflow interrupt.
    Virtual,
}

/// What a data abort outside the partition's memory (or a malformed access to one of its
/// emulated devices) does: `on-fault = "stop"` (the default) or `"inject"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnFault {
    /// Report the fault and stop the partition (then `on-stop` applies).
    #[default]
    Stop,
    /// Report the fault and inject it into the guest as a synchronous external abort, which
    /// the guest's own exception vectors take (a test partition that attacks on purpose).
    Inject,
}

/// One region of guest RAM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryRegion<'a> {
    /// The node name, e.g. `"memory@40000000"`, for error messages.
    pub node: &'a str,
    /// Guest-physical range.
    pub ipa: Range,
    /// Fixed physical start address; `None` lets the hypervisor allocate.
    pub phys: Option<u64>,
}

impl MemoryRegion<'_> {
    /// The fixed physical range, if the region has a fixed `phys`.
    pub fn phys_range(&self) -> Option<Range> {
        self.phys.map(|pa| Range::new(pa, self.ipa.size))
    }
}

/// A file from the boot bundle loaded into guest memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageRef<'a> {
    /// Bundle entry name (the file name as written in the configuration).
    pub file: &'a str,
    /// Guest-physical load address.
    pub load: u64,
}

/// A passthrough MMIO device and its interrupts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device<'a> {
    /// The node name, e.g. `"device@9040000"`, for error messages.
    pub node: &'a str,
    /// Physical MMIO range.
    pub phys: Range,
    /// Guest-physical address the range is mapped at (equals `phys.start`
    /// unless the node has `ipa`).
    pub ipa: u64,
    /// Shared peripheral interrupts as GIC INTIDs, routed to this partition.
    pub interrupts: Vec<u32, MAX_IRQS_PER_DEVICE>,
    /// Whether, and why, the device is a DMA master (`dma-master`, or a known `compatible`).
    pub dma: DmaMaster,
    /// The device is allowed to do DMA with no SMMU in front of it (`unprotected-dma;`): only
    /// in a direct-mapped partition, and warned about by `check-config` and at boot.
    pub unprotected_dma: bool,
    /// The SMMU stream IDs the device's DMA carries (`stream-ids`); with them, the SMMU the
    /// hypervisor drives confines the device to its partition's memory.
    pub stream_ids: Vec<u32, MAX_STREAM_IDS>,
}

impl Device<'_> {
    /// The guest-physical range the device is mapped at.
    pub fn ipa_range(&self) -> Range {
        Range::new(self.ipa, self.phys.size)
    }

    /// Whether the device writes memory on its own: marked `dma-master`, of a known DMA
    /// master's `compatible`, marked `unprotected-dma`, or given `stream-ids`.
    pub fn is_dma_master(&self) -> bool {
        self.dma != DmaMaster::No || self.unprotected_dma || !self.stream_ids.is_empty()
    }
}

/// Whether a passthrough device is a DMA master, and what says so.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DmaMaster {
    /// Nothing says it is (and it has neither `unprotected-dma` nor `stream-ids`).
    #[default]
    No,
    /// Its node says `dma-master;`.
    Marked,
    /// Its `compatible` (in the configuration, or of the board or partition device-tree node
    /// at its address, as `check-config` finds) is a known DMA master's
    /// ([`crate::dma::KNOWN_DMA_MASTERS`]).
    Known(&'static str),
}

/// The size of a partition's management window (one 4 KiB page).
pub const MANAGEMENT_WINDOW_SIZE: u64 = 0x1000;

/// The size of each of a watchdog's two frames (Arm DEN0029: 4 KiB each).
pub const WATCHDOG_FRAME_SIZE: u64 = 0x1000;

/// A partition's emulated Arm SBSA generic watchdog (`watchdog` node): where its two frames
/// are and the interrupt its first signal (WS0) raises. Its second signal (WS1) applies the
/// partition's `on-stop`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watchdog {
    /// The control frame (WCS, WOR, WCV): IPA range, [`WATCHDOG_FRAME_SIZE`] bytes.
    pub control: Range,
    /// The refresh frame (WRR): IPA range, [`WATCHDOG_FRAME_SIZE`] bytes.
    pub refresh: Range,
    /// The virtual SPI (GIC INTID) WS0 makes pending.
    pub intid: u32,
}

/// The size of a partition's virtio-mmio vsock window (one 4 KiB page, trapped).
pub const VSOCK_WINDOW_SIZE: u64 = 0x1000;

/// A partition's virtio-vsock device (a virtio-mmio version 2 window the hypervisor serves).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VsockDevice {
    /// The device's register window: IPA range, [`VSOCK_WINDOW_SIZE`] bytes.
    pub window: Range,
    /// The virtual SPI (GIC INTID) the device raises.
    pub intid: u32,
}
