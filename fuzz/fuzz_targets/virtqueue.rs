//! The split-virtqueue walker (`bulkhead::virtio::queue`) and the virtio-mmio transport over
//! random guest memory and ring state: it never panics; every chain it hands out has only
//! buffers inside the partition's RAM, device-readable before device-writable, at most
//! MAX_SEGMENTS of them, 4 GiB in all at most; a malformed queue only ever sets
//! DEVICE_NEEDS_RESET; and the device writes guest memory only in the used ring and in
//! writable buffers of chains it took.
#![no_main]

use arbitrary::Arbitrary;
use bulkhead::devices::{perform, AccessWidth, DeviceAccess, DeviceEffects};
use bulkhead::virtio::guest_memory::FakeMemory;
use bulkhead::virtio::queue::MAX_SEGMENTS;
use bulkhead::virtio::transport::reg;
use bulkhead::virtio::{status, Backend, GuestMemory, Queue, QueueAccess, QueueError, Transport};
use libfuzzer_sys::fuzz_target;

const BASE: u64 = 0x4000_0000;
const RAM: usize = 0x4000;

#[derive(Arbitrary, Debug)]
enum Step {
    /// Write bytes into guest memory (the driver changes its rings).
    Poke { at: u16, bytes: Vec<u8> },
    /// A register access to the transport.
    Access { offset: u16, store: Option<u32> },
    /// Run the notified queues.
    Service,
}

#[derive(Arbitrary, Debug)]
struct Input {
    memory: Vec<u8>,
    size: u16,
    desc: u16,
    avail: u16,
    used: u16,
    next_avail: u16,
    indirect: bool,
    steps: Vec<Step>,
}

fn check_chain(memory: &FakeMemory, chain: &bulkhead::virtio::Chain) {
    assert!(chain.segments.len() <= MAX_SEGMENTS);
    let mut writable = false;
    let mut total = 0u64;
    for s in &chain.segments {
        assert!(memory.contains(s.addr, u64::from(s.len)));
        assert!(!(writable && !s.writable));
        writable |= s.writable;
        total += u64::from(s.len);
    }
    assert!(total <= u64::from(u32::MAX));
}

/// Echoes readable bytes of every chain into its writable part, checking each chain.
struct Echo;

impl Backend for Echo {
    fn device_id(&self) -> u32 {
        3
    }
    fn device_features(&self) -> u64 {
        0
    }
    fn queue_count(&self) -> u16 {
        2
    }
    fn config(&self) -> &[u8] {
        &[0; 12]
    }
    fn reset(&mut self) {}
    fn on_notify(&mut self, queue: u16, access: &mut QueueAccess<'_>) -> Result<(), QueueError> {
        let mut buf = [0u8; 64];
        while let Some(chain) = access.pop(queue)? {
            let n = access.read(&chain, 0, &mut buf);
            let w = access.write(&chain, 0, buf.get(..n).unwrap_or_default());
            access.push_used(queue, &chain, w as u32)?;
        }
        Ok(())
    }
}

fuzz_target!(|input: Input| {
    let mut memory = FakeMemory::new(BASE, RAM);
    let n = input.memory.len().min(RAM);
    memory.bytes[..n].copy_from_slice(&input.memory[..n]);

    // The walker alone, from a random ring state.
    let mut queue = Queue {
        size: input.size,
        ready: true,
        desc: BASE + u64::from(input.desc),
        avail: BASE + u64::from(input.avail),
        used: BASE + u64::from(input.used),
        next_avail: input.next_avail,
        next_used: 0,
    };
    for _ in 0..64 {
        match queue.pop(&memory, input.indirect) {
            Ok(Some(chain)) => {
                check_chain(&memory, &chain);
                let before = memory.bytes.clone();
                let _ = queue.push_used(&mut memory, chain.head, 0);
                // Only the used ring changed.
                let used = (queue.used - BASE) as usize;
                let end = used + 6 + 8 * usize::from(queue.size);
                for (i, (a, b)) in before.iter().zip(&memory.bytes).enumerate() {
                    assert!(a == b || (used..end).contains(&i));
                }
            }
            Ok(None) | Err(_) => break,
        }
    }

    // The transport, driven by random accesses.
    let mut device = Transport::new(Echo);
    for step in input.steps.into_iter().take(256) {
        match step {
            Step::Poke { at, bytes } => {
                let at = usize::from(at) % RAM;
                let end = (at + bytes.len()).min(RAM);
                memory.bytes[at..end].copy_from_slice(&bytes[..end - at]);
            }
            Step::Access { offset, store } => {
                let access = DeviceAccess {
                    offset: u64::from(offset & 0x1fc),
                    width: AccessWidth::Word,
                    vcpu: 0,
                };
                let value = perform(
                    &mut device,
                    access,
                    store.map(u64::from),
                    &mut DeviceEffects::new(),
                );
                assert!(value.is_ok());
            }
            Step::Service => {
                let was_broken = device.status() & status::DEVICE_NEEDS_RESET != 0;
                let _ = device.service(&mut memory);
                if device.last_error.is_some() && !was_broken {
                    assert_ne!(device.status() & status::DEVICE_NEEDS_RESET, 0);
                }
            }
        }
    }
    let _ = reg::CONFIG;
});
