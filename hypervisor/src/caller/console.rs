//! Hypercall console output (BULKHEAD_CONSOLE_WRITE*): assembled into lines exactly like the
//! partition's virtual PL011 output, and printed as `[name] line`.
//!
//! A partition with a virtual PL011 shares its line buffer, so bytes from both paths never
//! split a line in two; one without gets a line buffer of its own here.

use crate::console::LineBuffer;
use crate::println;
use crate::system::Partition;

/// Line buffers of partitions that have no virtual PL011, by partition id - 1.
static LINES: [spin::Mutex<Option<LineBuffer>>; bulkhead_config::MAX_PARTITIONS] =
    [const { spin::Mutex::new(None) }; bulkhead_config::MAX_PARTITIONS];

/// Adds `bytes` to `partition`'s console and prints every line they complete.
pub fn write(partition: &Partition, bytes: &[u8]) {
    let emit = |buffer: &mut LineBuffer| {
        for &byte in bytes {
            if let Some(line) = buffer.push(byte) {
                println!("[{}] {}", partition.name, line);
            }
        }
    };
    if let Some(console) = &partition.console {
        emit(&mut console.state.lock().1);
    } else if let Some(slot) = partition.id.checked_sub(1).and_then(|i| LINES.get(i)) {
        emit(slot.lock().get_or_insert_with(LineBuffer::default));
    }
}
