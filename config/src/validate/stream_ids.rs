//! Checking the `stream-ids` of a partition's devices: the board must have an SMMU the
//! hypervisor drives, each ID must fit its stream table, and no stream ID may be given twice
//! (within a device, across a partition's devices or across partitions): a stream belongs to
//! exactly one device, whose DMA the SMMU translates through its partition's stage 2.

use crate::board::Board;
use crate::error::{ConfigError, ErrorKind};
use crate::limits::MAX_STREAM_ID;
use crate::model::{Config, Device, PartitionConfig};
use crate::report::Report;
use crate::text::bounded;

/// Checks the devices of partition `index` (`partition`) of `config` against `board`; a
/// stream ID given before (in configuration order) is reported on the later device, naming
/// the earlier one.
pub(super) fn check(
    config: &Config<'_>,
    board: &Board,
    index: usize,
    partition: &PartitionConfig<'_>,
    report: &mut Report,
) {
    for (position, device) in partition.devices.iter().enumerate() {
        if device.stream_ids.is_empty() {
            continue;
        }
        let error = |kind| {
            ConfigError::at(
                Some(index),
                &["partitions", partition.name, device.node],
                kind,
            )
        };
        if board.smmu.is_none() {
            report.push(error(ErrorKind::StreamIdsWithoutSmmu));
        }
        for (nth, &sid) in device.stream_ids.iter().enumerate() {
            if sid > MAX_STREAM_ID {
                report.push(error(ErrorKind::StreamIdTooLarge { sid }));
            }
            let twice_here = device
                .stream_ids
                .get(..nth)
                .unwrap_or_default()
                .contains(&sid);
            let earlier = earlier_owner(config, index, position, sid);
            let owner = if twice_here {
                Some((partition.name, device.node))
            } else {
                earlier
            };
            if let Some((partition, device)) = owner {
                report.push(error(ErrorKind::StreamIdTaken {
                    sid,
                    partition: bounded(partition),
                    device: bounded(device),
                }));
            }
        }
    }
}

/// The partition and device that list `sid` before device `position` of partition `index`.
fn earlier_owner<'a>(
    config: &Config<'a>,
    index: usize,
    position: usize,
    sid: u32,
) -> Option<(&'a str, &'a str)> {
    let lists = |d: &Device<'_>| d.stream_ids.contains(&sid);
    config
        .partitions
        .iter()
        .take(index.saturating_add(1))
        .enumerate()
        .find_map(|(i, p)| {
            let devices = if i == index {
                p.devices.get(..position).unwrap_or_default()
            } else {
                p.devices.as_slice()
            };
            devices.iter().find(|d| lists(d)).map(|d| (p.name, d.node))
        })
}
