//! Boot, as a story: find out what the board is, turn on the MMU, say hello, build the
//! partitions from the bundled configuration, start every CPU, and run.

use bulkhead_config::board::{Board, HostDevice, Reserved};
use bulkhead_config::bundle::{Bundle, CONFIG_ENTRY};
use bulkhead_config::model::{Config, PartitionConfig};
use bulkhead_config::range::Range;
use bulkhead_config::validate::validate;

use crate::arch::{self, memory};
use crate::host_dt::{Gic, HostInfo, PsciConduit, UartKind};
use crate::pagetable::{stage2, PageTable};
use crate::partition::{plan_memory, PartitionState};
use crate::phys_alloc::PhysAllocator;
use crate::system::{
    GuestGicLayout, LoadedImage, Partition, System, VcpuSlot, VirtualConsole, SYSTEM,
};
use crate::table_pool::POOL;
use crate::vuart::VirtualPl011;
use crate::{cpu, println};

const MIB: u64 = 1 << 20;
const ALIGN_2M: u64 = 2 * MIB;
/// PSCI CPU_ON, SMC64 form.
const PSCI_CPU_ON_64: u32 = 0xc400_0003;
/// GICv2 CPU interface registers a guest uses (GICC_CTLR .. GICC_DIR), two 4 KiB pages.
const GICV2_CPU_INTERFACE_SIZE: u64 = 0x2000;

/// The board name this binary was built for (set by `cargo xtask build`).
const BOARD: &str = match option_env!("BULKHEAD_BOARD") {
    Some(board) => board,
    None => "qemu-virt",
};

extern "C" {
    fn secondary_entry();
}

/// The boot CPU's first Rust code: x0 from the boot loader is the host device tree.
#[no_mangle]
extern "C" fn primary_main(dtb_pa: u64) -> ! {
    // SAFETY: the boot protocol puts a device tree at x0; `fdt_size` checks its header.
    let Some(dtb_size) = (unsafe { memory::fdt_size(dtb_pa) }) else {
        arch::park()
    };
    // SAFETY: the device tree stays untouched in reserved RAM for the hypervisor's lifetime.
    let dtb = unsafe { memory::phys_slice(dtb_pa, dtb_size) };
    let Ok(mut host) = HostInfo::parse(dtb) else {
        arch::park()
    };
    // The boot CPU is logical CPU 0 (TPIDR_EL2 = 0 from entry.S), wherever the device tree
    // lists it.
    host.put_first(arch::cpu_features().mpidr);
    start_console(&host);
    let (image_start, image_end) = memory::image_range();
    crate::el2_map::enable(&host);
    let features = arch::cpu_features();
    println!(
        "HIL:BOOT Bulkhead {} el=2 board={} cpus={} ram={}MiB gic=v{} psci={} counter={}",
        crate::VERSION,
        BOARD,
        host.cpus.len(),
        host.ram_bytes() / MIB,
        host.gic.map(|g| g.version()).unwrap_or(0),
        if host.psci == Some(PsciConduit::Smc) {
            "smc"
        } else {
            "none"
        },
        arch::counter(),
    );
    crate::entropy::init_from_host(&host);

    match host.gic {
        Some(Gic::V3 {
            distributor,
            redistributors,
        }) => {
            // SAFETY: the device tree names these frames; the EL2 map covers them as device
            // memory; nothing else drives the GIC.
            unsafe {
                arch::gic::init_v3(distributor.start, redistributors.start, redistributors.size)
            }
        }
        Some(Gic::V2 {
            distributor,
            cpu,
            hyp: Some(hyp),
            vcpu: Some(_),
        }) => {
            // SAFETY: as for GICv3.
            unsafe { arch::gic::init_v2(distributor.start, cpu.start, hyp.start) }
        }
        _ => println!("no GIC with virtualization support: partitions get no interrupts"),
    }
    let bundle = find_bundle(image_end);
    let hyp_reserved = Range {
        start: image_start & !(ALIGN_2M - 1),
        size: align_up(image_end + bundle.map_or(0, |b| b.len() as u64), ALIGN_2M)
            - (image_start & !(ALIGN_2M - 1)),
    };
    let system = build_system(
        &host,
        bundle,
        hyp_reserved,
        Range {
            start: dtb_pa,
            size: dtb_size as u64,
        },
        features.pa_range,
        features.gic_sysregs,
    );
    let system = SYSTEM.call_once(|| system);
    let running = system
        .partitions
        .iter()
        .filter(|p| p.state() == PartitionState::Running)
        .count();
    if running == 0 {
        println!("no partition can run");
        cpu::power_off(system);
    }
    publish_fast_calls(system);
    start_secondaries(&host);
    cpu::run(0)
}

/// A secondary CPU's first Rust code, after `entry.S` turned its MMU on.
#[no_mangle]
extern "C" fn secondary_main(cpu: usize) -> ! {
    cpu::run(cpu)
}

fn start_console(host: &HostInfo<'_>) {
    static PL011: spin::Once<crate::pl011::Pl011> = spin::Once::new();
    static MINI_UART: spin::Once<crate::mini_uart::MiniUart> = spin::Once::new();
    match host.uart {
        Some((UartKind::Pl011, range)) => crate::console::init(PL011.call_once(|| {
            // SAFETY: the device tree names this UART as the console; no partition may claim
            // it (host devices are never passed through) and it is mapped as device memory.
            unsafe { crate::pl011::Pl011::new(range.start) }
        })),
        Some((UartKind::MiniUart, range)) => crate::console::init(MINI_UART.call_once(|| {
            // SAFETY: as for the PL011.
            unsafe { crate::mini_uart::MiniUart::new(range.start) }
        })),
        None => {}
    }
}

fn align_up(value: u64, align: u64) -> u64 {
    value.div_ceil(align) * align
}

/// The bundle appended to the image by `cargo xtask build`, if there is one.
fn find_bundle(image_end: u64) -> Option<&'static [u8]> {
    // SAFETY: the loader loaded the whole file (image_size covers the bundle); the header is in
    // RAM right after the image.
    let header = unsafe { memory::phys_slice(image_end, 64) };
    let size = Bundle::total_size_from_header(header)?;
    if size > 1 << 30 {
        return None;
    }
    // SAFETY: as above, for the size the header gives; nothing writes the bundle.
    Some(unsafe { memory::phys_slice(image_end, size as usize) })
}

/// The board as the host device tree describes it, for validating the configuration again.
fn board_from_host(host: &HostInfo<'_>, hyp: Range, dtb: Range) -> Board {
    let mut board = Board::default();
    let _ = board.name.push_str(BOARD);
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

fn build_system(
    host: &HostInfo<'_>,
    bundle: Option<&'static [u8]>,
    hyp: Range,
    dtb: Range,
    pa_range: u8,
    gic_sysregs: bool,
) -> System {
    let mut system = System {
        partitions: heapless::Vec::new(),
        cpus: host.cpus.clone(),
        slots: [None; crate::MAX_CPUS],
        vtcr: stage2::vtcr(pa_range),
        firmware_psci: host.psci == Some(PsciConduit::Smc),
        gic_sysregs: gic_sysregs && matches!(host.gic, Some(Gic::V3 { .. })),
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
    };
    let Some(bundle) = bundle.and_then(|b| Bundle::parse(b).ok()) else {
        println!("no configuration bundle after the image: build with `cargo xtask build`");
        return system;
    };
    let Some(config) = bundle
        .get(CONFIG_ENTRY)
        .and_then(|blob| Config::parse(blob).ok())
    else {
        println!("the bundle's {CONFIG_ENTRY} is not a valid configuration");
        return system;
    };
    let board = board_from_host(host, hyp, dtb);
    let errors = validate(&config, &board, &|name| {
        bundle.get(name).map(|data| data.len() as u64)
    });
    for error in errors.iter().filter(|e| e.partition.is_none()) {
        println!("configuration error: {error}");
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

    for (index, partition_config) in config.partitions.iter().enumerate() {
        let id = index + 1;
        let mut refused = false;
        for error in errors.iter().filter(|e| e.partition == Some(index)) {
            println!(
                "partition \"{}\" (id {id}) refused: {error}",
                partition_config.name
            );
            refused = true;
        }
        let partition = if refused {
            Partition::new(id, partition_config.name, PartitionState::Refused)
        } else {
            let cpu_interface = match host.gic {
                Some(Gic::V2 {
                    cpu,
                    vcpu: Some(vcpu),
                    ..
                }) => Some((cpu.start, vcpu.start)),
                _ => None,
            };
            match build_partition(id, partition_config, &bundle, &mut allocator, cpu_interface) {
                Ok(partition) => partition,
                Err(why) => {
                    println!(
                        "partition \"{}\" (id {id}) refused: {why}",
                        partition_config.name
                    );
                    Partition::new(id, partition_config.name, PartitionState::Refused)
                }
            }
        };
        let mut partition = partition;
        if partition.state() == PartitionState::Running {
            partition.doorbells = crate::doorbell::doorbells_of(&config, partition_config.name);
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
            setup_virtual_gic(host, index, &partition, partition_config);
        }
        if system.partitions.push(partition).is_err() {
            break;
        }
    }
    for channel in &config.channels {
        let [a, b] = &channel.ends;
        println!(
            "channel \"{}\": partition \"{}\" receives INTID {}, partition \"{}\" INTID {}",
            channel.name, a.partition, a.intid, b.partition, b.intid
        );
    }
    system
}

fn build_partition(
    id: usize,
    config: &PartitionConfig<'_>,
    bundle: &Bundle<'static>,
    allocator: &mut PhysAllocator,
    cpu_interface: Option<(u64, u64)>,
) -> Result<Partition, &'static str> {
    let mut partition = Partition::new(id, config.name, PartitionState::Running);
    partition.memory = plan_memory(config, allocator).map_err(|_| "not enough free RAM")?;
    let mut pool = POOL.lock();
    let mut table = PageTable::new(&mut *pool).map_err(|_| "out of stage-2 tables")?;
    for region in &partition.memory {
        table
            .map(&mut *pool, region.ipa, region.pa, region.size, stage2::RAM)
            .map_err(|_| "stage-2 mapping of its memory failed")?;
    }
    for device in &config.devices {
        table
            .map(
                &mut *pool,
                device.ipa,
                device.phys.start,
                device.phys.size,
                stage2::DEVICE,
            )
            .map_err(|_| "stage-2 mapping of a device failed")?;
        let _ = partition.devices.push(crate::partition::Mapping {
            ipa: device.ipa,
            pa: device.phys.start,
            size: device.phys.size,
        });
    }
    if let Some((ipa, pa)) = cpu_interface {
        // GICv2: the partition's GICC is the hardware's virtual CPU interface (GICV), so the
        // guest acknowledges and ends its interrupts without trapping.
        table
            .map(
                &mut *pool,
                ipa,
                pa,
                GICV2_CPU_INTERFACE_SIZE,
                stage2::DEVICE,
            )
            .map_err(|_| "stage-2 mapping of the virtual CPU interface failed")?;
    }
    drop(pool);
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
    crate::caller::allow_firmware_calls(id, &config.smc_allow);
    partition.console = config.console.map(|window| VirtualConsole {
        window,
        state: spin::Mutex::new((VirtualPl011::new(), Default::default())),
    });
    cpu::load_images(&partition, false);
    let total: u64 = partition.memory.iter().map(|m| m.size).sum();
    println!(
        "partition \"{}\" (id {id}): {} MiB at PA {:#x}, {} device(s), vCPUs on MPIDR {:?}",
        partition.name,
        total / MIB,
        partition.memory.first().map_or(0, |m| m.pa),
        partition.devices.len(),
        config.cpus.as_slice(),
    );
    Ok(partition)
}

/// Fills the exception vector's table of constant hypercall answers from the dispatcher.
fn publish_fast_calls(system: &System) {
    use crate::arch::fast_path::{FastCall, MAX_FAST_CALLS};
    use crate::smccc::{dispatch, Action, Call};
    let Some(partition) = system
        .partitions
        .iter()
        .find(|p| p.state() == PartitionState::Running)
    else {
        return;
    };
    let mut caller = crate::caller::RunningVcpu { partition, vcpu: 0 };
    let mut calls: heapless::Vec<FastCall, MAX_FAST_CALLS> = heapless::Vec::new();
    for &function in crate::smccc::constant::CONSTANT_CALLS {
        let call = Call {
            function,
            args: [0; 6],
            aarch32: false,
        };
        if let Action::Return(values) = dispatch(&call, &mut caller) {
            let _ = calls.push(FastCall {
                function: u64::from(function),
                values,
            });
        }
    }
    // SAFETY: no CPU has entered a guest yet.
    unsafe { arch::fast_path::set_fast_calls(&calls) };
}

/// Gives partition `index` its virtual distributor with the SPIs it owns, routed to its first
/// vCPU until the guest says otherwise.
fn setup_virtual_gic(
    host: &HostInfo<'_>,
    index: usize,
    partition: &Partition,
    config: &PartitionConfig<'_>,
) {
    let Some(gic) = host.gic else {
        return;
    };
    let mut hardware = crate::vgic::IntidSet::default();
    for device in &config.devices {
        for &intid in &device.interrupts {
            hardware.insert(intid);
        }
    }
    let software = crate::doorbell::receiving_intids(&partition.doorbells);
    let boot_cpu = partition.cpus.first().copied().unwrap_or(0);
    for intid in crate::vgic::FIRST_SPI..crate::vgic::MAX_INTIDS as u32 {
        if hardware.contains(intid) {
            arch::gic::route_spi(intid, boot_cpu);
        }
    }
    crate::interrupts::init_partition(
        index,
        crate::interrupts::version_of(&gic),
        partition.cpus.len(),
        hardware,
        software,
    );
}

/// Starts every other CPU at `secondary_entry`: PSCI CPU_ON where the firmware has PSCI,
/// otherwise the spin table the device tree describes (Raspberry Pi). Never issues an SMC on a
/// board without PSCI: with the Pi's stock firmware there is nothing at EL3 to answer it.
fn start_secondaries(host: &HostInfo<'_>) {
    let entry = secondary_entry as *const () as usize as u64;
    arch::publish_cpu_mpidrs(&host.cpus);
    for (cpu, &mpidr) in host
        .cpus
        .iter()
        .enumerate()
        .skip(1)
        .take(crate::MAX_CPUS - 1)
    {
        let release = host.release_addresses.get(cpu).copied().unwrap_or(0);
        if host.psci == Some(PsciConduit::Smc) {
            let result = arch::smc_call(PSCI_CPU_ON_64, mpidr, entry, cpu as u64)[0] as i64;
            if result != 0 {
                println!("CPU {cpu} (MPIDR {mpidr:#x}) did not start: PSCI error {result}");
            }
        } else if release != 0 {
            // SAFETY: the device tree names this as the CPU's release address; it is reserved
            // memory (the firmware's spin table page) that no partition owns.
            unsafe { arch::memory::release_spin_table(release, entry) };
        } else {
            println!("CPU {cpu} (MPIDR {mpidr:#x}): no PSCI and no spin table; it stays off");
        }
    }
}
