//! Boot, as a story ([`init`]): read the host device tree, start the console, turn on the MMU,
//! say hello, initialise the GIC, find the bundle, build the partitions from its configuration,
//! publish the constant hypercall answers, start every CPU, and run.
//!
//! Every step is a function over plain values; the steps that touch hardware or global state go
//! through [`BootPlatform`]: on the target `boot/target.rs` implements it (over the safe
//! hardware steps of `arch/boot.rs` and the hypervisor's global state); host tests fake it.

mod board;
mod bundle;
#[cfg(test)]
mod fake;
mod fast_calls;
mod partitions;
mod platform;
mod secondaries;
#[cfg(target_os = "none")]
mod target;
#[cfg(test)]
mod tests;
mod vgic;

use bulkhead_config::range::Range;

use crate::host_dt::{Gic, HostInfo, PsciConduit};
use crate::pagetable::TablePool;
use crate::partition::PartitionState;
use crate::system::System;

pub use board::board_from_host;
pub use bundle::{find_bundle, hypervisor_reservation, MAX_BUNDLE_SIZE};
pub use fast_calls::{fast_call_table, FastAnswer, FastCallTable};
pub use partitions::{build_partition, build_system, Machine};
pub use platform::{BootCpu, BootPlatform, VirtualGic};
pub use secondaries::{secondary_start_plan, SecondaryStart, StartMethod};
pub use vgic::{setup_virtual_gic, virtual_gic};

const MIB: u64 = 1 << 20;

/// The board name this binary was built for (set by `cargo xtask build`).
pub const BOARD: &str = match option_env!("BULKHEAD_BOARD") {
    Some(board) => board,
    None => "qemu-virt",
};

/// What boot produced: the system, frozen, and whether any partition runs.
#[derive(Debug)]
pub struct Booted<'s> {
    /// The partitions and everything the trap path needs.
    pub system: &'s System,
    /// Whether a partition runs (otherwise the machine is to be powered off).
    pub running: bool,
}

/// What boot knows before the MMU is on: the host device tree, where it lies and what it
/// says (with the console the hypervisor set up as the host's console UART).
#[derive(Debug)]
pub struct EarlyBoot<'h> {
    /// The host device tree's own memory.
    pub dtb: Range,
    /// Its facts.
    pub host: HostInfo<'h>,
}

/// Why boot stopped before the MMU was on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EarlyError {
    /// x0 holds no device tree.
    NoDeviceTree,
    /// The device tree at x0 cannot be read.
    BadDeviceTree,
}

impl EarlyError {
    /// What the console says.
    pub fn message(self) -> &'static str {
        match self {
            EarlyError::NoDeviceTree => {
                "no device tree at x0: the boot loader must pass one (QEMU: -dtb; the Pi's \
                 firmware: device_tree= in config.txt)"
            }
            EarlyError::BadDeviceTree => "the device tree at x0 cannot be read",
        }
    }
}

impl EarlyBoot<'_> {
    /// What [`before_mmu`] fills in: no device tree yet.
    pub const fn empty() -> Self {
        EarlyBoot {
            dtb: Range { start: 0, size: 0 },
            host: HostInfo::empty(),
        }
    }
}

/// Boot's first half, with the MMU and caches off: reads the host device tree into `early` (an
/// [`EarlyBoot::empty`], filled where it lies rather than moved through returns) and starts the
/// console. It must take no lock and run no atomic read-modify-write (`cargo xtask
/// check-boot`): it prints nothing through the locked console either.
pub fn before_mmu<P: BootPlatform>(
    platform: &mut P,
    early: &mut EarlyBoot<'static>,
) -> Result<(), EarlyError> {
    let (dtb, blob) = platform
        .host_device_tree()
        .ok_or(EarlyError::NoDeviceTree)?;
    early.dtb = dtb;
    let host = &mut early.host;
    host.parse_into(blob)
        .map_err(|_| EarlyError::BadDeviceTree)?;
    // The boot CPU is logical CPU 0 (TPIDR_EL2 = 0 from `entry.S`), wherever the tree lists it.
    host.put_first(platform.boot_cpu().mpidr);
    if let Some(uart) = platform.start_console(host) {
        // The UART the hypervisor drives is the host's console, wherever the tree points.
        host.uart = Some(uart);
    }
    Ok(())
}

/// Boots: [`before_mmu`], the MMU on, then [`after_mmu`]. `None` (stop this CPU) without a
/// readable host device tree.
pub fn init<'s, P: BootPlatform, T: TablePool>(
    platform: &mut P,
    tables: &mut T,
    system: &'s spin::Once<System>,
) -> Option<Booted<'s>> {
    let mut early = EarlyBoot::empty();
    before_mmu(platform, &mut early).ok()?;
    platform.enable_mmu(&early.host, tables);
    Some(after_mmu(platform, &early, tables, system))
}

/// Boot's second half, with the MMU and caches on: says hello, initialises the GIC, finds the
/// bundle, builds the system in place in `system` (about 10 KiB: moving it would cost
/// thousands of instructions at boot) from its configuration, then starts it.
pub fn after_mmu<'s, P: BootPlatform, T: TablePool>(
    platform: &mut P,
    early: &EarlyBoot<'_>,
    tables: &mut T,
    system: &'s spin::Once<System>,
) -> Booted<'s> {
    let host = &early.host;
    let cpu = platform.boot_cpu();
    print_banner(platform, host);
    platform.init_entropy(host);
    init_gic(platform, host);
    let bundle = find_bundle(|len| platform.after_image(len));
    let (image_start, image_end) = platform.image_range();
    let machine = Machine {
        board: BOARD,
        host,
        hyp: hypervisor_reservation(image_start, image_end, bundle.map_or(0, |b| b.len() as u64)),
        dtb: early.dtb,
        cpu,
    };
    let system = system.call_once(|| {
        let mut built = partitions::empty_system(&machine);
        partitions::add_partitions(platform, tables, &machine, bundle, &mut built);
        built
    });
    platform.init_smmu(host, system);
    let running = start(platform, host, system);
    Booted { system, running }
}

/// The `HIL:BOOT` line: version, board, CPUs, RAM, GIC, PSCI and the counter.
fn print_banner(platform: &mut impl BootPlatform, host: &HostInfo<'_>) {
    let counter = platform.counter();
    platform.print(format_args!(
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
        counter,
    ));
}

/// Whether `gic` can give partitions interrupts: GICv3, or GICv2 with its hypervisor and virtual
/// CPU interfaces.
pub fn has_virtualization(gic: Option<Gic>) -> bool {
    matches!(
        gic,
        Some(Gic::V3 { .. })
            | Some(Gic::V2 {
                hyp: Some(_),
                vcpu: Some(_),
                ..
            })
    )
}

fn init_gic(platform: &mut impl BootPlatform, host: &HostInfo<'_>) {
    if has_virtualization(host.gic) {
        platform.init_gic(host);
    } else {
        platform.print(format_args!(
            "no GIC with virtualization support: partitions get no interrupts"
        ));
    }
}

/// Starts the system, once it is frozen where every CPU finds it: publishes the constant
/// hypercall answers and starts the secondary CPUs. `false` (power off) if no partition can
/// run.
pub fn start(platform: &mut impl BootPlatform, host: &HostInfo<'_>, system: &System) -> bool {
    let running = system
        .partitions
        .iter()
        .filter(|p| p.state() == PartitionState::Running)
        .count();
    if running == 0 {
        platform.print(format_args!("no partition can run"));
        return false;
    }
    publish_fast_calls(platform, system);
    start_secondaries(platform, host);
    true
}

/// Fills the exception vector's table of constant hypercall answers from the dispatcher.
pub fn publish_fast_calls(platform: &mut impl BootPlatform, system: &System) {
    platform.install_fast_calls(&fast_call_table(system));
}

/// Starts every other CPU by its plan, saying which could not be started.
pub fn start_secondaries(platform: &mut impl BootPlatform, host: &HostInfo<'_>) {
    platform.publish_cpu_mpidrs(&host.cpus);
    for start in secondary_start_plan(host) {
        let SecondaryStart { cpu, mpidr, method } = start;
        if method == StartMethod::Unavailable {
            platform.print(format_args!(
                "CPU {cpu} (MPIDR {mpidr:#x}): no PSCI and no spin table; it stays off"
            ));
        } else if let Err(code) = platform.start_secondary(&start) {
            platform.print(format_args!(
                "CPU {cpu} (MPIDR {mpidr:#x}) did not start: PSCI error {code}"
            ));
        }
    }
}
