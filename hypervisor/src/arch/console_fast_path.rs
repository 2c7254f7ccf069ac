//! Data shared with the console fast path in `console_fast_path.S`: per CPU, where its vCPU's
//! virtual PL011 is, the UARTFR value to answer flag reads with, and a stage for the bytes data
//! writes transmit, so the two accesses a polled console makes per character (a UARTFR read,
//! a UARTDR write) are answered without saving the frame or entering Rust.
//!
//! The model ([`crate::devices::pl011`]) stays the one authority: it publishes what the fast
//! path may answer after every access it performs ([`publish`]) and takes the staged bytes at
//! its next access, or when the console asks for them ([`take_staged`], from any CPU: the stage
//! is a single-producer ring). The fast path falls back to the general path
//! for anything else: another register or width, a newline (a line is handed over whole), a
//! full stage, a data write that would raise the TX interrupt, and a third flag read in a row
//! while bytes are staged (a guest polling after a prompt gets the prompt shown).

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Bytes one CPU's stage holds.
pub const STAGE: usize = 64;
const _: () = assert!(STAGE.is_power_of_two());

/// [`ConsoleFast::control`]: data writes may be answered (the TX interrupt cannot change).
pub const WRITE_OK: u32 = 1 << 0;
/// [`ConsoleFast::control`]: the model holds staged bytes of its own.
pub const HELD: u32 = 1 << 1;

/// One CPU's console fast path state (layout shared with `console_fast_path.S`).
#[repr(C, align(128))]
pub struct ConsoleFast {
    /// +0: the IPA of the console's register page; 1 (never a page address) when disabled.
    /// Written at the vCPU's entry, read by the fast path.
    window: AtomicU64,
    /// +8: the UARTFR value (published by the model, from any CPU).
    flags: AtomicU32,
    /// +12: [`WRITE_OK`] and [`HELD`] (published by the model, from any CPU).
    control: AtomicU32,
    /// +16: bytes ever staged, mod 2^32 (written by the fast path on this CPU only, with
    /// release order after the byte).
    tail: AtomicU32,
    /// +20: flag reads in a row on this CPU (this CPU only).
    flag_reads: AtomicU32,
    /// +24: accesses answered by the fast path.
    count: AtomicU64,
    /// +32: bytes ever taken, mod 2^32 (written by the model, under its lock, on any CPU).
    head: AtomicU32,
    _pad: u32,
    /// +40: the staged bytes, a ring indexed by `tail` and `head` mod [`STAGE`].
    bytes: [core::sync::atomic::AtomicU8; STAGE],
}

const _: () = assert!(core::mem::size_of::<ConsoleFast>() == 128);
const _: () = assert!(STAGE == crate::devices::pl011::port::FAST_STAGE);
const _: () = assert!(core::mem::offset_of!(ConsoleFast, flags) == 8);
const _: () = assert!(core::mem::offset_of!(ConsoleFast, control) == 12);
const _: () = assert!(core::mem::offset_of!(ConsoleFast, tail) == 16);
const _: () = assert!(core::mem::offset_of!(ConsoleFast, head) == 32);
const _: () = assert!(core::mem::offset_of!(ConsoleFast, flag_reads) == 20);
const _: () = assert!(core::mem::offset_of!(ConsoleFast, count) == 24);
const _: () = assert!(core::mem::offset_of!(ConsoleFast, bytes) == 40);

/// The fast path's state, per CPU.
#[no_mangle]
static CONSOLE_FAST: [ConsoleFast; crate::MAX_CPUS] = [const {
    ConsoleFast {
        window: AtomicU64::new(DISABLED),
        flags: AtomicU32::new(0),
        control: AtomicU32::new(0),
        tail: AtomicU32::new(0),
        flag_reads: AtomicU32::new(0),
        count: AtomicU64::new(0),
        head: AtomicU32::new(0),
        _pad: 0,
        bytes: [const { core::sync::atomic::AtomicU8::new(0) }; STAGE],
    }
}; crate::MAX_CPUS];

/// A window value no page address equals.
const DISABLED: u64 = 1;

/// Points CPU `cpu`'s fast path at the console page `window` (an IPA), or disables it
/// (`None`), dropping anything staged (a vCPU (re)starting).
pub fn set_window(cpu: usize, window: Option<u64>) {
    if let Some(fast) = CONSOLE_FAST.get(cpu) {
        fast.window.store(DISABLED, Ordering::Release);
        fast.tail.store(0, Ordering::Relaxed);
        fast.head.store(0, Ordering::Relaxed);
        fast.flag_reads.store(0, Ordering::Relaxed);
        if let Some(page) = window.filter(|page| page & 0xfff == 0) {
            fast.window.store(page, Ordering::Release);
        }
    }
}

/// Publishes to CPU `cpu` what the model says the fast path may answer: the UARTFR value and
/// the [`WRITE_OK`]/[`HELD`] bits.
pub fn publish(cpu: usize, flags: u32, control: u32) {
    if let Some(fast) = CONSOLE_FAST.get(cpu) {
        fast.flags.store(flags, Ordering::Release);
        fast.control.store(control, Ordering::Release);
    }
}

/// Sets CPU `cpu`'s count of flag reads in a row (called on `cpu` only).
pub fn set_flag_reads(cpu: usize, reads: u32) {
    if let Some(fast) = CONSOLE_FAST.get(cpu) {
        fast.flag_reads.store(reads, Ordering::Relaxed);
    }
}

/// Moves the bytes CPU `cpu`'s fast path staged into `out`; how many. Callable from any CPU
/// while the fast path appends (a single-producer, single-consumer ring); callers must be
/// serialised with each other (the partition's console model lock does).
pub fn take_staged(cpu: usize, out: &mut [u8; STAGE]) -> usize {
    let Some(fast) = CONSOLE_FAST.get(cpu) else {
        return 0;
    };
    let tail = fast.tail.load(Ordering::Acquire);
    let head = fast.head.load(Ordering::Relaxed);
    let len = (tail.wrapping_sub(head) as usize).min(STAGE);
    for (i, slot) in out.iter_mut().enumerate().take(len) {
        let at = (head as usize).wrapping_add(i) % STAGE;
        *slot = fast.bytes.get(at).map_or(0, |b| b.load(Ordering::Relaxed));
    }
    fast.head
        .store(head.wrapping_add(len as u32), Ordering::Release);
    len
}

/// CPU `cpu`'s count of flag reads in a row (call on `cpu`: the fast path there updates it).
pub fn flag_reads(cpu: usize) -> u32 {
    CONSOLE_FAST
        .get(cpu)
        .map_or(0, |fast| fast.flag_reads.load(Ordering::Relaxed))
}

/// Accesses CPU `cpu`'s console fast path answered.
pub fn count(cpu: usize) -> u64 {
    CONSOLE_FAST
        .get(cpu)
        .map_or(0, |fast| fast.count.load(Ordering::Relaxed))
}

/// CPU `cpu`'s counter, for resetting.
pub fn counter(cpu: usize) -> Option<&'static AtomicU64> {
    CONSOLE_FAST.get(cpu).map(|fast| &fast.count)
}
