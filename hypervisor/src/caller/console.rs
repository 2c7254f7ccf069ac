//! Hypercall console output (BULKHEAD_CONSOLE_WRITE*): the same console as the partition's
//! virtual PL011 (its ring in the multiplexer), so bytes from both paths never split a line.

use crate::system::Partition;

/// Adds `bytes` to `partition`'s console.
pub fn write(partition: &Partition, bytes: &[u8]) {
    if let Some(index) = partition.id.checked_sub(1) {
        crate::console::partition_output(index, bytes);
    }
}
