//! The boot story on the target: the boot CPU's first Rust code, and [`BootPlatform`] over the
//! real machine (the hardware steps are `arch::boot`; the rest are the hypervisor's global
//! state).

use bulkhead_config::range::Range;

use crate::arch::{self, boot::BootHardware};
use crate::cpu;
use crate::host_dt::HostInfo;
use crate::system::{Partition, SYSTEM};
use crate::table_pool::POOL;

use super::{BootCpu, BootPlatform, FastAnswer, SecondaryStart, StartMethod, VirtualGic};

/// The boot CPU's first Rust code: x0 from the boot loader is the host device tree.
#[no_mangle]
extern "C" fn primary_main(dtb_pa: u64) -> ! {
    let Some(hardware) = BootHardware::take(dtb_pa) else {
        arch::park()
    };
    {
        // The hold on the machine ends with this block, before any guest runs.
        let mut target = Target {
            hardware,
            uart_interrupt: None,
        };
        let Some(booted) = super::init(&mut target, &POOL, &SYSTEM) else {
            arch::park()
        };
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

    fn start_console(&mut self, host: &HostInfo<'_>) {
        self.uart_interrupt = host.uart_interrupt;
        self.hardware.start_console(host.uart);
    }

    fn enable_mmu(&mut self, host: &HostInfo<'_>) {
        crate::el2_map::enable(host);
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
