//! The RNG200's register block (BCM2711; the layout Linux's `iproc-rng200` driver documents),
//! claimed once, for the safe driver in `entropy::rng200`.

use core::sync::atomic::AtomicBool;

use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_structs;
use tock_registers::registers::{ReadOnly, ReadWrite};

use crate::entropy::rng200::{Register, Registers as DriverRegisters};

register_structs! {
    /// The RNG200 registers the driver uses.
    pub Registers {
        /// RNG_CTRL.
        (0x00 => ctrl: ReadWrite<u32>),
        /// RNG_SOFT_RESET.
        (0x04 => rng_soft_reset: ReadWrite<u32>),
        /// RBG_SOFT_RESET.
        (0x08 => rbg_soft_reset: ReadWrite<u32>),
        (0x0c => _reserved0),
        /// RNG_INT_STATUS.
        (0x18 => int_status: ReadWrite<u32>),
        (0x1c => _reserved1),
        /// RNG_FIFO_DATA: each read takes one word out of the FIFO.
        (0x20 => fifo_data: ReadOnly<u32>),
        /// RNG_FIFO_COUNT.
        (0x24 => fifo_count: ReadOnly<u32>),
        (0x28 => @END),
    }
}

const _: () = assert!(core::mem::size_of::<Registers>() == 0x28);
// The block's layout and the driver's register list agree.
const _: () = {
    use core::mem::offset_of;
    assert!(offset_of!(Registers, ctrl) as u64 == Register::Ctrl.offset());
    assert!(offset_of!(Registers, rng_soft_reset) as u64 == Register::RngSoftReset.offset());
    assert!(offset_of!(Registers, rbg_soft_reset) as u64 == Register::RbgSoftReset.offset());
    assert!(offset_of!(Registers, int_status) as u64 == Register::IntStatus.offset());
    assert!(offset_of!(Registers, fifo_data) as u64 == Register::FifoData.offset());
    assert!(offset_of!(Registers, fifo_count) as u64 == Register::FifoCount.offset());
};

/// The RNG200 at one base address, owned by its only driver.
pub struct Rng200Mmio {
    registers: &'static Registers,
}

impl Rng200Mmio {
    /// The RNG200 at `base`, the first time one is asked for, if it is mapped as device memory
    /// at EL2 (see [`super::mmio`]).
    pub fn claim(base: u64) -> Option<Self> {
        static CLAIMED: AtomicBool = AtomicBool::new(false);
        super::mmio::claim::<Registers>(base, &CLAIMED).map(|registers| Rng200Mmio { registers })
    }
}

// SAFETY: the handle is the only one to a device's registers (`claim` hands it out once); the
// device does not care which CPU accesses it, and the driver serialises accesses (a mutex).
unsafe impl Send for Rng200Mmio {}

impl DriverRegisters for Rng200Mmio {
    fn read(&mut self, register: Register) -> u32 {
        let r = self.registers;
        match register {
            Register::Ctrl => r.ctrl.get(),
            Register::RngSoftReset => r.rng_soft_reset.get(),
            Register::RbgSoftReset => r.rbg_soft_reset.get(),
            Register::IntStatus => r.int_status.get(),
            Register::FifoData => r.fifo_data.get(),
            Register::FifoCount => r.fifo_count.get(),
        }
    }

    fn write(&mut self, register: Register, value: u32) {
        let r = self.registers;
        match register {
            Register::Ctrl => r.ctrl.set(value),
            Register::RngSoftReset => r.rng_soft_reset.set(value),
            Register::RbgSoftReset => r.rbg_soft_reset.set(value),
            Register::IntStatus => r.int_status.set(value),
            // Read-only: the driver never writes them.
            Register::FifoData | Register::FifoCount => {}
        }
    }
}
