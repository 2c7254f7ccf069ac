//! The hardware steps of boot: reading the host device tree and the bundle from physical
//! memory, the console UART, the physical GIC, the fast path's answer table and releasing
//! secondary CPUs. The policy around them is `crate::boot`.

use core::sync::atomic::{AtomicBool, Ordering};

use bulkhead_config::range::Range;

use crate::boot::{FastAnswer, MAX_BUNDLE_SIZE};
use crate::host_dt::{Gic, UartKind};

use super::fast_path::{FastCall, MAX_FAST_CALLS};
use super::memory;

extern "C" {
    fn secondary_entry();
}

use crate::smccc::function_id::psci::CPU_ON_64 as PSCI_CPU_ON_64;

/// The boot CPU's hold on the machine while it boots.
///
/// # Invariants
/// There is at most one, taken by the boot CPU in its first Rust code, while no other CPU runs
/// and before any guest is entered; the boot story gives it up (drops it) before it enters a
/// guest. Its methods rely on that.
pub struct BootHardware {
    dtb_pa: u64,
}

static TAKEN: AtomicBool = AtomicBool::new(false);

impl BootHardware {
    /// The boot CPU's hold, with `dtb_pa` (x0 from the boot loader); `None` after the first
    /// call.
    pub fn take(dtb_pa: u64) -> Option<Self> {
        (!TAKEN.swap(true, Ordering::SeqCst)).then_some(BootHardware { dtb_pa })
    }

    /// The host device tree at x0 and the memory it occupies, if x0 points at one.
    pub fn host_device_tree(&self) -> Option<(Range, &'static [u8])> {
        // SAFETY: the boot protocol puts a device tree (or nothing) at x0, in RAM.
        let size = unsafe { memory::fdt_size(self.dtb_pa) }?;
        // SAFETY: `fdt_size` found a device tree of `size` bytes; it stays untouched in
        // reserved RAM (validation keeps partitions off it) for the hypervisor's lifetime.
        let blob = unsafe { memory::phys_slice(self.dtb_pa, size) };
        Some((Range::new(self.dtb_pa, size as u64), blob))
    }

    /// The first `len` bytes after the hypervisor image (where the bundle begins), at most
    /// [`MAX_BUNDLE_SIZE`].
    pub fn after_image(&self, len: usize) -> Option<&'static [u8]> {
        if len as u64 > MAX_BUNDLE_SIZE {
            return None;
        }
        let (_, image_end) = memory::image_range();
        // SAFETY: the loader loaded the whole file (the image and the bundle behind it) into
        // RAM; the bundle's memory is reserved for the hypervisor and nothing writes it.
        Some(unsafe { memory::phys_slice(image_end, len) })
    }

    /// Makes the host's console UART the hypervisor console.
    pub fn start_console(&mut self, uart: Option<(UartKind, Range)>) {
        static PL011: spin::Once<crate::pl011::Pl011> = spin::Once::new();
        static MINI_UART: spin::Once<crate::mini_uart::MiniUart> = spin::Once::new();
        match uart {
            Some((UartKind::Pl011, range)) => crate::console::init(PL011.call_once(|| {
                // SAFETY: the device tree names this UART as the console; no partition may
                // claim it (host devices are never passed through) and it is mapped as device
                // memory.
                unsafe { crate::pl011::Pl011::new(range.start) }
            })),
            Some((UartKind::MiniUart, range)) => crate::console::init(MINI_UART.call_once(|| {
                // SAFETY: as for the PL011.
                unsafe { crate::mini_uart::MiniUart::new(range.start) }
            })),
            None => {}
        }
    }

    /// Initialises the physical GIC (GICv3, or GICv2 with its hypervisor interface).
    pub fn init_gic(&mut self, gic: Option<Gic>) {
        match gic {
            Some(Gic::V3 {
                distributor,
                redistributors,
            }) => {
                // SAFETY: the device tree names these frames; the EL2 map covers them as
                // device memory; nothing else drives the GIC.
                unsafe {
                    super::gic::init_v3(
                        distributor.start,
                        redistributors.start,
                        redistributors.size,
                    )
                }
            }
            Some(Gic::V2 {
                distributor,
                cpu,
                hyp: Some(hyp),
                vcpu: Some(_),
            }) => {
                // SAFETY: as for GICv3.
                unsafe { super::gic::init_v2(distributor.start, cpu.start, hyp.start) }
            }
            _ => {}
        }
    }

    /// Fills the exception vector's table of constant hypercall answers.
    pub fn install_fast_calls(&mut self, answers: &[FastAnswer]) {
        let calls: heapless::Vec<FastCall, MAX_FAST_CALLS> = answers
            .iter()
            .take(MAX_FAST_CALLS)
            .map(|answer| FastCall {
                function: u64::from(answer.function),
                values: answer.values,
            })
            .collect();
        // SAFETY: this hold exists only before any CPU enters a guest (see the invariants), so
        // nothing reads the table meanwhile.
        unsafe { super::fast_path::set_fast_calls(&calls) };
    }

    /// Starts CPU `cpu` (MPIDR `mpidr`) at the secondary entry with PSCI CPU_ON; the PSCI
    /// return code.
    pub fn psci_cpu_on(&mut self, mpidr: u64, cpu: usize) -> i64 {
        let entry = secondary_entry as *const () as usize as u64;
        super::smc_call(PSCI_CPU_ON_64, mpidr, entry, cpu as u64)[0] as i64
    }

    /// Releases a CPU parked on the spin table at `release` (its `cpu-release-addr`) to the
    /// secondary entry.
    pub fn release_spin_table(&mut self, release: u64) {
        let entry = secondary_entry as *const () as usize as u64;
        // SAFETY: `release` is the device tree's release address of a CPU still parked (each
        // is released once, while booting); it is reserved memory (the firmware's spin table
        // page) that no partition owns.
        unsafe { memory::release_spin_table(release, entry) };
    }
}
