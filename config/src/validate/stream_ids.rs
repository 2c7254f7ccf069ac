//! Checking that each of a partition's `stream-ids` fits the hypervisor's SMMU stream table
//! (a linear table of 256 entries: PCIe bus 0's requester IDs). Whether the board has an SMMU
//! and whether a stream ID is given twice is checked with the DMA rules (`validate/dma.rs`).

use crate::error::{ConfigError, ErrorKind};
use crate::limits::MAX_STREAM_ID;
use crate::model::PartitionConfig;
use crate::report::Report;

/// Checks the stream IDs of partition `index` (`partition`).
pub(super) fn check(index: usize, partition: &PartitionConfig<'_>, report: &mut Report) {
    for device in &partition.devices {
        for &sid in device.stream_ids.iter().filter(|&&sid| sid > MAX_STREAM_ID) {
            report.push(ConfigError::at(
                Some(index),
                &["partitions", partition.name, device.node],
                ErrorKind::StreamIdTooLarge { sid },
            ));
        }
    }
}
