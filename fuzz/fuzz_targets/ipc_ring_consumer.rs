//! The shared-memory ring's consumer (`bulkhead-ipc-ring`) over a hostile region: random
//! header and data bytes, and random writes between its reads (a producer in another partition
//! changing anything at any time). It never panics, never reads outside the region, every
//! record it hands out lies inside the data area, and once it reports the ring corrupt it keeps
//! reporting the same thing.
#![no_main]

use arbitrary::Arbitrary;
use bulkhead_ipc_ring::layout::{self, producer};
use bulkhead_ipc_ring::{Consumer, Shared};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Op {
    Peek,
    Release,
    Word { index: u16, value: u64 },
    Tail { value: u64 },
}

#[derive(Arbitrary, Debug)]
struct Input {
    /// The region's size in words (header included).
    words: u16,
    /// A valid header first (so the consumer attaches), then these words over it.
    valid_header: bool,
    capacity_log2: u8,
    initial: Vec<(u16, u64)>,
    ops: Vec<Op>,
}

fuzz_target!(|input: Input| {
    let words = usize::from(input.words % 1024) + 1;
    let mut memory = vec![0u64; words];
    let size = words * 8;
    // SAFETY: the vector is 8-aligned, `size` bytes, and outlives every use below.
    let shared = unsafe { Shared::new(memory.as_mut_ptr().cast(), size) };
    if input.valid_header && size >= layout::HEADER_SIZE {
        use core::sync::atomic::Ordering::Relaxed;
        shared.u32_at(producer::VERSION).store(
            u32::from(layout::VERSION) | ((layout::HEADER_SIZE as u32) << 16),
            Relaxed,
        );
        let capacity = 1u32
            .checked_shl(u32::from(input.capacity_log2 % 32))
            .unwrap_or(0);
        shared.u32_at(producer::CAPACITY).store(capacity, Relaxed);
        shared.u32_at(producer::MAGIC).store(layout::MAGIC, Relaxed);
    }
    for &(index, value) in &input.initial {
        let index = usize::from(index) % words;
        if index >= 2 || !input.valid_header {
            shared.write_word(index * 8, value);
        }
    }
    let Ok(Some(mut consumer)) = Consumer::attach(shared) else {
        return;
    };
    let data_end = layout::HEADER_SIZE + consumer.capacity();
    assert!(data_end <= size);
    let mut held = None;
    let mut dead = None;
    for op in input.ops {
        match op {
            Op::Peek => {
                let result = consumer.peek();
                if let Some(why) = dead {
                    assert_eq!(result, Err(why));
                }
                match result {
                    Ok(Some(record)) => {
                        assert!(record.len() <= layout::max_payload(consumer.capacity()));
                        let mut out = vec![0u8; record.len()];
                        assert_eq!(consumer.copy_to(&record, &mut out), record.len());
                        held = Some(record);
                    }
                    Ok(None) => held = None,
                    Err(why) => dead = Some(why),
                }
            }
            Op::Release => {
                if let Some(record) = held.take() {
                    let _ = consumer.release(record);
                }
            }
            Op::Word { index, value } => shared.write_word(usize::from(index) % words * 8, value),
            Op::Tail { value } => {
                if size >= layout::HEADER_SIZE {
                    shared
                        .u64_at(producer::TAIL)
                        .store(value, core::sync::atomic::Ordering::Relaxed);
                }
            }
        }
    }
});
