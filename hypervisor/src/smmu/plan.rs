//! Which stream gets which STE: the configuration's `stream-ids`, as the boot kept them, turned
//! into stage-2 STEs of their partitions (pure; the driver writes them).

use heapless::{String, Vec};

use super::event::StreamOwner;
use super::ste::{Stage2, Ste, SteError};

/// The most streams a system assigns.
pub const MAX_DMA_STREAMS: usize = 16;

/// A stream the configuration gives a running partition's device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DmaStream {
    /// The stream ID.
    pub sid: u32,
    /// The partition's index in configuration order.
    pub partition: usize,
    /// The device node that lists it.
    pub device: String<32>,
}

/// The streams of a system, in configuration order.
pub type DmaStreams = Vec<DmaStream, MAX_DMA_STREAMS>;

/// A partition's stage 2 as its STEs use it: `vttbr` (VMID in bits [55:48], the root in
/// [47:1]) and the system's `vtcr`.
pub fn stage2_of(vttbr: u64, vtcr: u64) -> Stage2 {
    Stage2 {
        root: vttbr & 0x0000_ffff_ffff_fffe,
        vmid: ((vttbr >> 48) & 0xff) as u16,
        vtcr,
    }
}

/// Stream `stream`'s STE: the stage-2 entry of its partition (whose VTTBR `vttbr_of` gives),
/// on an SMMU of output size `oas`.
pub fn entry_for(
    stream: &DmaStream,
    vttbr_of: impl Fn(usize) -> Option<u64>,
    vtcr: u64,
    oas: u8,
) -> Result<Ste, SteError> {
    let vttbr = vttbr_of(stream.partition).ok_or(SteError::Root(0))?;
    Ste::stage2(stage2_of(vttbr, vtcr), oas)
}

/// The owners of `streams`, named by `name_of` (partition index to name), for fault reports.
pub fn owners<'a>(
    streams: &'a [DmaStream],
    name_of: impl Fn(usize) -> &'a str,
) -> Vec<StreamOwner<'a>, MAX_DMA_STREAMS> {
    let mut owners = Vec::new();
    for stream in streams {
        let _ = owners.push(StreamOwner {
            sid: stream.sid,
            partition: stream.partition,
            partition_name: name_of(stream.partition),
            device: stream.device.as_str(),
        });
    }
    owners
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pagetable::stage2;

    fn stream() -> DmaStream {
        let mut device = String::new();
        let _ = device.push_str("device@4010000000");
        DmaStream {
            sid: 0x10,
            partition: 0,
            device,
        }
    }

    #[test]
    fn a_streams_entry_uses_its_partitions_root_vmid_and_vtcr() {
        let vttbr = stage2::vttbr(0x4012_3000, 1);
        let ste = entry_for(&stream(), |i| (i == 0).then_some(vttbr), stage2::vtcr(2), 4).unwrap();
        assert_eq!(ste.s2ttb(), 0x4012_3000);
        assert_eq!(ste.vmid(), 1);
        assert!(ste.is_stage2());
    }

    #[test]
    fn a_stream_of_an_unknown_partition_gets_no_entry() {
        assert!(entry_for(&stream(), |_| None, stage2::vtcr(2), 4).is_err());
    }

    #[test]
    fn owners_name_partition_and_device() {
        let streams = [stream()];
        let owners = owners(&streams, |_| "linux");
        assert_eq!(owners[0].partition_name, "linux");
        assert_eq!(owners[0].device, "device@4010000000");
        assert_eq!(owners[0].sid, 0x10);
    }
}
