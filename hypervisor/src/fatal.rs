//! A hypervisor failure (a Rust panic, or an exception taken at EL2 such as a stack overflow):
//! one report through the console's emergency path, which takes no lock, then the machine's
//! partitions are stopped in a defined way.
//!
//! The first CPU to fail takes the console over, raises [`failed`] (every other CPU parks at its
//! next trap or guest entry, and is kicked so that it traps soon), prints `HIL:PANIC <what>`, one
//! line naming the partition and vCPU this CPU ran (no guest register of any partition), and
//! powers the machine off through PSCI SYSTEM_OFF where the firmware has it, else parks. A CPU
//! that fails after that, or while reporting, parks silently.

use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch;
use crate::system::SYSTEM;

/// Prints a line through the boot console (no lock, no atomic read-modify-write: it works with
/// the MMU off, and whoever holds the console lock).
macro_rules! emergency_println {
    ($($arg:tt)*) => {
        arch::boot_console::print(format_args!("{}\n", format_args!($($arg)*)))
    };
}

use crate::smccc::function_id::psci::SYSTEM_OFF as PSCI_SYSTEM_OFF;

static FAILED: AtomicBool = AtomicBool::new(false);

/// Whether the hypervisor failed on some CPU (every CPU parks as soon as it sees this).
pub fn failed() -> bool {
    FAILED.load(Ordering::Acquire)
}

/// Reports a hypervisor failure on this CPU and stops the machine's partitions; never returns.
pub fn fail(what: core::fmt::Arguments<'_>) -> ! {
    FAILED.store(true, Ordering::Release);
    if !crate::console::take_over() {
        arch::park()
    }
    let cpu = arch::current_cpu();
    let system = SYSTEM.get();
    if let Some(system) = system {
        for other in (0..system.cpus.len()).filter(|&c| c != cpu) {
            arch::gic::send_sgi(other, crate::vgic::KICK_SGI);
        }
    }
    emergency_println!("HIL:PANIC {}", what);
    match system.and_then(|s| s.slot(cpu)) {
        Some((partition, vcpu)) => emergency_println!(
            "HIL:PANIC-CPU cpu={} partition={} vcpu={}",
            cpu,
            partition.name,
            vcpu
        ),
        None => emergency_println!("HIL:PANIC-CPU cpu={} partition=none", cpu),
    }
    emergency_println!("hypervisor failed: every partition is stopped");
    if system.is_some_and(|s| s.firmware_psci) {
        arch::smc_call(PSCI_SYSTEM_OFF, 0, 0, 0);
    }
    emergency_println!("HIL:HALT the hypervisor failed");
    arch::park()
}
