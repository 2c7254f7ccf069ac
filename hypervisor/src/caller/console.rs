//! Hypercall console output (BULKHEAD_CONSOLE_WRITE*): the same stream as the partition's
//! virtual PL011 output ([`crate::console::partition_output`]), so bytes from both paths
//! never split a line in two.

use crate::system::Partition;

/// Adds `bytes` to `partition`'s console output.
pub fn write(partition: &Partition, bytes: &[u8]) {
    if let Some(index) = partition.id.checked_sub(1) {
        crate::console::partition_output(index, bytes);
    }
}
