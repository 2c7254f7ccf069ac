//! Building the system from the bundled configuration: validate it against the host board,
//! place each partition's memory, build its stage-2 tables, find its images, and refuse (alone)
//! every partition that cannot run.

use bulkhead_config::bundle::{Bundle, CONFIG_ENTRY};
use bulkhead_config::model::{Config, PartitionConfig};
use bulkhead_config::range::Range;
use bulkhead_config::validate::validate;

use crate::devices::mgmt_window::MgmtWindow;
use crate::devices::sbsa_watchdog::SbsaWatchdog;
use crate::host_dt::{Gic, HostInfo, PsciConduit};
use crate::pagetable::{stage2, PageTable, TablePool};
use crate::partition::{plan_memory, Mapping, PartitionState};
use crate::phys_alloc::PhysAllocator;
use crate::system::{
    GuestGicLayout, LoadedImage, ManagementWindow, Partition, System, VcpuSlot, VirtualConsole,
    VirtualWatchdog,
};

use super::board::board_from_host;
use super::platform::{BootCpu, BootPlatform};
use super::vgic::setup_virtual_gic;

const MIB: u64 = 1 << 20;
/// GICv2 CPU interface registers a guest uses (GICC_CTLR .. GICC_DIR), two 4 KiB pages.
pub const GICV2_CPU_INTERFACE_SIZE: u64 = 0x2000;

/// What boot knows about the machine when it builds the system.
#[derive(Clone, Copy, Debug)]
pub struct Machine<'a> {
    /// The board name this binary was built for.
    pub board: &'a str,
    /// The host device tree's facts.
    pub host: &'a HostInfo<'a>,
    /// The hypervisor's image and bundle.
    pub hyp: Range,
    /// The host device tree's own memory.
    pub dtb: Range,
    /// The boot CPU.
    pub cpu: BootCpu,
}

/// The system before any partition is added: the host's CPUs, GIC and firmware.
pub fn empty_system(machine: &Machine<'_>) -> System {
    let host = machine.host;
    System {
        partitions: heapless::Vec::new(),
        cpus: host.cpus.clone(),
        slots: [None; crate::MAX_CPUS],
        vtcr: stage2::vtcr(machine.cpu.pa_range),
        firmware_psci: host.psci == Some(PsciConduit::Smc),
        gic_sysregs: machine.cpu.gic_sysregs && matches!(host.gic, Some(Gic::V3 { .. })),
        gic: match host.gic {
            Some(Gic::V3 {
                distributor,
                redistributors,
            }) => GuestGicLayout {
                distributor,
                redistributors: Some(redistributors),
            },
            Some(Gic::V2 { distributor, .. }) => GuestGicLayout {
                distributor,
                redistributors: None,
            },
            None => GuestGicLayout::default(),
        },
        pm_watchdog: host.pm_watchdog.map(|range| range.start),
        console_focus: None,
        console_baud: 0,
        reset_on_last_stop: false,
        dma_streams: heapless::Vec::new(),
    }
}

/// The system `bundle` configures on `machine`. A missing or unreadable bundle or configuration
/// gives a system without partitions; a partition the host board cannot run is refused with
/// its reasons printed, and the others are built all the same.
pub fn build_system(
    platform: &mut impl BootPlatform,
    tables: &mut dyn TablePool,
    machine: &Machine<'_>,
    bundle: Option<&'static [u8]>,
) -> System {
    let mut system = empty_system(machine);
    add_partitions(platform, tables, machine, bundle, &mut system);
    system
}

/// [`build_system`]'s work on `system` where it lies (an [`empty_system`]): the partitions
/// `bundle` configures, added to it. The system is about 14 KiB: filled in place, it is moved
/// once (into the static every CPU reads), not once per return.
pub fn add_partitions(
    platform: &mut impl BootPlatform,
    tables: &mut dyn TablePool,
    machine: &Machine<'_>,
    bundle: Option<&'static [u8]>,
    system: &mut System,
) {
    let host = machine.host;
    let Some(bundle) = bundle.and_then(|b| Bundle::parse(b).ok()) else {
        platform.print(format_args!(
            "no configuration bundle after the image: build with `cargo xtask build`"
        ));
        return;
    };
    // Parsed where it lies: the configuration is about 17 KiB, and each move of it (out of a
    // `Result`, out of an `Option`) costs thousands of instructions at boot.
    let mut parsed = Config::empty();
    let parsed_ok = match bundle.get(CONFIG_ENTRY) {
        Some(dtb) => parsed.parse_into(dtb).is_ok(),
        None => false,
    };
    if !parsed_ok {
        platform.print(format_args!(
            "the bundle's {CONFIG_ENTRY} is not a valid configuration"
        ));
        return;
    }
    let config = &parsed;
    system.reset_on_last_stop = config.on_last_stop == bulkhead_config::model::LastStop::Reset;
    crate::virtio::links::init(config);
    crate::virtio::vsock::board::init(config);
    let board = board_from_host(machine.board, host, machine.hyp, machine.dtb);
    let errors = validate(config, &board, &|name| {
        bundle.get(name).map(|data| data.len() as u64)
    });
    for error in errors.iter().filter(|e| e.partition.is_none()) {
        platform.print(format_args!("configuration error: {error}"));
    }

    let mut allocator = PhysAllocator::new(&host.ram);
    for reserved in &board.reserved {
        allocator.reserve(reserved.range);
    }
    for partition in &config.partitions {
        for region in &partition.memory {
            if let Some(pa) = region.phys {
                allocator.reserve(Range {
                    start: pa,
                    size: region.ipa.size,
                });
            }
        }
    }
    // Channels' shared memory is nobody's RAM: taken out before anything is allocated.
    for shared in config.channels.iter().filter_map(|c| c.shared) {
        allocator.reserve(shared.phys);
    }
    // A global error (a bad `console-focus`) leaves the default focus.
    system.console_focus = config
        .console
        .focus
        .and_then(|name| config.partition_index(name));
    system.console_baud = config.console.baud;
    let cpu_interface = match host.gic {
        Some(Gic::V2 {
            cpu,
            vcpu: Some(vcpu),
            ..
        }) => Some((cpu.start, vcpu.start)),
        _ => None,
    };

    for (index, partition_config) in config.partitions.iter().enumerate() {
        let id = index + 1;
        let name = partition_config.name;
        let mut refused = false;
        for error in errors.iter().filter(|e| e.partition == Some(index)) {
            platform.print(format_args!(
                "partition \"{name}\" (id {id}) refused: {error}"
            ));
            refused = true;
        }
        let mut partition = if refused {
            Partition::new(id, name, PartitionState::Refused)
        } else {
            let shared = shared_windows(config, name);
            match build_partition(
                id,
                partition_config,
                &bundle,
                &mut allocator,
                tables,
                cpu_interface,
                &shared,
            ) {
                Ok(mut partition) => {
                    partition.virtio = crate::virtio::links::ends_of(config, name);
                    partition.vsock = crate::virtio::vsock::board::window_of(config, name);
                    match partition.register_devices(&system.gic) {
                        Ok(()) => partition,
                        Err(why) => {
                            platform.print(format_args!(
                                "partition \"{name}\" (id {id}) refused: {why}"
                            ));
                            Partition::new(id, name, PartitionState::Refused)
                        }
                    }
                }
                Err(why) => {
                    platform.print(format_args!(
                        "partition \"{name}\" (id {id}) refused: {why}"
                    ));
                    Partition::new(id, name, PartitionState::Refused)
                }
            }
        };
        if partition.state() == PartitionState::Running {
            platform.allow_firmware_calls(id, &partition_config.smc_allow);
            platform.load_images(&partition);
            print_placement(platform, &partition, partition_config);
            print_unprotected_dma(platform, partition_config);
            partition.doorbells = crate::doorbell::doorbells_of(config, name);
            for (vcpu, mpidr) in partition_config.cpus.iter().enumerate() {
                if let Some(cpu) = host.cpus.iter().position(|m| m == mpidr) {
                    let _ = partition.cpus.push(cpu);
                    if let Some(slot) = system.slots.get_mut(cpu) {
                        *slot = Some(VcpuSlot {
                            partition: index,
                            vcpu,
                        });
                    }
                }
            }
            setup_virtual_gic(platform, host.gic, index, &partition, partition_config);
            keep_dma_streams(&mut system.dma_streams, index, partition_config);
        }
        if system.partitions.push(partition).is_err() {
            break;
        }
    }
    crate::management::record_free_ram(allocator.free().iter().map(|r| r.size).sum());
    for channel in &config.channels {
        let [a, b] = &channel.ends;
        platform.print(format_args!(
            "channel \"{}\": partition \"{}\" receives INTID {}, partition \"{}\" INTID {}",
            channel.name, a.partition, a.intid, b.partition, b.intid
        ));
        if let Some(shared) = channel.shared {
            let access = |end: usize| if shared.writable[end] { "rw" } else { "ro" };
            platform.print(format_args!(
                "channel \"{}\": shared memory {:#x} bytes at PA {:#x}: \"{}\" at IPA {:#x} {}, \"{}\" at IPA {:#x} {}",
                channel.name,
                shared.phys.size,
                shared.phys.start,
                a.partition,
                shared.ipa[0],
                access(0),
                b.partition,
                shared.ipa[1],
                access(1),
            ));
        }
    }
}

/// Keeps the stream IDs of partition `index`'s devices for the SMMU.
fn keep_dma_streams(
    streams: &mut crate::smmu::plan::DmaStreams,
    index: usize,
    config: &PartitionConfig<'_>,
) {
    for device in &config.devices {
        for &sid in &device.stream_ids {
            let mut name = heapless::String::new();
            let _ = name.push_str(device.node);
            let _ = streams.push(crate::smmu::plan::DmaStream {
                sid,
                partition: index,
                device: name,
            });
        }
    }
}

/// One warning line per device of the partition allowed DMA with no SMMU in front of it
/// (`unprotected-dma` in a direct-mapped partition; validation refused every other case).
fn print_unprotected_dma(platform: &mut impl BootPlatform, config: &PartitionConfig<'_>) {
    for device in config.devices.iter().filter(|d| d.unprotected_dma) {
        let warning = bulkhead_config::dma::UnprotectedDma {
            partition: config,
            device,
        };
        platform.print(format_args!("{warning}"));
    }
}

/// The line that says where a partition was placed.
fn print_placement(
    platform: &mut impl BootPlatform,
    partition: &Partition,
    config: &PartitionConfig<'_>,
) {
    let total: u64 = partition.memory.iter().map(|m| m.size).sum();
    platform.print(format_args!(
        "partition \"{}\" (id {}): {} MiB at PA {:#x}, {} device(s), vCPUs on MPIDR {:?}",
        partition.name,
        partition.id,
        total / MIB,
        partition.memory.first().map_or(0, |m| m.pa),
        partition.devices.len(),
        config.cpus.as_slice(),
    ));
}

/// One end's view of a channel's shared memory: mapped at `ipa`, writable or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SharedWindow {
    /// Where the partition sees it.
    pub ipa: u64,
    /// The physical region.
    pub pa: u64,
    /// Its size.
    pub size: u64,
    /// Whether the partition may write it.
    pub writable: bool,
}

/// The shared-memory windows of partition `name`: one per channel with shared memory it is an
/// end of, in configuration order.
pub fn shared_windows(
    config: &bulkhead_config::model::Config<'_>,
    name: &str,
) -> heapless::Vec<SharedWindow, { bulkhead_config::MAX_CHANNELS }> {
    config
        .channels_of(name)
        .filter_map(|(channel, end)| {
            let shared = channel.shared?;
            Some(SharedWindow {
                ipa: *shared.ipa.get(end)?,
                pa: shared.phys.start,
                size: shared.phys.size,
                writable: *shared.writable.get(end)?,
            })
        })
        .collect()
}

/// Partition `id` as `config` describes it, its memory taken from `allocator` and its stage-2
/// tables from `tables`: RAM, passthrough devices and, on GICv2 (`cpu_interface` = the GICC
/// IPA and the GICV frame), the virtual CPU interface. Its images come from `bundle`.
pub fn build_partition(
    id: usize,
    config: &PartitionConfig<'_>,
    bundle: &Bundle<'static>,
    allocator: &mut PhysAllocator,
    tables: &mut dyn TablePool,
    cpu_interface: Option<(u64, u64)>,
    shared: &[SharedWindow],
) -> Result<Partition, &'static str> {
    let mut partition = Partition::new(id, config.name, PartitionState::Running);
    partition.memory = plan_memory(config, allocator).map_err(|_| "not enough free RAM")?;
    let mut table = PageTable::new(tables).map_err(|_| "out of stage-2 tables")?;
    for region in &partition.memory {
        table
            .map(tables, region.ipa, region.pa, region.size, stage2::RAM)
            .map_err(|_| "stage-2 mapping of its memory failed")?;
    }
    for device in &config.devices {
        table
            .map(
                tables,
                device.ipa,
                device.phys.start,
                device.phys.size,
                stage2::DEVICE,
            )
            .map_err(|_| "stage-2 mapping of a device failed")?;
        let _ = partition.devices.push(Mapping {
            ipa: device.ipa,
            pa: device.phys.start,
            size: device.phys.size,
        });
    }
    for window in shared {
        let attributes = if window.writable {
            stage2::SHARED_RW
        } else {
            stage2::SHARED_RO
        };
        table
            .map(tables, window.ipa, window.pa, window.size, attributes)
            .map_err(|_| "stage-2 mapping of a channel's shared memory failed")?;
    }
    if let Some((ipa, pa)) = cpu_interface {
        // GICv2: the partition's GICC is the hardware's virtual CPU interface (GICV), so the
        // guest acknowledges and ends its interrupts without trapping.
        table
            .map(tables, ipa, pa, GICV2_CPU_INTERFACE_SIZE, stage2::DEVICE)
            .map_err(|_| "stage-2 mapping of the virtual CPU interface failed")?;
    }
    partition.vttbr = stage2::vttbr(table.root(), id as u8);
    for image in [
        Some(&config.kernel),
        config.dtb.as_ref(),
        config.initrd.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        let data = bundle
            .get(image.file)
            .ok_or("an image is missing from the bundle")?;
        let pa = partition
            .ram_to_pa(image.load, data.len() as u64)
            .ok_or("an image does not fit its memory")?;
        let _ = partition.images.push(LoadedImage { data, pa });
    }
    partition.entry = config.entry;
    partition.dtb = config.dtb.as_ref().map_or(0, |dtb| dtb.load);
    partition.on_stop = config.on_stop;
    partition.console_mode = config.console_mode;
    partition.console = config
        .console
        .map(|window| VirtualConsole::new(window, bulkhead_config::CONSOLE_INTID));
    partition.watchdog = config.watchdog.map(|watchdog| VirtualWatchdog {
        control: watchdog.control,
        refresh: watchdog.refresh,
        intid: watchdog.intid,
        state: spin::Mutex::new(SbsaWatchdog::new()),
    });
    partition.pmu = config.pmu;
    partition.on_fault = config.on_fault;
    partition.max_restarts = config.max_restarts;
    partition.privileged = config.privileged;
    // The configuration allows a window only with `privileged`; never map one without.
    partition.management = config
        .management
        .filter(|_| config.privileged)
        .map(|window| ManagementWindow {
            window,
            state: spin::Mutex::new(MgmtWindow::new()),
        });
    Ok(partition)
}
