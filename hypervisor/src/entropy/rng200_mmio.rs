//! The RNG200 at EL2: its registers claimed from `arch` (which holds the MMIO), the counter as
//! the driver's clock, and the driver as the entropy pool's [`HardwareEntropy`].

#![forbid(unsafe_code)]

use core::sync::atomic::{AtomicBool, Ordering};

use super::rng200::{Clock, Rng200};
use super::{HardwareEntropy, NoEntropy};
use crate::arch;
use crate::arch::rng200::Rng200Mmio;

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
    driver: spin::Mutex<Rng200<Rng200Mmio>>,
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

/// The RNG200 at `base` as the pool's hardware source: `None` if `arch` will not hand out the
/// block (not mapped as device memory at EL2, or claimed before). Nothing is touched until the
/// pool asks for its boot seed.
pub fn claim(base: u64) -> Option<&'static dyn HardwareEntropy> {
    static SOURCE: spin::Once<Rng200Source> = spin::Once::new();
    let registers = Rng200Mmio::claim(base)?;
    Some(SOURCE.call_once(|| Rng200Source {
        base,
        driver: spin::Mutex::new(Rng200::new(registers)),
        delivered: AtomicBool::new(false),
    }))
}
