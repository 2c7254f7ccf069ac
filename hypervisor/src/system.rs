//! The partitions as they run: built once at boot from the validated configuration, then only
//! their state changes.

use core::sync::atomic::{AtomicU8, Ordering};

use bulkhead_config::model::{ConsoleMode, OnStop, RestartLimit};
use bulkhead_config::range::Range;
use heapless::{String, Vec};

use crate::devices::bus::BusError;
use crate::devices::sbsa_watchdog::SbsaWatchdog;
use crate::devices::{DeviceBus, DeviceId};
use crate::doorbell::Doorbells;
use crate::partition::{Mapping, MemoryPlan, PartitionState, RestartLog};

/// An image to copy into a partition's memory at boot and at every restart.
#[derive(Clone, Copy, Debug)]
pub struct LoadedImage {
    /// The pristine image, in the bundle (never mapped into any partition).
    pub data: &'static [u8],
    /// Where it goes (host physical address inside the partition's memory).
    pub pa: u64,
}

/// A partition's virtual console: its virtual PL011.
pub type VirtualConsole = crate::devices::pl011::ConsolePort;

/// The privileged partition's management window: where it is and its registers.
#[derive(Debug)]
pub struct ManagementWindow {
    /// The window (IPA, 4 KiB).
    pub window: Range,
    /// The model.
    pub state: spin::Mutex<crate::devices::mgmt_window::MgmtWindow>,
}

/// A partition's SBSA generic watchdog: its two frames, its interrupt and its state.
#[derive(Debug)]
pub struct VirtualWatchdog {
    /// The control frame's window (IPA).
    pub control: Range,
    /// The refresh frame's window (IPA).
    pub refresh: Range,
    /// The purely virtual SPI WS0 makes pending.
    pub intid: u32,
    /// The model.
    pub state: spin::Mutex<SbsaWatchdog>,
}

/// One partition.
#[derive(Debug)]
pub struct Partition {
    /// 1-based id, in configuration order.
    pub id: usize,
    /// Name from the configuration.
    pub name: String<32>,
    /// VTTBR_EL2 value: stage-2 root and VMID.
    pub vttbr: u64,
    /// Logical CPU indices of its vCPUs, in vCPU order.
    pub cpus: Vec<usize, { crate::MAX_CPUS }>,
    /// Its RAM.
    pub memory: MemoryPlan,
    /// Its passthrough devices.
    pub devices: Vec<Mapping, { bulkhead_config::MAX_DEVICES }>,
    /// Kernel, device tree and initrd to load.
    pub images: Vec<LoadedImage, 3>,
    /// Entry point (IPA).
    pub entry: u64,
    /// x0 at entry: the device tree's IPA, or 0.
    pub dtb: u64,
    /// The virtual PL011, if configured.
    pub console: Option<VirtualConsole>,
    /// What its console is (virtual, passthrough, none).
    pub console_mode: ConsoleMode,
    /// What happens when it stops.
    pub on_stop: OnStop,
    /// Its doorbells: its ends of the configuration's channels, by doorbell index.
    pub doorbells: Doorbells,
    /// Its emulated devices by IPA ([`Partition::register_devices`]).
    pub bus: DeviceBus,
    /// Its SBSA generic watchdog, if configured.
    pub watchdog: Option<VirtualWatchdog>,
    /// Its management window, if configured (`privileged` partitions only).
    pub management: Option<ManagementWindow>,
    /// Its restart rate limit (`max-restarts`), if any.
    pub max_restarts: Option<RestartLimit>,
    /// Whether it may make the management calls (`privileged`).
    pub privileged: bool,
    /// Its restart count, last stop reason and rate window.
    pub restarts: RestartLog,
    /// What its vCPUs see of the PMU (`pmu` in its configuration).
    pub pmu: bulkhead_config::model::Pmu,
    /// What its data aborts do (`on-fault` in its configuration).
    pub on_fault: bulkhead_config::model::OnFault,
    /// Its virtio devices (its ends of serial channels), by [`DeviceId::Virtio`] index.
    pub virtio: crate::virtio::links::VirtioEnds,
    /// Its virtio-vsock device, if it has one (`vsock-cid`), at
    /// [`crate::virtio::vsock::board::VSOCK_DEVICE`] on the bus.
    pub vsock: Option<crate::virtio::vsock::board::VsockWindow>,
    state: AtomicU8,
}

impl Partition {
    /// A partition in the `Running` state (or `Refused`).
    #[allow(clippy::too_many_arguments)]
    pub fn new(id: usize, name: &str, state: PartitionState) -> Self {
        let mut owned = String::new();
        let _ = owned.push_str(name);
        Partition {
            id,
            name: owned,
            vttbr: 0,
            cpus: Vec::new(),
            memory: Vec::new(),
            devices: Vec::new(),
            images: Vec::new(),
            entry: 0,
            dtb: 0,
            console: None,
            console_mode: ConsoleMode::None,
            on_stop: OnStop::Off,
            doorbells: Doorbells::new(),
            bus: DeviceBus::new(),
            watchdog: None,
            management: None,
            max_restarts: None,
            privileged: false,
            restarts: RestartLog::new(),
            pmu: bulkhead_config::model::Pmu::Deny,
            on_fault: bulkhead_config::model::OnFault::Stop,
            virtio: crate::virtio::links::VirtioEnds::new(),
            vsock: None,
            state: AtomicU8::new(state as u8),
        }
    }

    /// The current state.
    pub fn state(&self) -> PartitionState {
        PartitionState::from_u8(self.state.load(Ordering::SeqCst))
    }

    /// The address of the state byte, which the doorbell fast path reads (a ring is taken there
    /// only while it is 0, [`PartitionState::Running`]).
    pub fn state_address(&self) -> usize {
        core::ptr::from_ref(&self.state) as usize
    }

    /// Changes the state (sequentially consistent: vCPU entry and partition stop rely on it).
    pub fn set_state(&self, state: PartitionState) {
        self.state.store(state as u8, Ordering::SeqCst);
    }

    /// Marks a running partition stopped; `false` if it was not running (another vCPU is
    /// already stopping it, or it never ran), so exactly one vCPU carries out each stop.
    pub fn try_stop(&self) -> bool {
        self.state
            .compare_exchange(
                PartitionState::Running as u8,
                PartitionState::Stopped as u8,
                Ordering::SeqCst,
                Ordering::SeqCst,
            )
            .is_ok()
    }

    /// Marks a stopped partition running again; `false` if it was not stopped (it runs, is
    /// being started by someone else, or was refused at boot).
    pub fn try_start(&self) -> bool {
        self.state
            .compare_exchange(
                PartitionState::Stopped as u8,
                PartitionState::Running as u8,
                Ordering::SeqCst,
                Ordering::SeqCst,
            )
            .is_ok()
    }

    /// Registers the partition's emulated devices on its bus: the virtual GIC where the host's
    /// is (`gic`), and its virtual console if it has one.
    pub fn register_devices(&mut self, gic: &GuestGicLayout) -> Result<(), BusError> {
        // A board without a (virtualizable) GIC gives partitions no virtual GIC.
        if gic.distributor.size > 0 {
            self.bus.register(gic.distributor, DeviceId::Distributor)?;
        }
        if let Some(redistributors) = gic.redistributors {
            self.bus
                .register(redistributors, DeviceId::Redistributors)?;
        }
        if let Some(console) = &self.console {
            self.bus.register(console.window, DeviceId::Console)?;
        }
        if let Some(watchdog) = &self.watchdog {
            self.bus
                .register(watchdog.control, DeviceId::WatchdogControl)?;
            self.bus
                .register(watchdog.refresh, DeviceId::WatchdogRefresh)?;
        }
        if let Some(management) = &self.management {
            self.bus.register(management.window, DeviceId::Management)?;
        }
        for (index, end) in self.virtio.iter().enumerate() {
            self.bus
                .register(end.window, DeviceId::Virtio(index as u8))?;
        }
        if let Some(vsock) = &self.vsock {
            self.bus.register(
                vsock.window,
                DeviceId::Virtio(crate::virtio::vsock::board::VSOCK_DEVICE),
            )?;
        }
        Ok(())
    }

    /// Translates `[ipa, ipa + len)` to a host physical address if it lies in the partition's RAM.
    pub fn ram_to_pa(&self, ipa: u64, len: u64) -> Option<u64> {
        self.memory.iter().find_map(|m| m.translate(ipa, len))
    }

    /// Whether `pa` lies in the partition's RAM.
    pub fn owns_pa(&self, pa: u64) -> bool {
        self.memory.iter().any(|m| pa >= m.pa && pa - m.pa < m.size)
    }
}

/// Which vCPU a physical CPU runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VcpuSlot {
    /// Index into [`System::partitions`].
    pub partition: usize,
    /// vCPU index within the partition.
    pub vcpu: usize,
}

/// Where partitions find their (virtual) GIC: the same guest-physical addresses as the host's
/// GIC, so a partition's device tree can copy the host's.
#[derive(Clone, Copy, Debug, Default)]
pub struct GuestGicLayout {
    /// The distributor window (trapped and emulated).
    pub distributor: Range,
    /// GICv3: the redistributor region (trapped and emulated; one frame pair per vCPU).
    pub redistributors: Option<Range>,
}

/// Everything the trap path needs, frozen after boot.
#[derive(Debug)]
pub struct System {
    /// The partitions, in configuration order (refused ones included, never run).
    pub partitions: Vec<Partition, { bulkhead_config::MAX_PARTITIONS }>,
    /// Physical CPUs by logical index: their MPIDR.
    pub cpus: Vec<u64, { crate::MAX_CPUS }>,
    /// What each physical CPU runs.
    pub slots: [Option<VcpuSlot>; crate::MAX_CPUS],
    /// VTCR_EL2 for every partition.
    pub vtcr: u64,
    /// Whether the firmware has PSCI over SMC (for powering the machine off).
    pub firmware_psci: bool,
    /// Whether the GICv3 system register interface is in use.
    pub gic_sysregs: bool,
    /// Where partitions find their virtual GIC.
    pub gic: GuestGicLayout,
    /// The board's power-management watchdog (resets boards without PSCI), if any.
    pub pm_watchdog: Option<u64>,
    /// The partition whose console has the keyboard at boot (`console-focus`), by index.
    pub console_focus: Option<usize>,
    /// The baud rate the console multiplexer paces output to (`console-baud`; 0: none).
    pub console_baud: u32,
    /// Whether the board is reset through [`System::pm_watchdog`] once the last partition
    /// stopped (the configuration's `on-last-stop = "reset"`); otherwise every CPU parks.
    pub reset_on_last_stop: bool,
    /// The SMMU streams of running partitions' devices (`stream-ids`), for the SMMU's stream
    /// table and its fault reports.
    pub dma_streams: crate::smmu::plan::DmaStreams,
}

impl System {
    /// The vCPU physical CPU `cpu` runs, with its partition.
    pub fn slot(&self, cpu: usize) -> Option<(&Partition, usize)> {
        let slot = (*self.slots.get(cpu)?)?;
        Some((self.partitions.get(slot.partition)?, slot.vcpu))
    }

    /// Whether no partition runs any more.
    pub fn all_stopped(&self) -> bool {
        self.partitions
            .iter()
            .all(|p| p.state() != PartitionState::Running)
    }
}

/// The system, once boot has built it.
pub static SYSTEM: spin::Once<System> = spin::Once::new();
