//! The partition's story: read the device tree, open the console, find out what runs below,
//! start interrupts, then run the chosen mode.
#![forbid(unsafe_code)]

use rtos::arch::{boot, cpu, mmio};
use rtos::devicetree::Platform;
use rtos::drivers::serial::{HypercallConsole, CONSOLE_LINE};
use rtos::println;
use rtos::runtime::{self, Sink};

use crate::args::{Mode, Settings};
use crate::host::Host;

/// The console UART's baud rate and reference clock (QEMU `virt`'s `apb-pclk`; a virtual
/// PL011 ignores both).
const BAUD: u32 = 115_200;
const UART_CLOCK: u32 = 24_000_000;

/// The entry (see [`rtos::entry!`]).
pub fn main(device_tree: usize, boot_counter: u64) -> ! {
    let Some(platform) = boot::device_tree(device_tree).and_then(Platform::parse) else {
        runtime::fault(format_args!("no device tree at x0={device_tree:#x}"))
    };
    let host = Host::detect(&platform);
    open_console(&platform, host);
    let settings = match Settings::parse(|key| platform.arg(key)) {
        Ok(settings) => settings,
        Err(e) => runtime::fault(format_args!("bad boot argument {}={}", e.key, e.value)),
    };
    let partition = match host {
        Host::Bulkhead {
            info: Some(info), ..
        } => info.id,
        _ => 0,
    };
    println!(
        "HIL:RTOS start host={} partition={} boot-counter={} cntfrq={} cpus={} bootargs=\"{}\"",
        host.name(),
        partition,
        boot_counter,
        cpu::frequency().0,
        platform.cpus,
        platform.bootargs
    );
    // The statistics below are measured with this memory setup (docs/rtos.md).
    let caches = if cpu::caches_on() { "on" } else { "off" };
    println!("HIL:RTOS memory mmu={caches} caches={caches}");
    boot_action(host, &settings);
    defmt::info!(
        "RTOS up on {=str}, boot counter {=u64}",
        host.name(),
        boot_counter
    );
    let gic = match runtime::start_interrupts(&platform) {
        Ok(version) => version,
        Err(e) => runtime::fault(format_args!("interrupts: {e:?}")),
    };
    println!(
        "HIL:RTOS interrupts gic=v{} timer-intid={}",
        gic, platform.vtimer_intid
    );
    runtime::flush_console();
    match settings.mode {
        Mode::Periodic => crate::periodic::run(&platform, &settings),
        Mode::Bench => crate::bench::run(&settings),
    }
}

/// An address outside every partition's memory on QEMU virt (the crash store's target).
const OUTSIDE_MEMORY: usize = 0x5800_0000;

/// `crash-restarts` and `reset-restarts`: fault or reset at once while the hypervisor's restart
/// count of this partition says so (a partition under Bulkhead only).
fn boot_action(host: Host, settings: &Settings) {
    use crate::args::BootAction;
    if settings.crash_restarts == 0 && settings.reset_restarts == 0 {
        return;
    }
    let Host::Bulkhead { hypervisor, .. } = host else {
        return;
    };
    let restarts = match hypervisor.own_restarts() {
        Ok((restarts, _)) => restarts,
        Err(e) => runtime::fault(format_args!("BULKHEAD_MGMT_SELF failed: {e:?}")),
    };
    match settings.boot_action(restarts) {
        BootAction::Crash => {
            println!("HIL:RTOS crash-at-boot restarts={restarts}");
            runtime::flush_console();
            rtos::arch::test_crash::store_outside_memory(OUTSIDE_MEMORY)
        }
        BootAction::Reset => {
            println!("HIL:RTOS reset-at-boot restarts={restarts}");
            runtime::flush_console();
            guest_shim::psci::system_reset()
        }
        BootAction::Run => {
            println!("HIL:RTOS boot-actions done restarts={restarts}");
        }
    }
}

/// The console: the device tree's PL011, else Bulkhead's console hypercall.
fn open_console(platform: &Platform<'_>, host: Host) {
    if let Some(mut uart) = mmio::console_uart(platform) {
        let _ = uart.enable(CONSOLE_LINE, BAUD, UART_CLOCK);
        runtime::attach_console(Sink::Uart(uart));
    } else if let Host::Bulkhead { hypervisor, .. } = host {
        runtime::attach_console(Sink::Hypercall(HypercallConsole::new(hypervisor)));
    }
}
