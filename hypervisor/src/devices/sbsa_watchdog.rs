//! An emulated Arm SBSA generic watchdog (Arm DEN0029, Server Base System Architecture,
//! "Generic Watchdog"), architecture revision 1: a control frame (WCS, WOR, WCV, W_IIDR) and a
//! refresh frame (WRR, W_IIDR), each a 4 KiB window, over the system counter.
//!
//! The rules it follows (DEN0029 "Watchdog operation"):
//! - An *explicit refresh*, a write to WRR, WOR or WCS, loads WCV = counter + WOR and clears
//!   WS0 and WS1.
//! - When the counter passes WCV (counter > WCV) with the watchdog enabled: if WS0 is clear it
//!   is set (the *timeout refresh*: WCV is loaded with WCV + WOR, the time the hardware would
//!   have loaded it at); if WS0 is already set, WS1 is set.
//! - WCS.EN = 0 stops both signals; WCV may be written directly (no refresh).
//!
//! The model is a pure state machine: it is given the counter's value with each access
//! ([`WatchdogPort`]) and brought up to date by [`SbsaWatchdog::advance`], which says which
//! signals rose; the caller raises the interrupt (WS0) and applies the partition's policy
//! (WS1). No hand-written crate fits an emulated (rather than driven) watchdog: this is ours.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use super::{AccessWidth, DeviceAccess, DeviceEffects, MmioDevice, MmioFault};

/// The size of each frame's window (DEN0029: each frame is 4 KiB).
pub const FRAME_SIZE: u64 = 0x1000;

/// Register offsets (DEN0029, Generic Watchdog control and refresh frames).
mod reg {
    /// Refresh frame 0x000: Watchdog Refresh Register (write: explicit refresh; RAZ).
    pub const WRR: u64 = 0x000;
    /// Control frame 0x000: Watchdog Control and Status Register.
    pub const WCS: u64 = 0x000;
    /// Control frame 0x008: Watchdog Offset Register, bits [31:0].
    pub const WOR: u64 = 0x008;
    /// Control frame 0x00c: Watchdog Offset Register, bits [47:32] (revision 1).
    pub const WOR_HIGH: u64 = 0x00c;
    /// Control frame 0x010: Watchdog Compare Value, bits [31:0].
    pub const WCV: u64 = 0x010;
    /// Control frame 0x014: Watchdog Compare Value, bits [63:32].
    pub const WCV_HIGH: u64 = 0x014;
    /// Both frames 0xfcc: Watchdog Interface Identification Register.
    pub const W_IIDR: u64 = 0xfcc;
}

/// WCS.EN: the watchdog is enabled.
pub const WCS_EN: u32 = 1 << 0;
/// WCS.WS0: the first signal (the watchdog interrupt) is asserted.
pub const WCS_WS0: u32 = 1 << 1;
/// WCS.WS1: the second signal (the reset) is asserted.
pub const WCS_WS1: u32 = 1 << 2;
/// WOR is 48 bits wide in architecture revision 1.
const WOR_MASK: u64 = (1 << 48) - 1;
/// W_IIDR: architecture revision 1 (bits [19:16]); product, variant, revision and implementer
/// 0 (an emulation has no JEP106 code). Linux reads the revision to size WOR.
pub const W_IIDR: u32 = 1 << 16;

/// Which of the watchdog's two windows an access is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame {
    /// The control frame (WCS, WOR, WCV).
    Control,
    /// The refresh frame (WRR).
    Refresh,
}

/// Which signals rose in one [`SbsaWatchdog::advance`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Signals {
    /// WS0 rose: raise the watchdog interrupt.
    pub ws0: bool,
    /// WS1 rose: apply the partition's policy.
    pub ws1: bool,
}

/// One generic watchdog's state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SbsaWatchdog {
    enabled: bool,
    ws0: bool,
    ws1: bool,
    /// WOR, 48 bits.
    offset: u64,
    /// WCV.
    compare: u64,
    /// The counter at the last explicit refresh (for reports).
    refreshed: u64,
}

impl SbsaWatchdog {
    /// A watchdog in its reset state: disabled, WOR = WCV = 0, no signal.
    pub const fn new() -> Self {
        SbsaWatchdog {
            enabled: false,
            ws0: false,
            ws1: false,
            offset: 0,
            compare: 0,
            refreshed: 0,
        }
    }

    /// WCS as a guest reads it.
    pub fn wcs(&self) -> u32 {
        let bit = |set: bool, bit: u32| if set { bit } else { 0 };
        bit(self.enabled, WCS_EN) | bit(self.ws0, WCS_WS0) | bit(self.ws1, WCS_WS1)
    }

    /// WCV.
    pub fn compare(&self) -> u64 {
        self.compare
    }

    /// WOR.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The counter value at the last explicit refresh.
    pub fn last_refresh(&self) -> u64 {
        self.refreshed
    }

    /// An explicit refresh at counter value `now`: WCV = now + WOR, WS0 and WS1 cleared.
    pub fn refresh(&mut self, now: u64) {
        self.refreshed = now;
        self.compare = now.saturating_add(self.offset);
        self.ws0 = false;
        self.ws1 = false;
    }

    /// Brings the watchdog up to counter value `now` and says which signals rose.
    pub fn advance(&mut self, now: u64) -> Signals {
        let mut rose = Signals::default();
        if !self.enabled || self.ws1 {
            return rose;
        }
        if !self.ws0 && now > self.compare {
            self.ws0 = true;
            rose.ws0 = true;
            // The timeout refresh, at the time the hardware would have made it.
            self.compare = self.compare.saturating_add(self.offset);
        }
        if self.ws0 && now > self.compare {
            self.ws1 = true;
            rose.ws1 = true;
        }
        rose
    }

    /// The counter value at which the next signal rises (the first value greater than WCV),
    /// or `None` if none will without a guest access (disabled, WS1 already set, or WCV at
    /// the counter's end).
    pub fn next_deadline(&self) -> Option<u64> {
        if !self.enabled || self.ws1 {
            return None;
        }
        self.compare.checked_add(1)
    }

    fn read(&self, frame: Frame, offset: u64, width: AccessWidth) -> Result<u64, MmioFault> {
        match (frame, offset, width) {
            (_, _, AccessWidth::Byte | AccessWidth::Half) => Err(MmioFault::Width),
            (Frame::Control, reg::WOR, AccessWidth::Double) => Ok(self.offset),
            (Frame::Control, reg::WCV, AccessWidth::Double) => Ok(self.compare),
            (_, _, AccessWidth::Double) => Err(MmioFault::Width),
            (Frame::Control, reg::WCS, _) => Ok(u64::from(self.wcs())),
            (Frame::Control, reg::WOR, _) => Ok(self.offset & 0xffff_ffff),
            (Frame::Control, reg::WOR_HIGH, _) => Ok(self.offset >> 32),
            (Frame::Control, reg::WCV, _) => Ok(self.compare & 0xffff_ffff),
            (Frame::Control, reg::WCV_HIGH, _) => Ok(self.compare >> 32),
            (_, reg::W_IIDR, _) => Ok(u64::from(W_IIDR)),
            // WRR and every reserved offset read as zero (DEN0029: reserved, RAZ/WI).
            _ => Ok(0),
        }
    }

    fn write(
        &mut self,
        frame: Frame,
        offset: u64,
        width: AccessWidth,
        value: u64,
        now: u64,
    ) -> Result<(), MmioFault> {
        let low = value & 0xffff_ffff;
        match (frame, offset, width) {
            (_, _, AccessWidth::Byte | AccessWidth::Half) => return Err(MmioFault::Width),
            (Frame::Control, reg::WOR, AccessWidth::Double) => {
                self.offset = value & WOR_MASK;
                self.refresh(now);
            }
            (Frame::Control, reg::WCV, AccessWidth::Double) => self.compare = value,
            (_, _, AccessWidth::Double) => return Err(MmioFault::Width),
            (Frame::Refresh, reg::WRR, _) => self.refresh(now),
            (Frame::Control, reg::WCS, _) => {
                self.enabled = value & u64::from(WCS_EN) != 0;
                self.refresh(now);
            }
            (Frame::Control, reg::WOR, _) => {
                self.offset = (self.offset & !0xffff_ffff) | low;
                self.refresh(now);
            }
            (Frame::Control, reg::WOR_HIGH, _) => {
                self.offset = ((low << 32) | (self.offset & 0xffff_ffff)) & WOR_MASK;
                self.refresh(now);
            }
            (Frame::Control, reg::WCV, _) => {
                self.compare = (self.compare & !0xffff_ffff) | low;
            }
            (Frame::Control, reg::WCV_HIGH, _) => {
                self.compare = (low << 32) | (self.compare & 0xffff_ffff);
            }
            // W_IIDR is read-only; reserved offsets are RAZ/WI.
            _ => {}
        }
        Ok(())
    }
}

/// One access to a watchdog's frame at counter value `now`: the [`MmioDevice`] the bus sees.
#[derive(Debug)]
pub struct WatchdogPort<'a> {
    /// The watchdog.
    pub watchdog: &'a mut SbsaWatchdog,
    /// Which of its frames the access is in.
    pub frame: Frame,
    /// The system counter at the access.
    pub now: u64,
}

impl MmioDevice for WatchdogPort<'_> {
    fn read(&mut self, access: DeviceAccess) -> Result<u64, MmioFault> {
        self.watchdog.read(self.frame, access.offset, access.width)
    }

    fn write(
        &mut self,
        access: DeviceAccess,
        value: u64,
        _effects: &mut DeviceEffects,
    ) -> Result<(), MmioFault> {
        self.watchdog
            .write(self.frame, access.offset, access.width, value, self.now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::perform;

    fn access(offset: u64, width: AccessWidth) -> DeviceAccess {
        DeviceAccess {
            offset,
            width,
            vcpu: 0,
        }
    }

    fn write32(w: &mut SbsaWatchdog, frame: Frame, offset: u64, value: u64, now: u64) {
        let mut port = WatchdogPort {
            watchdog: w,
            frame,
            now,
        };
        perform(
            &mut port,
            access(offset, AccessWidth::Word),
            Some(value),
            &mut DeviceEffects::new(),
        )
        .unwrap();
    }

    fn read32(w: &mut SbsaWatchdog, frame: Frame, offset: u64) -> u64 {
        let mut port = WatchdogPort {
            watchdog: w,
            frame,
            now: 0,
        };
        perform(
            &mut port,
            access(offset, AccessWidth::Word),
            None,
            &mut DeviceEffects::new(),
        )
        .unwrap()
    }

    /// What Linux's sbsa_gwdt does at start: WOR, then WCS.EN.
    fn started(wor: u64, now: u64) -> SbsaWatchdog {
        let mut w = SbsaWatchdog::new();
        write32(&mut w, Frame::Control, reg::WOR, wor, now);
        write32(&mut w, Frame::Control, reg::WCS, u64::from(WCS_EN), now);
        w
    }

    #[test]
    fn reset_state_is_disabled_with_no_signal_and_revision_1_in_both_frames() {
        let mut w = SbsaWatchdog::new();
        assert_eq!(read32(&mut w, Frame::Control, reg::WCS), 0);
        assert_eq!(read32(&mut w, Frame::Control, reg::W_IIDR), 0x1_0000);
        assert_eq!(read32(&mut w, Frame::Refresh, reg::W_IIDR), 0x1_0000);
        assert_eq!(w.advance(u64::MAX), Signals::default());
        assert_eq!(w.next_deadline(), None);
    }

    #[test]
    fn enabling_is_an_explicit_refresh_that_loads_wcv_with_counter_plus_wor() {
        // DEN0029: a write to WCS is an explicit refresh: WCV = counter + WOR.
        let w = started(1000, 5000);
        assert_eq!(w.compare(), 6000);
        assert_eq!(w.next_deadline(), Some(6001));
    }

    #[test]
    fn ws0_rises_when_the_counter_passes_wcv_and_the_timeout_refresh_reloads_wcv() {
        let mut w = started(1000, 0);
        // Not yet: WS0 rises when the counter is greater than WCV.
        assert_eq!(w.advance(1000), Signals::default());
        assert_eq!(
            w.advance(1001),
            Signals {
                ws0: true,
                ws1: false
            }
        );
        assert_eq!(w.wcs(), WCS_EN | WCS_WS0);
        assert_eq!(w.compare(), 2000);
        assert_eq!(w.next_deadline(), Some(2001));
        // WS0 rises once.
        assert_eq!(w.advance(1500), Signals::default());
    }

    #[test]
    fn ws1_rises_at_the_second_timeout_without_a_refresh() {
        let mut w = started(1000, 0);
        w.advance(1001);
        assert_eq!(
            w.advance(2001),
            Signals {
                ws0: false,
                ws1: true
            }
        );
        assert_eq!(w.wcs(), WCS_EN | WCS_WS0 | WCS_WS1);
        // Nothing more to wait for: WS1 stays until a refresh.
        assert_eq!(w.next_deadline(), None);
        assert_eq!(w.advance(u64::MAX), Signals::default());
    }

    #[test]
    fn a_late_tick_raises_both_signals_at_once() {
        let mut w = started(1000, 0);
        assert_eq!(
            w.advance(5000),
            Signals {
                ws0: true,
                ws1: true
            }
        );
    }

    #[test]
    fn a_write_to_wrr_refreshes_and_clears_ws0() {
        let mut w = started(1000, 0);
        w.advance(1001);
        write32(&mut w, Frame::Refresh, reg::WRR, 0, 1500);
        assert_eq!(w.wcs(), WCS_EN);
        assert_eq!(w.compare(), 2500);
        // A watchdog refreshed in time never signals.
        for now in (1500..20_000).step_by(900) {
            write32(&mut w, Frame::Refresh, reg::WRR, 0, now);
            assert_eq!(w.advance(now + 899), Signals::default());
        }
    }

    #[test]
    fn writes_to_wor_refresh_and_wor_is_48_bits() {
        let mut w = started(10, 0);
        w.advance(11);
        write32(&mut w, Frame::Control, reg::WOR_HIGH, 0xffff_ffff, 100);
        assert_eq!(w.wcs(), WCS_EN);
        assert_eq!(read32(&mut w, Frame::Control, reg::WOR_HIGH), 0xffff);
        assert_eq!(read32(&mut w, Frame::Control, reg::WOR), 10);
        assert_eq!(w.compare(), 100 + (0xffff << 32) + 10);
    }

    #[test]
    fn disabling_stops_the_signals_and_clears_them() {
        let mut w = started(1000, 0);
        w.advance(1001);
        write32(&mut w, Frame::Control, reg::WCS, 0, 1100);
        assert_eq!(w.wcs(), 0);
        assert_eq!(w.advance(u64::MAX), Signals::default());
        // WS0 and WS1 are read-only: writing them sets nothing.
        write32(&mut w, Frame::Control, reg::WCS, 0b110, 1200);
        assert_eq!(w.wcs(), 0);
    }

    #[test]
    fn wcv_is_written_directly_without_a_refresh_in_halves_or_whole() {
        let mut w = started(1000, 0);
        w.advance(1001);
        write32(&mut w, Frame::Control, reg::WCV, 0x89ab_cdef, 0);
        write32(&mut w, Frame::Control, reg::WCV_HIGH, 0x0123_4567, 0);
        assert_eq!(w.compare(), 0x0123_4567_89ab_cdef);
        assert_eq!(w.wcs(), WCS_EN | WCS_WS0, "no refresh");
        assert_eq!(read32(&mut w, Frame::Control, reg::WCV), 0x89ab_cdef);
        assert_eq!(read32(&mut w, Frame::Control, reg::WCV_HIGH), 0x0123_4567);
        let mut port = WatchdogPort {
            watchdog: &mut w,
            frame: Frame::Control,
            now: 0,
        };
        let mut effects = DeviceEffects::new();
        perform(
            &mut port,
            access(reg::WCV, AccessWidth::Double),
            Some(u64::MAX),
            &mut effects,
        )
        .unwrap();
        // WCV at the counter's end: never passed.
        assert_eq!(w.next_deadline(), None);
    }

    #[test]
    fn byte_and_half_accesses_fault_and_64_bit_only_at_wor_and_wcv() {
        let mut w = SbsaWatchdog::new();
        let mut effects = DeviceEffects::new();
        let mut port = WatchdogPort {
            watchdog: &mut w,
            frame: Frame::Control,
            now: 0,
        };
        for width in [AccessWidth::Byte, AccessWidth::Half] {
            assert_eq!(
                perform(&mut port, access(reg::WCS, width), None, &mut effects),
                Err(MmioFault::Width)
            );
        }
        assert_eq!(
            perform(
                &mut port,
                access(reg::WCS, AccessWidth::Double),
                Some(1),
                &mut effects
            ),
            Err(MmioFault::Width)
        );
        assert!(perform(
            &mut port,
            access(reg::WOR, AccessWidth::Double),
            Some(u64::MAX),
            &mut effects
        )
        .is_ok());
        assert_eq!(w.offset, WOR_MASK);
    }

    #[test]
    fn wrr_reads_as_zero_and_the_control_registers_are_not_in_the_refresh_frame() {
        let mut w = started(1000, 0);
        assert_eq!(read32(&mut w, Frame::Refresh, reg::WRR), 0);
        assert_eq!(read32(&mut w, Frame::Refresh, reg::WOR), 0);
        // A write to "WCS" in the refresh frame is a write to WRR: a refresh, not a disable.
        write32(&mut w, Frame::Refresh, reg::WCS, 0, 50);
        assert_eq!(w.wcs(), WCS_EN);
        assert_eq!(w.compare(), 1050);
        // Reserved offsets: RAZ/WI.
        write32(&mut w, Frame::Control, 0x100, u64::MAX, 60);
        assert_eq!(read32(&mut w, Frame::Control, 0x100), 0);
        assert_eq!(w.compare(), 1050);
    }

    #[test]
    fn saturating_arithmetic_keeps_a_huge_wor_from_wrapping() {
        let mut w = SbsaWatchdog::new();
        write32(&mut w, Frame::Control, reg::WCS, 1, u64::MAX - 5);
        write32(&mut w, Frame::Control, reg::WOR_HIGH, 0xffff, u64::MAX - 5);
        assert_eq!(w.compare(), u64::MAX);
        assert_eq!(w.next_deadline(), None);
        assert_eq!(w.advance(u64::MAX), Signals::default());
    }
}
