//! The SBSA generic watchdog model (`bulkhead::devices::sbsa_watchdog`) under random accesses
//! to both frames, at random widths, between random steps of the system counter: it never
//! panics; reads change nothing; byte and halfword accesses fault; WS1 is never set without
//! WS0 nor while disabled; an explicit refresh clears both; each signal rises at most once
//! between refreshes and never before the deadline the model announced.
#![no_main]

use arbitrary::Arbitrary;
use bulkhead::devices::sbsa_watchdog::{
    Frame, SbsaWatchdog, WatchdogPort, FRAME_SIZE, WCS_EN, WCS_WS0, WCS_WS1, W_IIDR,
};
use bulkhead::devices::{perform, AccessWidth, DeviceAccess, DeviceEffects, MmioFault};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Step {
    /// An access.
    Access {
        refresh_frame: bool,
        offset: u16,
        width: u8,
        store: Option<u64>,
    },
    /// The counter moves on by this much, then the hypervisor's tick.
    Advance(u32),
    /// The counter jumps far ahead.
    Jump(u64),
}

fuzz_target!(|steps: Vec<Step>| {
    let mut watchdog = SbsaWatchdog::new();
    let mut now = 0u64;
    let (mut ws0_rose, mut ws1_rose) = (false, false);
    for step in steps.iter().take(512) {
        match *step {
            Step::Access {
                refresh_frame,
                offset,
                width,
                store,
            } => {
                let frame = if refresh_frame {
                    Frame::Refresh
                } else {
                    Frame::Control
                };
                let width = [
                    AccessWidth::Byte,
                    AccessWidth::Half,
                    AccessWidth::Word,
                    AccessWidth::Double,
                ][usize::from(width % 4)];
                // The bus hands the model naturally aligned offsets inside its window.
                let offset = (u64::from(offset) % FRAME_SIZE) & !(u64::from(width.bytes()) - 1);
                let access = DeviceAccess {
                    offset,
                    width,
                    vcpu: 0,
                };
                let before = watchdog;
                let mut port = WatchdogPort {
                    watchdog: &mut watchdog,
                    frame,
                    now,
                };
                let result = perform(&mut port, access, store, &mut DeviceEffects::new());
                if matches!(width, AccessWidth::Byte | AccessWidth::Half) {
                    assert_eq!(result, Err(MmioFault::Width));
                }
                match (store, result) {
                    (None, Ok(value)) => {
                        assert_eq!(watchdog, before, "a read changed the watchdog");
                        assert!(value <= width.mask());
                        if offset == 0xfcc {
                            assert_eq!(value, u64::from(W_IIDR));
                        }
                    }
                    (Some(_), Ok(_)) => {
                        let refreshed = frame == Frame::Refresh && offset == 0
                            || frame == Frame::Control && matches!(offset, 0x0 | 0x8 | 0xc);
                        if refreshed {
                            assert_eq!(watchdog.wcs() & (WCS_WS0 | WCS_WS1), 0);
                            (ws0_rose, ws1_rose) = (false, false);
                        }
                    }
                    (_, Err(_)) => assert_eq!(watchdog, before, "a faulting access changed it"),
                }
            }
            Step::Advance(by) => now = now.saturating_add(u64::from(by)),
            Step::Jump(to) => now = now.max(to),
        }
        if matches!(step, Step::Access { .. }) {
            continue;
        }
        // The tick: never early, each signal once.
        let deadline = watchdog.next_deadline();
        let signals = watchdog.advance(now);
        if signals.ws0 || signals.ws1 {
            assert!(
                deadline.is_some_and(|d| now >= d),
                "a signal before its deadline"
            );
        }
        assert!(!(signals.ws0 && ws0_rose), "WS0 rose twice");
        assert!(!(signals.ws1 && ws1_rose), "WS1 rose twice");
        ws0_rose |= signals.ws0;
        ws1_rose |= signals.ws1;
        let wcs = watchdog.wcs();
        assert_eq!(wcs & !(WCS_EN | WCS_WS0 | WCS_WS1), 0);
        if wcs & WCS_WS1 != 0 {
            assert!(wcs & WCS_WS0 != 0, "WS1 without WS0");
            assert_eq!(watchdog.next_deadline(), None);
        }
        if wcs & WCS_EN == 0 {
            assert!(!signals.ws0 && !signals.ws1, "a signal while disabled");
        }
    }
});
