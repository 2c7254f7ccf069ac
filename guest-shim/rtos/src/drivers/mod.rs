//! Drivers behind the `embedded-hal` 1.0 and `embedded-io` traits, so tasks are generic over
//! the traits and run on the host against mocks:
//! - [`delay::CounterDelay`]: `DelayNs` on the generic timer;
//! - [`serial`]: `embedded_io::Write`/`Read` on a PL011 (Bulkhead's virtual one, a passthrough
//!   one, or QEMU's), through the `arm-pl011-uart` crate;
//! - [`bcm2711_gpio`]: `OutputPin`/`InputPin` on the Raspberry Pi 4's GPIO block;
//! - [`sim_pin`]: pins for boards without GPIO (QEMU `virt`).

pub mod bcm2711_gpio;
pub mod delay;
pub mod serial;
pub mod sim_pin;
