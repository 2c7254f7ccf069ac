//! A driver for the Arm SBSA generic watchdog (Arm DEN0029, "Generic Watchdog"): the device a
//! Bulkhead partition with a `watchdog` gets, and the same one Linux's `sbsa_gwdt` drives.
//!
//! Two 4 KiB frames: the control frame (WCS at 0x000, WOR at 0x008/0x00c, WCV at 0x010/0x014,
//! W_IIDR at 0xfcc) and the refresh frame (WRR at 0x000). Starting loads WOR, then sets
//! WCS.EN; a refresh writes WRR. Without a refresh, the first signal (WS0, the watchdog's
//! interrupt) rises WOR ticks of the system counter after the last refresh and the second
//! (WS1: under Bulkhead, the partition's `on-stop`) WOR ticks after that. Every access is a
//! single 32-bit load or store ([`crate::mmio`]), so a hypervisor can emulate it.

use crate::mmio;

/// Control frame: Watchdog Control and Status Register.
const WCS: usize = 0x000;
/// Control frame: Watchdog Offset Register, bits [31:0].
const WOR: usize = 0x008;
/// Control frame: Watchdog Offset Register, bits [47:32] (architecture revision 1).
const WOR_HIGH: usize = 0x00c;
/// Control frame: Watchdog Interface Identification Register.
const W_IIDR: usize = 0xfcc;
/// Refresh frame: Watchdog Refresh Register.
const WRR: usize = 0x000;

/// WCS.EN.
pub const WCS_EN: u32 = 1 << 0;
/// WCS.WS0: the first signal is asserted.
pub const WCS_WS0: u32 = 1 << 1;
/// WCS.WS1: the second signal is asserted.
pub const WCS_WS1: u32 = 1 << 2;

/// One SBSA generic watchdog, by the addresses of its frames.
#[derive(Debug)]
pub struct SbsaWatchdog {
    control: usize,
    refresh: usize,
}

impl SbsaWatchdog {
    /// The watchdog whose control frame is at `control` and refresh frame at `refresh`.
    ///
    /// # Safety
    /// Both must be the frames of an SBSA generic watchdog mapped for this guest (the device
    /// tree's `arm,sbsa-gwdt` node, `reg` 0 and 1), driven by nothing else.
    pub const unsafe fn new(control: usize, refresh: usize) -> Self {
        SbsaWatchdog { control, refresh }
    }

    /// The architecture revision (W_IIDR bits [19:16]): 0 has a 32-bit WOR, 1 a 48-bit one.
    pub fn revision(&self) -> u32 {
        (self.read(W_IIDR) >> 16) & 0xf
    }

    /// WCS: enabled and which signals are asserted.
    pub fn status(&self) -> u32 {
        self.read(WCS)
    }

    /// Starts the watchdog with `offset` counter ticks per stage (WOR, cut to what the
    /// revision holds): the writes refresh it, so the first signal is `offset` ticks away.
    pub fn start(&self, offset: u64) {
        let limit = if self.revision() >= 1 {
            (1 << 48) - 1
        } else {
            u64::from(u32::MAX)
        };
        let offset = offset.min(limit);
        self.write(WOR, offset as u32);
        if self.revision() >= 1 {
            self.write(WOR_HIGH, (offset >> 32) as u32);
        }
        self.write(WCS, WCS_EN);
    }

    /// An explicit refresh (any value written to WRR): the next signal is WOR ticks away, and
    /// WS0 and WS1 are cleared.
    pub fn refresh(&self) {
        // SAFETY: `refresh` is the refresh frame (`new`'s contract); WRR is at its start.
        unsafe { mmio::write32(self.refresh + WRR, 0) };
    }

    /// Stops the watchdog (WCS.EN = 0).
    pub fn stop(&self) {
        self.write(WCS, 0);
    }

    fn read(&self, offset: usize) -> u32 {
        // SAFETY: `control` is the control frame (`new`'s contract); `offset` is one of its
        // registers, whose reads have no effect.
        unsafe { mmio::read32(self.control + offset) }
    }

    fn write(&self, offset: usize, value: u32) {
        // SAFETY: `control` is the control frame (`new`'s contract); `offset` is one of its
        // writable registers.
        unsafe { mmio::write32(self.control + offset, value) }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::boxed::Box;

    /// Two frames of plain memory standing in for the device: what the driver stores, and the
    /// W_IIDR it reads.
    fn frames(iidr: u32) -> (Box<[u32; 1024]>, Box<[u32; 1024]>) {
        let mut control = Box::new([0u32; 1024]);
        control[W_IIDR / 4] = iidr;
        (control, Box::new([0xdead_beef; 1024]))
    }

    #[test]
    fn start_writes_wor_then_enables_and_refresh_writes_wrr() {
        let (mut control, mut refresh) = frames(1 << 16);
        // SAFETY: two 4 KiB buffers that nothing else touches while the driver lives.
        let watchdog = unsafe {
            SbsaWatchdog::new(control.as_mut_ptr() as usize, refresh.as_mut_ptr() as usize)
        };
        assert_eq!(watchdog.revision(), 1);
        watchdog.start(0x1_2345_6789);
        assert_eq!(watchdog.status(), WCS_EN);
        watchdog.refresh();
        assert_eq!(control[WOR / 4], 0x2345_6789);
        assert_eq!(control[WOR_HIGH / 4], 0x1);
        assert_eq!(refresh[WRR / 4], 0, "WRR written");
    }

    #[test]
    fn a_revision_0_watchdog_gets_a_32_bit_offset_and_no_upper_half() {
        let (mut control, mut refresh) = frames(0);
        control[WOR_HIGH / 4] = 0x55;
        // SAFETY: as above.
        let watchdog = unsafe {
            SbsaWatchdog::new(control.as_mut_ptr() as usize, refresh.as_mut_ptr() as usize)
        };
        watchdog.start(u64::MAX);
        watchdog.stop();
        assert_eq!(control[WOR / 4], u32::MAX);
        assert_eq!(control[WOR_HIGH / 4], 0x55, "untouched");
        assert_eq!(control[WCS / 4], 0, "stopped");
    }
}
