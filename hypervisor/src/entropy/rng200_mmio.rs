//! The RNG200 at EL2: its registers through `arch` MMIO, the counter as the driver's clock,
//! and the driver as the entropy pool's [`HardwareEntropy`].

use core::sync::atomic::{AtomicBool, Ordering};

use super::rng200::{Clock, Register, Registers, Rng200};
use super::{HardwareEntropy, NoEntropy};
use crate::arch;

/// The block's registers at a physical (identity-mapped) base address.
struct Mmio {
    base: u64,
}

impl Registers for Mmio {
    fn read(&mut self, register: Register) -> u32 {
        // SAFETY: `claim`'s contract: the block is the hypervisor's and mapped as device memory.
        // The only read with an effect is RNG_FIFO_DATA's, which takes the word the driver asks
        // for.
        unsafe { arch::read32(self.base.wrapping_add(register.offset())) }
    }

    fn write(&mut self, register: Register, value: u32) {
        // SAFETY: as for `read`; the driver writes only the control, status and reset registers.
        unsafe { arch::write32(self.base.wrapping_add(register.offset()), value) }
    }
}

/// The generic timer's counter (CNTVCT_EL0, CNTVOFF_EL2 = 0 at EL2).
struct Counter;

impl Clock for Counter {
    fn now(&self) -> u64 {
        arch::counter()
    }

    fn frequency(&self) -> u64 {
        arch::counter_frequency()
    }
}

/// The driver, shared by every CPU that reseeds.
struct Rng200Source {
    base: u64,
    driver: spin::Mutex<Rng200<Mmio>>,
    /// It delivered at least once (a later failure is reported as such).
    delivered: AtomicBool,
}

impl HardwareEntropy for Rng200Source {
    fn collect(&self, out: &mut [u8]) -> Result<(), NoEntropy> {
        let mut driver = self.driver.lock();
        let retired_before = driver.retired().is_some();
        match driver.fill(out, &Counter) {
            Ok(()) => {
                self.delivered.store(true, Ordering::Relaxed);
                Ok(())
            }
            Err(why) => {
                if !retired_before {
                    if self.delivered.load(Ordering::Relaxed) {
                        crate::println!(
                            "HIL:ENTROPY rng200 at {:#x} failed: {why}; the DRBG streams go on \
                             without reseeding",
                            self.base
                        );
                    } else {
                        crate::println!("HIL:ENTROPY rng200 at {:#x} not used: {why}", self.base);
                    }
                }
                Err(NoEntropy)
            }
        }
    }
}

/// The RNG200 at `base` as the pool's hardware source (the first call decides the base).
/// Nothing is touched until the pool asks for its boot seed.
///
/// # Safety
/// `base` must be an RNG200 that only the hypervisor drives, mapped as device memory at EL2.
pub unsafe fn claim(base: u64) -> &'static dyn HardwareEntropy {
    static SOURCE: spin::Once<Rng200Source> = spin::Once::new();
    SOURCE.call_once(|| Rng200Source {
        base,
        driver: spin::Mutex::new(Rng200::new(Mmio { base })),
        delivered: AtomicBool::new(false),
    })
}
