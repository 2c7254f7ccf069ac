//! Serial output through `embedded-io`: the console's PL011 (via the `arm-pl011-uart` crate,
//! whose `Uart` implements `embedded_io::Write` and `Read`), or Bulkhead's hypercall console for
//! a partition without a UART.
#![forbid(unsafe_code)]

pub use arm_pl011_uart::{DataBits, Interrupts, LineConfig, Parity, StopBits, Uart};
use guest_shim::bulkhead::Bulkhead;
use guest_shim::smccc::SmcccError;

/// The line settings the console uses: 115200 8N1 (a virtual UART ignores them).
pub const CONSOLE_LINE: LineConfig = LineConfig {
    data_bits: DataBits::Bits8,
    parity: Parity::None,
    stop_bits: StopBits::One,
};

/// Bulkhead's console hypercall (BULKHEAD_CONSOLE_WRITE_BUFFER) as a byte sink.
#[derive(Clone, Copy, Debug)]
pub struct HypercallConsole {
    hypervisor: Bulkhead,
}

impl HypercallConsole {
    /// The console of the partition this runs in.
    pub fn new(hypervisor: Bulkhead) -> Self {
        HypercallConsole { hypervisor }
    }
}

/// A failed console hypercall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HypercallError(pub SmcccError);

impl core::fmt::Display for HypercallError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "console hypercall failed: {}", self.0)
    }
}

impl core::error::Error for HypercallError {}

impl embedded_io::Error for HypercallError {
    fn kind(&self) -> embedded_io::ErrorKind {
        embedded_io::ErrorKind::Other
    }
}

impl embedded_io::ErrorType for HypercallConsole {
    type Error = HypercallError;
}

impl embedded_io::Write for HypercallConsole {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.hypervisor.console_write(buf).map_err(HypercallError)
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}
