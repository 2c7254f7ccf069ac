//! `virtio-attack=ADDR`: the attacker of scenario `ipc_isolation` (`hil-tests/test_ipc_isolation.py`).
//! It feeds its own virtio device (the serial channel's, at ADDR) malformed queues, writing the
//! registers and rings itself (an attacker is not a driver): a descriptor loop, buffers outside
//! its RAM (unmapped IPA, its console's and the device's own window, above 4 GiB), a 4 GiB
//! length, an available index that jumps, rings outside its RAM, nested indirect tables; then a
//! storm of notifications on a well-formed queue. After each it prints the status it reads back:
//! `HIL:VIRTIO-ATTACK <name> status=S needs-reset=B interrupt=I` (the device must go to
//! DEVICE_NEEDS_RESET, the storm must not), and resets the device.

use core::fmt::Write;

use guest_shim::boot_info::{parse_u64, BootInfo};
use guest_shim::console::Pl011;
use guest_shim::mmio::{read32, write32};

const STATUS: usize = 0x070;
const DRIVER_FEATURES: usize = 0x020;
const DRIVER_FEATURES_SEL: usize = 0x024;
const QUEUE_SEL: usize = 0x030;
const QUEUE_NUM: usize = 0x038;
const QUEUE_READY: usize = 0x044;
const QUEUE_NOTIFY: usize = 0x050;
const INTERRUPT_STATUS: usize = 0x060;
const INTERRUPT_ACK: usize = 0x064;
const QUEUE_DESC_LOW: usize = 0x080;
const QUEUE_DESC_HIGH: usize = 0x084;
const QUEUE_DRIVER_LOW: usize = 0x090;
const QUEUE_DRIVER_HIGH: usize = 0x094;
const QUEUE_DEVICE_LOW: usize = 0x0a0;
const QUEUE_DEVICE_HIGH: usize = 0x0a4;
const NEEDS_RESET: u32 = 64;
/// Queue 1: port 0's transmit queue.
const TX: u32 = 1;
const SIZE: u16 = 16;
const NEXT: u16 = 1;
const INDIRECT: u16 = 4;

#[repr(C, align(4096))]
struct Rings([u8; 3 * 4096]);

/// The rings and a buffer, in the attacker's own RAM.
static mut RINGS: Rings = Rings([0; 3 * 4096]);

struct Device {
    base: usize,
}

impl Device {
    fn reg(&self, offset: usize) -> u32 {
        // SAFETY: the device window is this partition's (its configuration says so).
        unsafe { read32(self.base + offset) }
    }

    fn set(&self, offset: usize, value: u32) {
        // SAFETY: as for `reg`.
        unsafe { write32(self.base + offset, value) }
    }

    fn rings(&self) -> *mut u8 {
        (&raw mut RINGS).cast::<u8>()
    }

    fn desc_addr(&self) -> u64 {
        self.rings() as u64
    }

    /// Resets the device and brings queue TX up with rings at `desc`, `avail`, `used`.
    fn bring_up(&self, desc: u64, avail: u64, used: u64) {
        self.set(STATUS, 0);
        // SAFETY: the rings are this module's static, used by nothing else.
        unsafe { self.rings().write_bytes(0, 3 * 4096) };
        self.set(STATUS, 3);
        self.set(DRIVER_FEATURES_SEL, 1);
        self.set(DRIVER_FEATURES, 1);
        self.set(DRIVER_FEATURES_SEL, 0);
        self.set(DRIVER_FEATURES, 1 << 28);
        self.set(STATUS, 3 | 8);
        self.set(QUEUE_SEL, TX);
        self.set(QUEUE_NUM, u32::from(SIZE));
        self.set(QUEUE_DESC_LOW, desc as u32);
        self.set(QUEUE_DESC_HIGH, (desc >> 32) as u32);
        self.set(QUEUE_DRIVER_LOW, avail as u32);
        self.set(QUEUE_DRIVER_HIGH, (avail >> 32) as u32);
        self.set(QUEUE_DEVICE_LOW, used as u32);
        self.set(QUEUE_DEVICE_HIGH, (used >> 32) as u32);
        self.set(QUEUE_READY, 1);
        self.set(STATUS, 3 | 8 | 4);
    }

    fn default_up(&self) {
        let d = self.desc_addr();
        self.bring_up(d, d + 4096, d + 8192);
    }

    fn desc(&self, index: u16, addr: u64, len: u32, flags: u16, next: u16) {
        self.desc_in(self.desc_addr(), index, addr, len, flags, next);
    }

    fn desc_in(&self, table: u64, index: u16, addr: u64, len: u32, flags: u16, next: u16) {
        let at = (table + 16 * u64::from(index)) as *mut u8;
        // SAFETY: `table` is inside RINGS (callers pass its descriptor area or its third page).
        unsafe {
            at.cast::<u64>().write_volatile(addr);
            at.add(8).cast::<u32>().write_volatile(len);
            at.add(12).cast::<u16>().write_volatile(flags);
            at.add(14).cast::<u16>().write_volatile(next);
        }
    }

    /// Publishes `head` as available entry `slot`, the index then set to `idx`.
    fn publish(&self, slot: u16, head: u16, idx: u16) {
        let avail = self.desc_addr() + 4096;
        // SAFETY: the available ring is RINGS' second page.
        unsafe {
            ((avail + 4 + 2 * u64::from(slot)) as *mut u16).write_volatile(head);
            core::arch::asm!("dmb ishst", options(nostack));
            ((avail + 2) as *mut u16).write_volatile(idx);
        }
    }
}

/// Runs the attacks; returns when they are done.
pub fn run(out: &mut Pl011, info: &BootInfo<'_>, address: &str) {
    let Some(base) = parse_u64(address) else {
        let _ = writeln!(out, "HIL:VIRTIO-ATTACK FAIL bad address {address}");
        return;
    };
    let storm = info.arg("storm").and_then(parse_u64).unwrap_or(100_000);
    let dev = Device {
        base: base as usize,
    };
    let d = dev.desc_addr();
    let own = d + 8192 + 2048;
    let report = |out: &mut Pl011, name: &str| {
        let status = dev.reg(STATUS);
        let interrupt = dev.reg(INTERRUPT_STATUS);
        let _ = writeln!(
            out,
            "HIL:VIRTIO-ATTACK {name} status={status:#x} needs-reset={} interrupt={interrupt:#x}",
            status & NEEDS_RESET != 0
        );
        dev.set(INTERRUPT_ACK, interrupt);
    };
    type Attack<'a> = (&'a str, &'a dyn Fn(&Device));
    let attacks: [Attack<'_>; 9] = [
        ("descriptor-loop", &|dev| {
            dev.default_up();
            dev.desc(0, own, 8, NEXT, 1);
            dev.desc(1, own, 8, NEXT, 0);
            dev.publish(0, 0, 1);
        }),
        ("outside-ram", &|dev| {
            dev.default_up();
            dev.desc(0, 0x8000_0000, 64, 0, 0);
            dev.publish(0, 0, 1);
        }),
        ("device-window", &|dev| {
            dev.default_up();
            dev.desc(0, base, 0x100, 0, 0);
            dev.publish(0, 0, 1);
        }),
        ("console-window", &|dev| {
            dev.default_up();
            dev.desc(0, 0x0900_0000, 0x100, 0, 0);
            dev.publish(0, 0, 1);
        }),
        ("high-address", &|dev| {
            dev.default_up();
            dev.desc(0, 0xffff_ffff_ffff_f000, 0x2000, 0, 0);
            dev.publish(0, 0, 1);
        }),
        ("length-4gib", &|dev| {
            dev.default_up();
            dev.desc(0, own, u32::MAX, 0, 0);
            dev.publish(0, 0, 1);
        }),
        ("index-jump", &|dev| {
            dev.default_up();
            dev.desc(0, own, 8, 0, 0);
            dev.publish(0, 0, 1000);
        }),
        ("rings-outside-ram", &|dev| {
            dev.bring_up(0x8000_0000, 0x8000_1000, 0x8000_2000);
        }),
        ("nested-indirect", &|dev| {
            dev.default_up();
            let table = d + 8192;
            dev.desc_in(table, 0, table, 16, INDIRECT, 0);
            dev.desc(0, table, 16, INDIRECT, 0);
            dev.publish(0, 0, 1);
        }),
    ];
    let mut held = 0;
    for (name, attack) in attacks {
        attack(&dev);
        dev.set(QUEUE_NOTIFY, TX);
        let needs_reset = dev.reg(STATUS) & NEEDS_RESET != 0;
        held += u32::from(needs_reset);
        report(out, name);
        dev.set(STATUS, 0);
    }
    // A storm of notifications on a well-formed queue with one good buffer: no reset.
    dev.default_up();
    dev.desc(0, own, 8, 0, 0);
    dev.publish(0, 0, 1);
    for _ in 0..storm {
        dev.set(QUEUE_NOTIFY, TX);
    }
    let storm_ok = dev.reg(STATUS) & NEEDS_RESET == 0;
    report(out, "notify-storm");
    dev.set(STATUS, 0);
    let after_reset = dev.reg(STATUS);
    let _ = writeln!(
        out,
        "HIL:VIRTIO-ATTACK summary needs-reset={held}/9 storm-ok={storm_ok} status-after-reset={after_reset:#x}"
    );
    // A serial channel is no doorbell: ringing "its" index would make the peer's virtio
    // interrupt pending at will. The attacker has no doorbell at all.
    let ring = guest_shim::bulkhead::detect().map(|hv| hv.doorbell_ring(0));
    let verdict = match ring {
        Some(Err(guest_shim::bulkhead::DoorbellError::NoSuchDoorbell)) => "no-such-doorbell",
        Some(Ok(())) => "rang",
        Some(Err(_)) => "other-error",
        None => "no-bulkhead",
    };
    let _ = writeln!(out, "HIL:VIRTIO-ATTACK doorbell-0 {verdict}");
}

#[repr(C, align(4096))]
struct Guarded([u8; GUARD_MAX]);

/// The most bytes the victim guards.
const GUARD_MAX: usize = 1 << 20;
static mut GUARDED: Guarded = Guarded([0; GUARD_MAX]);

fn guard_byte(i: usize) -> u8 {
    (i.wrapping_mul(151) ^ (i >> 9)) as u8
}

/// `pattern-guard=SIZE rounds=N period-ms=P`: the victim of scenario `ipc_isolation` fills
/// SIZE bytes of its RAM with a pattern, then checks it N times, P ms apart:
/// `HIL:VICTIM check=K ok=B`, and `HIL:VICTIM done rounds=N changed=C`.
pub fn guard_pattern(out: &mut Pl011, info: &BootInfo<'_>, size: u64) {
    let size = (size as usize).min(GUARD_MAX);
    let rounds = info.arg("rounds").and_then(parse_u64).unwrap_or(20);
    let period = info.arg("period-ms").and_then(parse_u64).unwrap_or(200);
    let base = (&raw mut GUARDED).cast::<u8>();
    for i in 0..size {
        // SAFETY: within the static.
        unsafe { base.add(i).write_volatile(guard_byte(i)) };
    }
    let _ = writeln!(out, "HIL:VICTIM filled bytes={size} at={:#x}", base as u64);
    let mut changed = 0u64;
    for round in 0..rounds {
        let mut bad = 0u64;
        for i in 0..size {
            // SAFETY: within the static.
            if unsafe { base.add(i).read_volatile() } != guard_byte(i) {
                bad += 1;
            }
        }
        changed += bad;
        let _ = writeln!(out, "HIL:VICTIM check={round} ok={}", bad == 0);
        guest_shim::timer::delay_us(period * 1000);
    }
    let _ = writeln!(out, "HIL:VICTIM done rounds={rounds} changed={changed}");
}
