//! The defmt global logger: each frame is encoded (defmt's own encoding, rzCOBS) into a frame
//! buffer with IRQs masked, then queued on the console as `DEFMT:` lines. Logging never waits
//! for the UART, so jobs may log.

use core::cell::UnsafeCell;

use crate::console::defmt_frame::FrameBuffer;
use crate::console::CONSOLE;

struct State {
    /// A frame is being written (acquire was called, release not yet).
    taken: bool,
    /// What `critical_section::release` must restore.
    restore: Option<critical_section::RestoreState>,
    encoder: defmt::Encoder,
    frame: FrameBuffer,
}

struct Shared(UnsafeCell<State>);

// SAFETY: `State` is only reached between `acquire` and `release`, which hold a critical section
// (IRQs masked on the only CPU running RTOS code), so one context at a time.
unsafe impl Sync for Shared {}

static STATE: Shared = Shared(UnsafeCell::new(State {
    taken: false,
    restore: None,
    encoder: defmt::Encoder::new(),
    frame: FrameBuffer::new(),
}));

#[defmt::global_logger]
struct Logger;

// SAFETY: `acquire` takes a critical section and `release` gives it back, so frames never
// interleave; `write` and `flush` are only called in between (defmt's contract).
unsafe impl defmt::Logger for Logger {
    fn acquire() {
        // SAFETY: paired with the `critical_section::release` in `release`.
        let restore = unsafe { critical_section::acquire() };
        // SAFETY: inside the critical section just taken: no other reference to the state.
        let state = unsafe { &mut *STATE.0.get() };
        assert!(!state.taken, "defmt: the logger was acquired twice");
        state.taken = true;
        state.restore = Some(restore);
        state.encoder.start_frame(|bytes| state.frame.extend(bytes));
    }

    unsafe fn flush() {}

    unsafe fn release() {
        // SAFETY: called after `acquire`, inside its critical section.
        let state = unsafe { &mut *STATE.0.get() };
        state.encoder.end_frame(|bytes| state.frame.extend(bytes));
        CONSOLE.defmt_frame(&mut state.frame);
        state.taken = false;
        if let Some(restore) = state.restore.take() {
            // SAFETY: gives back the critical section `acquire` took, with its restore state.
            unsafe { critical_section::release(restore) };
        }
    }

    unsafe fn write(bytes: &[u8]) {
        // SAFETY: called between `acquire` and `release`, inside the critical section.
        let state = unsafe { &mut *STATE.0.get() };
        state.encoder.write(bytes, |out| state.frame.extend(out));
    }
}

defmt::timestamp!("{=u64:us}", {
    let frequency = super::cpu::frequency();
    frequency.to_micros(crate::time::Duration(super::cpu::now().0))
});
