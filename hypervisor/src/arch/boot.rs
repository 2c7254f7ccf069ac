//! The hardware steps of boot: reading the host device tree and the bundle from physical
//! memory, the console UART, the physical GIC, the fast path's answer table and releasing
//! secondary CPUs. The policy around them is `crate::boot`.

use core::sync::atomic::{AtomicBool, Ordering};

use bulkhead_config::range::Range;

use crate::boot::{FastAnswer, MAX_BUNDLE_SIZE};
use crate::host_dt::{Gic, UartKind};
use crate::table_pool::StaticPool;

use super::fast_path::{FastCall, MAX_FAST_CALLS};
use super::memory;

extern "C" {
    fn secondary_entry();
}

use crate::smccc::function_id::psci::CPU_ON_64 as PSCI_CPU_ON_64;

/// The boot CPU's hold on the machine while it boots.
///
/// # Invariants
/// There is exactly one, made by `primary_main`, which `entry.S` calls once on the boot CPU,
/// while no other CPU runs and before any guest is entered; the boot story gives it up (drops
/// it) before it enters a guest. Its methods rely on that. Making it takes no lock and no
/// atomic read-modify-write: it runs before the MMU is on.
pub struct BootHardware {
    dtb_pa: u64,
    tables_taken: bool,
}

/// The translation tables of the EL2 map and every stage 2: the boot CPU owns them, through
/// [`BootHardware::table_pool`], and nothing else ever touches them.
static mut TABLES: StaticPool = StaticPool::new();

static TAKEN: AtomicBool = AtomicBool::new(false);

impl BootHardware {
    /// The boot CPU's hold, with `dtb_pa` (x0 from the boot loader); `None` after the first
    /// call. A plain load and store, not an atomic swap: this runs with the MMU off, on the
    /// boot CPU alone (the invariants).
    pub fn take(dtb_pa: u64) -> Option<Self> {
        if TAKEN.load(Ordering::Relaxed) {
            return None;
        }
        TAKEN.store(true, Ordering::Relaxed);
        Some(BootHardware {
            dtb_pa,
            tables_taken: false,
        })
    }

    /// The table pool, owned by the boot CPU by plain `&mut` (no lock: the EL2 map is built
    /// before the MMU is on); `None` after the first call.
    pub fn table_pool(&mut self) -> Option<&'static mut StaticPool> {
        if self.tables_taken {
            return None;
        }
        self.tables_taken = true;
        // SAFETY: there is one `BootHardware` (its invariants) and it hands the pool out once;
        // nothing else names `TABLES`.
        Some(unsafe { &mut *core::ptr::addr_of_mut!(TABLES) })
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

    /// Sets up the build's console UART (its pins, then the UART) and makes it the console,
    /// through plain stores only; nothing if the build named none.
    pub fn start_build_console(&mut self) {
        if let Some(spec) = crate::console_spec::built() {
            // SAFETY: the build's console is the board's UART (platform facts), which only the
            // hypervisor drives; no partition runs yet; the MMU is off or maps it as a device.
            unsafe { super::boot_console::start(&spec) }
        }
    }

    /// The console UART (and its registers' range): the build's, else `uart`, the device
    /// tree's, adopted as the firmware left it.
    pub fn adopt_console(&mut self, uart: Option<(UartKind, Range)>) -> Option<(UartKind, Range)> {
        if let Some((kind, range)) = uart {
            // SAFETY: the device tree names this UART as the console; no partition may claim
            // it (host devices are never passed through). `adopt` keeps the build's if any.
            unsafe { super::boot_console::adopt(kind, range.start) }
        }
        super::boot_console::uart().map(|(kind, base)| {
            let size = match kind {
                UartKind::Pl011 => 0x1000,
                UartKind::MiniUart => 0x40,
            };
            (kind, Range::new(base, size))
        })
    }

    /// Makes the boot console the locked hypervisor console (with the MMU on: it takes a lock).
    pub fn lock_console(&mut self) {
        if super::boot_console::uart().is_some() {
            crate::console::init(&super::boot_console::SINK);
        }
    }

    /// Moves this CPU from the early vector table to the full one (with the MMU on).
    pub fn use_full_vectors(&mut self) {
        // SAFETY: `el2_vectors` is the complete EL2 vector table (vectors.S); the MMU is on, so
        // its handlers (which take locks) may run.
        unsafe {
            core::arch::asm!(
                "adrp {t}, el2_vectors",
                "add {t}, {t}, :lo12:el2_vectors",
                "msr vbar_el2, {t}",
                "isb",
                t = out(reg) _,
                options(nostack),
            );
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
