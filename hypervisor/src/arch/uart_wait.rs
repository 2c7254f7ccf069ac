//! Bounded waits on a UART: a console must never hang the hypervisor (a UART left disabled, a
//! clock stopped, a FIFO that never drains), so every poll gives up after a fixed time by the
//! generic counter, which runs from reset and needs neither the MMU nor an interrupt.

use aarch64_cpu::registers::{Readable, CNTFRQ_EL0, CNTPCT_EL0};

/// How long a UART may take to accept one byte: 2 ms, over twenty times a byte's time at
/// 115200 baud (87 µs), enough for a FIFO of 16 to drain.
const BYTE_TIMEOUT_PER_SECOND: u64 = 500;

/// Polls `ready` until it holds or a byte's timeout passed; whether it held.
pub fn until(mut ready: impl FnMut() -> bool) -> bool {
    if ready() {
        return true;
    }
    // 54 MHz on the Pi, 62.5 MHz on QEMU; if the firmware left CNTFRQ at 0, a fixed count.
    let ticks = (CNTFRQ_EL0.get() / BYTE_TIMEOUT_PER_SECOND).max(100_000);
    let start = CNTPCT_EL0.get();
    while CNTPCT_EL0.get().wrapping_sub(start) < ticks {
        if ready() {
            return true;
        }
        core::hint::spin_loop();
    }
    false
}
