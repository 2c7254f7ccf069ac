//! Event queue records (Arm IHI 0070, 7.3 "Event records"): 32 bytes each; the SMMU writes one
//! for each recorded fault or configuration error, and the driver turns it into a report that
//! names the partition and device owning the stream.

use core::fmt;

/// The size of an event record in bytes.
pub const EVENT_BYTES: usize = 32;

/// One event record, decoded from its four little-endian words (IHI 0070 7.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// The event type, bits [7:0] (IHI 0070 7.3, table 7-2).
    pub kind: u8,
    /// StreamID, bits [63:32].
    pub sid: u32,
    /// For the translation faults: the input address (the address the device used).
    pub input_addr: Option<u64>,
    /// For the translation faults: whether the access was a read (RnW, bit 99).
    pub read: bool,
    /// For the translation faults: whether stage 2 faulted (S2, bit 103).
    pub stage2: bool,
}

/// F_TRANSLATION, F_ADDR_SIZE, F_ACCESS, F_PERMISSION and F_WALK_EABT carry the address and
/// the access (IHI 0070 7.3.10 to 7.3.14).
fn carries_address(kind: u8) -> bool {
    matches!(kind, 0x0b | 0x10..=0x13)
}

impl Event {
    /// Decodes a record from its bytes (never fails: an unknown type is reported as such).
    pub fn decode(bytes: &[u8; EVENT_BYTES]) -> Event {
        let mut words = [0u64; 4];
        for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(8)) {
            let mut raw = [0; 8];
            raw.copy_from_slice(chunk);
            *word = u64::from_le_bytes(raw);
        }
        let [w0, w1, w2, _] = words;
        let kind = (w0 & 0xff) as u8;
        let addressed = carries_address(kind);
        Event {
            kind,
            sid: (w0 >> 32) as u32,
            input_addr: addressed.then_some(w2),
            read: addressed && (w1 >> 35) & 1 != 0,
            stage2: addressed && (w1 >> 39) & 1 != 0,
        }
    }

    /// The event's name in IHI 0070 7.3 (table 7-2).
    pub fn name(&self) -> &'static str {
        match self.kind {
            0x01 => "F_UUT",
            0x02 => "C_BAD_STREAMID",
            0x03 => "F_STE_FETCH",
            0x04 => "C_BAD_STE",
            0x05 => "F_BAD_ATS_TREQ",
            0x06 => "F_STREAM_DISABLED",
            0x07 => "F_TRANSL_FORBIDDEN",
            0x08 => "C_BAD_SUBSTREAMID",
            0x09 => "F_CD_FETCH",
            0x0a => "C_BAD_CD",
            0x0b => "F_WALK_EABT",
            0x10 => "F_TRANSLATION",
            0x11 => "F_ADDR_SIZE",
            0x12 => "F_ACCESS",
            0x13 => "F_PERMISSION",
            0x20 => "F_TLB_CONFLICT",
            0x21 => "F_CFG_CONFLICT",
            0x24 => "E_PAGE_REQUEST",
            0x25 => "F_VMS_FETCH",
            _ => "unknown event",
        }
    }
}

/// A stream the configuration assigns: the partition (by index) and device that own it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamOwner<'a> {
    /// The StreamID (for PCIe: the requester ID, bus << 8 | device << 3 | function).
    pub sid: u32,
    /// The owning partition's index in the system.
    pub partition: usize,
    /// The owning partition's name.
    pub partition_name: &'a str,
    /// The device node that named the stream.
    pub device: &'a str,
}

/// A device fault: an event attributed to the partition and device owning its stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceFault<'a> {
    /// The event.
    pub event: Event,
    /// Who owns the stream; `None`: no partition (an unassigned stream, whose transactions
    /// were aborted).
    pub owner: Option<StreamOwner<'a>>,
}

impl<'a> DeviceFault<'a> {
    /// Attributes `event` through `owners`.
    pub fn attribute(event: Event, owners: &[StreamOwner<'a>]) -> DeviceFault<'a> {
        DeviceFault {
            event,
            owner: owners.iter().copied().find(|o| o.sid == event.sid),
        }
    }
}

impl fmt::Display for DeviceFault<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let event = &self.event;
        match self.owner {
            Some(owner) => write!(
                f,
                "SMMU: device {} (stream {:#06x}) of partition \"{}\" (id {}): {}",
                owner.device,
                event.sid,
                owner.partition_name,
                owner.partition.wrapping_add(1),
                event.name()
            )?,
            None => write!(
                f,
                "SMMU: stream {:#06x} (no partition): {}",
                event.sid,
                event.name()
            )?,
        }
        if let Some(addr) = event.input_addr {
            write!(
                f,
                ", {} at address {:#018x}{}",
                if event.read { "read" } else { "write" },
                addr,
                if event.stage2 {
                    " outside the partition's memory (stage 2)"
                } else {
                    ""
                }
            )?;
        }
        write!(f, ": blocked")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    fn record(words: [u64; 4]) -> [u8; EVENT_BYTES] {
        let mut bytes = [0; EVENT_BYTES];
        for (chunk, word) in bytes.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        bytes
    }

    const OWNERS: [StreamOwner<'static>; 1] = [StreamOwner {
        sid: 0x10,
        partition: 0,
        partition_name: "linux",
        device: "pcie@10000000",
    }];

    #[test]
    fn translation_fault_decodes_stream_address_and_access() {
        // IHI 0070 7.3.12 F_TRANSLATION: type 0x10, StreamID [63:32], RnW bit 99 (word 1 bit
        // 35), S2 bit 103 (word 1 bit 39), InputAddr bits [191:128].
        let bytes = record([0x10_0000_0010, (1 << 39), 0x4100_0000, 0x4100_0000]);
        let event = Event::decode(&bytes);
        assert_eq!(event.kind, 0x10);
        assert_eq!(event.name(), "F_TRANSLATION");
        assert_eq!(event.sid, 0x10);
        assert_eq!(event.input_addr, Some(0x4100_0000));
        assert!(!event.read && event.stage2);
        let read = Event::decode(&record([0x10_0000_0010, (1 << 35), 0x1000, 0]));
        assert!(read.read && !read.stage2);
    }

    #[test]
    fn configuration_errors_carry_no_address() {
        // IHI 0070 7.3.3 C_BAD_STREAMID: type 0x02.
        let event = Event::decode(&record([0x0300_0000_0002, u64::MAX, 5, 5]));
        assert_eq!(event.name(), "C_BAD_STREAMID");
        assert_eq!(event.input_addr, None);
        assert!(!event.read && !event.stage2);
        assert_eq!(
            Event::decode(&record([0xfe, 0, 0, 0])).name(),
            "unknown event"
        );
    }

    #[test]
    fn report_names_the_partition_and_the_device() {
        let event = Event::decode(&record([0x10_0000_0010, (1 << 39), 0x4000_0000, 0]));
        let fault = DeviceFault::attribute(event, &OWNERS);
        assert_eq!(
            fault.to_string(),
            "SMMU: device pcie@10000000 (stream 0x0010) of partition \"linux\" (id 1): \
             F_TRANSLATION, write at address 0x0000000040000000 outside the partition's \
             memory (stage 2): blocked"
        );
    }

    #[test]
    fn report_of_an_unowned_stream_says_so() {
        let event = Event::decode(&record([0x18_0000_0002, 0, 0, 0]));
        let fault = DeviceFault::attribute(event, &OWNERS);
        assert_eq!(fault.owner, None);
        assert_eq!(
            fault.to_string(),
            "SMMU: stream 0x0018 (no partition): C_BAD_STREAMID: blocked"
        );
    }
}
