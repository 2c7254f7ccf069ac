//! The boot story on the target: the boot CPU's first Rust code, and [`BootPlatform`] over the
//! real machine (the hardware steps are `arch::boot`; the rest are the hypervisor's global
//! state).

use bulkhead_config::range::Range;

use crate::arch::boot_console::{write_hex, write_str};
use crate::arch::{self, boot::BootHardware};
use crate::cpu;
use crate::host_dt::{HostInfo, UartKind};
use crate::pagetable::TablePool;
use crate::system::{Partition, SYSTEM};
use crate::table_pool::StaticPool;

use super::{
    BootCpu, BootPlatform, EarlyBoot, FastAnswer, SecondaryStart, StartMethod, VirtualGic,
};

/// The boot CPU's first Rust code, with its MMU and caches off: `entry.S` passes x0 from the
/// boot loader (the host device tree), the address the image runs at and the one it is
/// linked at. Up to [`primary_main_mmu_on`] nothing may take a lock or run an atomic
/// read-modify-write (`cargo xtask check-boot` scans everything this reaches): the console is
/// the boot console, written through plain stores.
#[no_mangle]
extern "C" fn primary_main(dtb_pa: u64, running_at: u64, linked_at: u64) -> ! {
    let Some(mut hardware) = BootHardware::take(dtb_pa) else {
        arch::park()
    };
    // A sign of life as early as the UART can give one: the build's UART, set up by us.
    hardware.start_build_console();
    write_str("\nHIL:EARLY Bulkhead at ");
    write_hex(running_at);
    write_str(" dtb ");
    write_hex(dtb_pa);
    write_str(" mmu=off\n");
    if running_at != linked_at {
        write_str("HIL:PANIC Bulkhead is linked at ");
        write_hex(linked_at);
        write_str(" but was loaded at ");
        write_hex(running_at);
        write_str(
            ": the boot loader must load it at its link address (the Pi: kernel_address=0x200000 \
             in config.txt; docs/rpi4.md)\nHIL:HALT the hypervisor cannot run here\n",
        );
        arch::park()
    }
    let Some(tables) = hardware.table_pool() else {
        arch::park()
    };
    let mut target = Target {
        hardware,
        uart_interrupt: None,
    };
    // Filled where it lies and lent from here on: moving it would cost thousands of
    // instructions per move.
    let mut early = EarlyBoot::empty();
    if let Err(why) = super::before_mmu(&mut target, &mut early) {
        write_str("HIL:PANIC ");
        write_str(why.message());
        write_str("\nHIL:HALT the hypervisor cannot boot\n");
        arch::park()
    }
    target.enable_mmu(&early.host, tables);
    primary_main_mmu_on(target, &early, tables)
}

/// The boot CPU from the moment its MMU and caches are on: the full exception vectors, the
/// locked console, the rest of the boot story, then its own vCPU. `cargo xtask check-boot`
/// stops its scan here, by this symbol's name.
#[no_mangle]
#[inline(never)]
fn primary_main_mmu_on(target: Target, early: &EarlyBoot<'static>, tables: &mut StaticPool) -> ! {
    {
        // The hold on the machine ends with this block, before any guest runs.
        let mut target = target;
        target.hardware.use_full_vectors();
        target.hardware.lock_console();
        let booted = super::after_mmu(&mut target, early, tables, &SYSTEM);
        crate::table_pool::publish_used(tables.used());
        crate::console::start(booted.system, target.uart_interrupt);
        if !booted.running {
            cpu::power_off(booted.system);
        }
    }
    cpu::run(0)
}

/// A secondary CPU's first Rust code, after `entry.S` turned its MMU on.
#[no_mangle]
extern "C" fn secondary_main(cpu: usize) -> ! {
    cpu::run(cpu)
}

/// The real machine.
struct Target {
    hardware: BootHardware,
    /// The console UART's interrupt, from the host device tree.
    uart_interrupt: Option<u32>,
}

impl BootPlatform for Target {
    fn print(&mut self, args: core::fmt::Arguments<'_>) {
        crate::console::print(format_args!("{args}\n"));
    }

    fn host_device_tree(&mut self) -> Option<(Range, &'static [u8])> {
        self.hardware.host_device_tree()
    }

    fn boot_cpu(&mut self) -> BootCpu {
        let features = arch::cpu_features();
        BootCpu {
            mpidr: features.mpidr,
            pa_range: features.pa_range,
            gic_sysregs: features.gic_sysregs,
        }
    }

    fn counter(&mut self) -> u64 {
        arch::counter()
    }

    fn start_console(&mut self, host: &HostInfo<'_>) -> Option<(UartKind, Range)> {
        self.uart_interrupt = host.uart_interrupt;
        self.hardware.adopt_console(host.uart)
    }

    fn enable_mmu(&mut self, host: &HostInfo<'_>, tables: &mut dyn TablePool) {
        crate::el2_map::enable(host, tables);
    }

    fn init_entropy(&mut self, host: &HostInfo<'_>) {
        crate::entropy::init_from_host(host);
    }

    fn init_gic(&mut self, host: &HostInfo<'_>) {
        self.hardware.init_gic(host.gic);
    }

    fn image_range(&mut self) -> (u64, u64) {
        arch::memory::image_range()
    }

    fn after_image(&mut self, len: usize) -> Option<&'static [u8]> {
        self.hardware.after_image(len)
    }

    fn route_spi(&mut self, intid: u32, cpu: usize) {
        arch::gic::route_spi(intid, cpu);
    }

    fn init_virtual_gic(&mut self, index: usize, gic: &VirtualGic) {
        crate::interrupts::init_partition(
            index,
            gic.version,
            gic.vcpus,
            gic.hardware.clone(),
            gic.software.clone(),
        );
    }

    fn allow_firmware_calls(&mut self, id: usize, functions: &[u32]) {
        crate::caller::allow_firmware_calls(id, functions);
    }

    fn load_images(&mut self, partition: &Partition) {
        crate::partition::images::load_images(partition, false);
    }

    fn install_fast_calls(&mut self, calls: &[FastAnswer]) {
        self.hardware.install_fast_calls(calls);
    }

    fn publish_cpu_mpidrs(&mut self, cpus: &[u64]) {
        arch::publish_cpu_mpidrs(cpus);
    }

    fn init_smmu(&mut self, host: &HostInfo<'_>, system: &crate::system::System) {
        crate::smmu::service::init(host, system);
    }

    fn start_secondary(&mut self, start: &SecondaryStart) -> Result<(), i64> {
        match start.method {
            StartMethod::Psci => match self.hardware.psci_cpu_on(start.mpidr, start.cpu) {
                0 => Ok(()),
                code => Err(code),
            },
            StartMethod::SpinTable { release } => {
                self.hardware.release_spin_table(release);
                Ok(())
            }
            StartMethod::Unavailable => Ok(()),
        }
    }
}
