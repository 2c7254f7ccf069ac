//! `ipc=producer|consumer`: the shared-memory scenario (`hil-tests/test_ipc_shared_memory.py`).
//!
//! The two partitions share channel 0 (doorbell 0) with a ring in its shared memory
//! (`shm=IPA,SIZE`, both ends read-write) and a second channel's window (`window=IPA`) that
//! the producer may write and the consumer only read. The producer initialises the ring
//! (`bulkhead-ipc-ring`), rings once ("ready") and streams `bytes=N` in records of
//! `record=R` bytes, each word a known function of its position; the consumer checks every
//! word and both checksum what went through. Doorbells only when the other side said it
//! waits (the ring's waiting flags): a full ring makes the producer wait, an empty one the
//! consumer. Then the producer writes a word into the window, the consumer reads it and writes
//! the window, which its stage-2 maps read-only: the hypervisor stops the consumer alone, and
//! the producer, still running, sees PEER_DOWN and says so.

use core::fmt::Write;

use bulkhead_ipc_ring::{Consumer, Producer, PushError, Shared, Wake};
use guest_shim::boot_info::{parse_u64, BootInfo};
use guest_shim::bulkhead::{self, Bulkhead, DoorbellError};
use guest_shim::console::Pl011;
use guest_shim::gic::{self, GicV3};
use guest_shim::timer;

/// The doorbell's priority.
const PRIORITY: u8 = 0x80;
/// The virtual timer's priority (it bounds every wait).
const TIMER_PRIORITY: u8 = 0xa0;
/// The longest wait for the peer (guest time).
const TIMEOUT_US: u64 = 20_000_000;
/// What the producer leaves in the window.
const WINDOW_WORD: u64 = 0xfeed_f00d_0000_0001;

/// Word `index` of the stream.
fn pattern(index: u64) -> u64 {
    index.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5bd1_e995
}

/// The stream's running checksum.
fn fold(sum: u64, word: u64) -> u64 {
    sum.rotate_left(7) ^ word
}

/// Runs role `role`.
pub fn run(out: &mut Pl011, info: &BootInfo<'_>, role: &str) {
    let Some(hv) = bulkhead::detect() else {
        let _ = writeln!(out, "HIL:IPC error no Bulkhead");
        return;
    };
    let args = (|| {
        let (ipa, size) = info.arg("shm")?.split_once(',')?;
        let (gicd, gicr) = info.arg("gic")?.split_once(',')?;
        Some((
            parse_u64(ipa)?,
            parse_u64(size)?,
            parse_u64(info.arg("window")?)?,
            parse_u64(gicd)?,
            parse_u64(gicr)?,
        ))
    })();
    let Some((ipa, size, window, gicd, gicr)) = args else {
        let _ = writeln!(out, "HIL:IPC error needs shm=IPA,SIZE window=IPA gic=D,R");
        return;
    };
    let Ok(bell) = hv.doorbell_info(0) else {
        let _ = writeln!(out, "HIL:IPC error no doorbell 0");
        return;
    };
    // SAFETY: the boot arguments name this partition's (virtual) GIC; only this code drives it.
    let gic = unsafe { GicV3::new(gicd as usize, gicr as usize) };
    gic.enable_distributor();
    gic.wake_redistributor();
    gic.configure(timer::VIRTUAL_TIMER_INTID, TIMER_PRIORITY, 0);
    gic.set_enabled(timer::VIRTUAL_TIMER_INTID, true);
    gic.configure(bell.intid, PRIORITY, 0);
    gic.set_enabled(bell.intid, true);
    gic::enable_cpu_interface();
    // SAFETY: `shm` names the channel's shared memory, mapped read-write into this partition
    // (the configuration the scenario runs); the peer follows the ring protocol.
    let shared = unsafe { Shared::new(ipa as *mut u8, size as usize) };
    let bytes = info.arg("bytes").and_then(parse_u64).unwrap_or(1 << 20);
    let record = info.arg("record").and_then(parse_u64).unwrap_or(65536) as usize;
    let _ = writeln!(
        out,
        "HIL:IPC {role} ring at {ipa:#x} ({size:#x} bytes), window at {window:#x}, doorbell INTID {}",
        bell.intid
    );
    let bench = info.arg("bench") == Some("1");
    match role {
        "producer" => produce(out, &hv, shared, bytes, record, window, bench),
        _ => consume(out, &hv, shared, bytes, window, bench),
    }
}

/// Waits for the next interrupt other than the timer's; `false` after `TIMEOUT_US`.
fn wait_doorbell() -> bool {
    let deadline = timer::counter() + timer::frequency() / 1_000_000 * TIMEOUT_US;
    timer::arm_virtual_timer(deadline);
    let arrived = loop {
        gic::wait_for_interrupt();
        match gic::acknowledge() {
            gic::SPURIOUS => continue,
            timer::VIRTUAL_TIMER_INTID => {
                gic::end_of_interrupt(timer::VIRTUAL_TIMER_INTID);
                break false;
            }
            id => {
                gic::end_of_interrupt(id);
                break true;
            }
        }
    };
    timer::stop_virtual_timer();
    arrived
}

/// Streams `bytes`; then (unless `bench`) writes the window and waits for the consumer's stop.
fn produce(
    out: &mut Pl011,
    hv: &Bulkhead,
    shared: Shared,
    bytes: u64,
    record: usize,
    window: u64,
    bench: bool,
) {
    let Some(mut ring) = Producer::init(shared, 1) else {
        let _ = writeln!(
            out,
            "HIL:IPC error the shared memory is too small for a ring"
        );
        return;
    };
    let record = record.min(bulkhead_ipc_ring::layout::max_payload(ring.capacity())) & !7;
    let _ = hv.doorbell_ring(0); // ready
    let start = timer::counter();
    let (mut sent, mut records, mut sum, mut waits, mut rings) = (0u64, 0u64, 0u64, 0u64, 1u64);
    while sent < bytes {
        let len = (bytes - sent).min(record as u64) as usize;
        let first = sent / 8;
        // The checksum is folded as the words are written (`fill` runs only for a record that
        // fits, once per word).
        let mut folded = sum;
        match ring.try_push_with(len, |i| {
            let word = pattern(first + i as u64);
            folded = fold(folded, word);
            word
        }) {
            Ok(wake) => {
                sum = folded;
                sent += len as u64;
                records += 1;
                if wake == Wake::Ring {
                    let _ = hv.doorbell_ring(0);
                    rings += 1;
                }
            }
            Err(PushError::Full) => {
                if !ring.prepare_wait(len) {
                    waits += 1;
                    if !wait_doorbell() {
                        let _ = writeln!(out, "HIL:IPC error the consumer never made room");
                        return;
                    }
                    ring.done_waiting();
                }
            }
            Err(e) => {
                let _ = writeln!(out, "HIL:IPC error producer: {e:?}");
                return;
            }
        }
    }
    let ticks = timer::counter() - start;
    let _ = writeln!(
        out,
        "HIL:IPC SENT bytes={sent} records={records} checksum={sum:#018x} full-waits={waits} doorbells={rings} ticks={ticks}"
    );
    if bench {
        return;
    }
    // SAFETY: `window` is the second channel's shared memory, read-write for this partition.
    unsafe { core::ptr::write_volatile(window as *mut u64, WINDOW_WORD) };
    let _ = hv.doorbell_ring(0);
    // The consumer reads the window, then writes it and is stopped: keep ringing until the
    // hypervisor says it is down, then show this partition still runs.
    let deadline = timer::counter() + timer::frequency() / 1_000_000 * TIMEOUT_US;
    loop {
        match hv.doorbell_ring(0) {
            Err(DoorbellError::PeerDown) => break,
            _ if timer::counter() > deadline => {
                let _ = writeln!(out, "HIL:IPC error the consumer never stopped");
                return;
            }
            _ => timer::delay_us(10_000),
        }
    }
    let _ = writeln!(
        out,
        "HIL:IPC PEER-DOWN the consumer stopped; the producer keeps running"
    );
    for beat in 1..=3 {
        timer::delay_us(50_000);
        let _ = writeln!(out, "HIL:IPC ALIVE {beat}");
    }
}

/// Receives and checks `bytes`; with `bench`, prints the throughput figure (`HIL:BENCH
/// ipc-ring`: counter ticks from attach to the last byte) and stops there, else reads and then
/// writes the read-only window.
fn consume(out: &mut Pl011, hv: &Bulkhead, shared: Shared, bytes: u64, window: u64, bench: bool) {
    let mut ring = loop {
        match Consumer::attach(shared) {
            Ok(Some(ring)) => break ring,
            Ok(None) => {
                if !wait_doorbell() {
                    let _ = writeln!(out, "HIL:IPC error the producer never initialised the ring");
                    return;
                }
            }
            Err(e) => {
                let _ = writeln!(out, "HIL:IPC error corrupt ring: {}", e.name());
                return;
            }
        }
    };
    let start = timer::counter();
    let (mut received, mut records, mut sum, mut bad, mut waits) = (0u64, 0u64, 0u64, 0u64, 0u64);
    while received < bytes {
        match ring.peek() {
            Ok(Some(record)) => {
                let first = received / 8;
                ring.read_words(&record, |i, word| {
                    sum = fold(sum, word);
                    if word != pattern(first + i as u64) {
                        bad += 1;
                    }
                });
                received += record.len() as u64;
                records += 1;
                if ring.release(record) == Wake::Ring {
                    let _ = hv.doorbell_ring(0);
                }
            }
            Ok(None) => {
                if !ring.prepare_wait() {
                    waits += 1;
                    if !wait_doorbell() {
                        let _ = writeln!(out, "HIL:IPC error the producer stalled at {received}");
                        return;
                    }
                    ring.done_waiting();
                }
            }
            Err(e) => {
                let _ = writeln!(out, "HIL:IPC error corrupt ring: {}", e.name());
                return;
            }
        }
    }
    let _ = writeln!(
        out,
        "HIL:IPC RECEIVED bytes={received} records={records} checksum={sum:#018x} mismatches={bad} empty-waits={waits}"
    );
    if bench {
        let ticks = timer::counter() - start;
        let _ = writeln!(
            out,
            "HIL:BENCH ipc-ring bytes={received} ticks={ticks} records={records} mismatches={bad} empty-waits={waits}"
        );
        let _ = writeln!(out, "HIL:BENCH done");
        return;
    }
    // The producer's word in the window, once it is there.
    // SAFETY: `window` is the second channel's shared memory, mapped read-only here: reads only.
    let read = || unsafe { core::ptr::read_volatile(window as *const u64) };
    while read() != WINDOW_WORD {
        if !wait_doorbell() {
            break;
        }
    }
    let _ = writeln!(out, "HIL:IPC WINDOW read={:#x}", read());
    let _ = writeln!(out, "HIL:IPC WRITING the read-only window");
    // SAFETY: deliberately a write to memory this partition may only read: the stage-2
    // permission fault is the point (the hypervisor stops this partition).
    unsafe { core::ptr::write_volatile(window as *mut u64, 0) };
    let _ = writeln!(
        out,
        "HIL:IPC WROTE the read-only window (it should have faulted)"
    );
}
