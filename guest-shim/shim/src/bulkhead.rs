//! Bulkhead's own hypervisor service (vendor-specific hypervisor calls, owner 6): discovery by
//! UID, partition information, a console that needs no UART and doorbells to other partitions.
//!
//! ```ignore
//! if let Some(hv) = guest_shim::bulkhead::detect() {
//!     let me = hv.partition_info()?;
//!     hv.console_write(b"hello from a partition\n")?;
//!     let bell = hv.doorbell_info(0)?; // peer partition, the INTID we receive on, count
//!     hv.doorbell_ring(0)?;            // the peer's doorbell INTID becomes pending
//! }
//! ```

use crate::smccc::{self, SmcccError, Version};

use bulkhead_abi::{smc64, vendor};

/// Vendor hypervisor Call UID query.
pub const CALL_UID: u32 = vendor::CALL_UID;
/// Vendor hypervisor Revision query.
pub const REVISION: u32 = vendor::REVISION;
/// BULKHEAD_FEATURES.
pub const FEATURES: u32 = vendor::FEATURES;
/// BULKHEAD_PARTITION_INFO.
pub const PARTITION_INFO: u32 = vendor::PARTITION_INFO;
/// BULKHEAD_PARTITION_NAME (SMC64 form).
pub const PARTITION_NAME: u32 = smc64(vendor::PARTITION_NAME);
/// BULKHEAD_CONSOLE_WRITE (registers, SMC64 form).
pub const CONSOLE_WRITE: u32 = smc64(vendor::CONSOLE_WRITE);
/// BULKHEAD_CONSOLE_WRITE_BUFFER (SMC64 form).
pub const CONSOLE_WRITE_BUFFER: u32 = smc64(vendor::CONSOLE_WRITE_BUFFER);
/// BULKHEAD_CONSOLE_READ (SMC64 form).
pub const CONSOLE_READ: u32 = smc64(vendor::CONSOLE_READ);
/// BULKHEAD_DOORBELL_RING.
pub const DOORBELL_RING: u32 = vendor::DOORBELL_RING;
/// BULKHEAD_DOORBELL_INFO.
pub const DOORBELL_INFO: u32 = vendor::DOORBELL_INFO;
/// The first function ID still reserved for inter-partition communication.
pub const RESERVED_IPC: u32 = vendor::DOORBELL_INFO + 1;
/// BULKHEAD_DOORBELL_RING's return code when the peer partition is not running.
pub const PEER_DOWN: i64 = bulkhead_abi::error::vendor::PEER_DOWN as i64;
/// BULKHEAD_STACK_HIGH_WATER: the deepest use of the EL2 stack of one of the caller's vCPUs.
pub const STACK_HIGH_WATER: u32 = vendor::STACK_HIGH_WATER;
/// BULKHEAD_TEST_OVERFLOW_EL2_STACK: overflow the EL2 stack on purpose (test-hooks builds).
pub const TEST_OVERFLOW_EL2_STACK: u32 = vendor::TEST_OVERFLOW_EL2_STACK;
/// BULKHEAD_TEST_CONSOLE_INPUT: up to 4 bytes into the caller's virtual PL011 as console input
/// (test-hooks builds).
pub const TEST_CONSOLE_INPUT: u32 = vendor::TEST_CONSOLE_INPUT;
/// The first function ID reserved for the watchdog.
pub const RESERVED_WATCHDOG: u32 = vendor::id(*vendor::RESERVED_WATCHDOG.start());
/// The first function ID reserved for partition management.
pub const RESERVED_MANAGEMENT: u32 = vendor::id(*vendor::RESERVED_MANAGEMENT.start());
/// The most bytes BULKHEAD_CONSOLE_WRITE carries in registers (X2..X6).
pub const MAX_REGISTER_BYTES: usize = 40;

/// Bulkhead's UID: `8dbd16a7-85f8-4878-a681-58b6ff612fa9`.
pub const UID: [u8; 16] = [
    0x8d, 0xbd, 0x16, 0xa7, 0x85, 0xf8, 0x48, 0x78, 0xa6, 0x81, 0x58, 0xb6, 0xff, 0x61, 0x2f, 0xa9,
];

/// W0 of a UID or UUID query that is not implemented: NOT_SUPPORTED. Any other W0, even with
/// bit 31 set, is the first word of a UUID (no UUID may start with 0xffffffff).
pub const UUID_NOT_SUPPORTED: u32 = 0xffff_ffff;

/// A UUID from W0..W3 as SMCCC returns it (bytes 0..3 in W0, byte 0 least significant);
/// `None` if W0 says NOT_SUPPORTED.
pub fn checked_uuid(regs: [u64; 4]) -> Option<[u8; 16]> {
    (regs[0] as u32 != UUID_NOT_SUPPORTED).then(|| uuid_from_registers(regs))
}

/// A UUID from W0..W3 as SMCCC returns it (bytes 0..3 in W0, byte 0 least significant).
pub fn uuid_from_registers(regs: [u64; 4]) -> [u8; 16] {
    let mut uuid = [0u8; 16];
    for (chunk, word) in uuid.chunks_exact_mut(4).zip(regs) {
        chunk.copy_from_slice(&(word as u32).to_le_bytes());
    }
    uuid
}

/// Proof that the hypervisor below is Bulkhead: only [`detect`] makes one.
#[derive(Clone, Copy, Debug)]
pub struct Bulkhead {
    revision: Version,
}

/// What BULKHEAD_PARTITION_INFO reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartitionInfo {
    /// The partition's id (1-based, configuration order).
    pub id: u64,
    /// How many vCPUs it has.
    pub vcpus: u64,
    /// The calling vCPU's index.
    pub vcpu: u64,
}

/// What BULKHEAD_DOORBELL_INFO reports about one of the caller's doorbells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DoorbellInfo {
    /// The peer partition's id (1-based, configuration order).
    pub peer: u64,
    /// The INTID (a virtual SPI) this partition receives when the peer rings.
    pub intid: u32,
    /// How many doorbells this partition has (valid indices are `0..count`).
    pub count: u64,
}

/// Why a doorbell call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DoorbellError {
    /// INVALID_PARAMETER: this partition has no doorbell of that index (a partition without
    /// channels has none at all).
    NoSuchDoorbell,
    /// PEER_DOWN: the peer partition is not running; nothing was made pending.
    PeerDown,
    /// Another SMCCC error (NOT_SUPPORTED: a hypervisor without doorbells).
    Smccc(SmcccError),
}

impl DoorbellError {
    /// Decodes an error in x0; `None` if x0 is not one.
    fn from_register(x0: u64) -> Option<Self> {
        match SmcccError::from_register(x0)? {
            SmcccError::InvalidParameter => Some(DoorbellError::NoSuchDoorbell),
            SmcccError::Other(PEER_DOWN) => Some(DoorbellError::PeerDown),
            other => Some(DoorbellError::Smccc(other)),
        }
    }
}

/// A buffer as the hypervisor sees it: an intermediate physical address and a length. For a
/// guest with its MMU off (or identity-mapped) a slice's address is its IPA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestBuffer {
    /// The buffer's IPA.
    pub ipa: u64,
    /// Its length in bytes.
    pub len: u64,
}

impl GuestBuffer {
    /// The buffer holding `bytes` (identity-mapped guests).
    pub fn of(bytes: &[u8]) -> Self {
        GuestBuffer {
            ipa: bytes.as_ptr() as u64,
            len: bytes.len() as u64,
        }
    }

    /// Any IPA range: for probing how the hypervisor treats bad buffers.
    pub fn from_raw(ipa: u64, len: u64) -> Self {
        GuestBuffer { ipa, len }
    }
}

/// Asks for SMCCC v1.1+ and the vendor hypervisor UID, and returns the service if it is
/// Bulkhead's.
pub fn detect() -> Option<Bulkhead> {
    let version = smccc::version().ok()?;
    if version < (Version { major: 1, minor: 1 }) {
        return None;
    }
    if checked_uuid(smccc::call(CALL_UID, [0; 6]))? != UID {
        return None;
    }
    let [major, minor, ..] = smccc::call(REVISION, [0; 6]);
    Some(Bulkhead {
        revision: Version {
            major: major as u16,
            minor: minor as u16,
        },
    })
}

fn status(regs: [u64; 4]) -> Result<u64, SmcccError> {
    match SmcccError::from_register(regs[0]) {
        Some(error) => Err(error),
        None => Ok(regs[1]),
    }
}

impl Bulkhead {
    /// The service revision (major.minor).
    pub fn revision(&self) -> Version {
        self.revision
    }

    /// BULKHEAD_FEATURES: whether vendor function `function` is implemented.
    pub fn features(&self, function: u32) -> Result<u32, SmcccError> {
        smccc::result_w0(smccc::call(FEATURES, [u64::from(function), 0, 0, 0, 0, 0])[0])
    }

    /// BULKHEAD_PARTITION_INFO.
    pub fn partition_info(&self) -> Result<PartitionInfo, SmcccError> {
        let regs = smccc::call(PARTITION_INFO, [0; 6]);
        status(regs)?;
        Ok(PartitionInfo {
            id: regs[1],
            vcpus: regs[2],
            vcpu: regs[3],
        })
    }

    /// BULKHEAD_STACK_HIGH_WATER for vCPU `vcpu` of this partition: (deepest use of its
    /// CPU's EL2 stack in bytes, the stack's size).
    pub fn stack_high_water(&self, vcpu: u32) -> Result<(u64, u64), SmcccError> {
        let regs = smccc::call(STACK_HIGH_WATER, [u64::from(vcpu), 0, 0, 0, 0, 0]);
        status(regs)?;
        Ok((regs[1], regs[2]))
    }

    /// BULKHEAD_PARTITION_NAME into `out`: returns the name's full length (bytes beyond
    /// `out.len()` are not written).
    pub fn partition_name(&self, out: &mut [u8]) -> Result<usize, SmcccError> {
        self.partition_name_into(GuestBuffer::of(out))
            .map(|n| n as usize)
    }

    /// BULKHEAD_PARTITION_NAME into any buffer (for probing).
    pub fn partition_name_into(&self, buffer: GuestBuffer) -> Result<u64, SmcccError> {
        status(smccc::call(
            PARTITION_NAME,
            [buffer.ipa, buffer.len, 0, 0, 0, 0],
        ))
    }

    /// BULKHEAD_CONSOLE_WRITE_BUFFER for all of `bytes` (in calls of at most 256 bytes).
    pub fn console_write(&self, bytes: &[u8]) -> Result<usize, SmcccError> {
        let mut done = 0;
        while done < bytes.len() {
            let written = self.console_write_from(GuestBuffer::of(&bytes[done..]))?;
            if written == 0 {
                break;
            }
            done += written as usize;
        }
        Ok(done)
    }

    /// BULKHEAD_CONSOLE_WRITE_BUFFER once: returns how many bytes were written.
    pub fn console_write_from(&self, buffer: GuestBuffer) -> Result<u64, SmcccError> {
        status(smccc::call(
            CONSOLE_WRITE_BUFFER,
            [buffer.ipa, buffer.len, 0, 0, 0, 0],
        ))
    }

    /// BULKHEAD_CONSOLE_WRITE with the bytes in registers (at most [`MAX_REGISTER_BYTES`]).
    pub fn console_write_registers(&self, bytes: &[u8]) -> Result<u64, SmcccError> {
        let mut args = [0u64; 6];
        args[0] = bytes.len() as u64;
        for (slot, chunk) in args[1..].iter_mut().zip(bytes.chunks(8)) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            *slot = u64::from_le_bytes(word);
        }
        status(smccc::call(CONSOLE_WRITE, args))
    }

    /// BULKHEAD_CONSOLE_READ into `out`: how many bytes arrived (always 0 for now).
    pub fn console_read(&self, out: &mut [u8]) -> Result<u64, SmcccError> {
        self.console_read_into(GuestBuffer::of(out))
    }

    /// BULKHEAD_CONSOLE_READ into any buffer (for probing).
    pub fn console_read_into(&self, buffer: GuestBuffer) -> Result<u64, SmcccError> {
        status(smccc::call(
            CONSOLE_READ,
            [buffer.ipa, buffer.len, 0, 0, 0, 0],
        ))
    }

    /// BULKHEAD_DOORBELL_RING: makes the doorbell INTID of the peer of this partition's
    /// doorbell `index` pending in the peer. Returns once it is pending there (latched while
    /// the peer keeps it disabled), not when the peer has handled it.
    pub fn doorbell_ring(&self, index: u32) -> Result<(), DoorbellError> {
        let x0 = smccc::call(DOORBELL_RING, [u64::from(index), 0, 0, 0, 0, 0])[0];
        DoorbellError::from_register(x0).map_or(Ok(()), Err)
    }

    /// BULKHEAD_DOORBELL_INFO: the peer and the INTID of this partition's doorbell `index`,
    /// and how many doorbells it has.
    pub fn doorbell_info(&self, index: u32) -> Result<DoorbellInfo, DoorbellError> {
        let regs = smccc::call(DOORBELL_INFO, [u64::from(index), 0, 0, 0, 0, 0]);
        if let Some(error) = DoorbellError::from_register(regs[0]) {
            return Err(error);
        }
        Ok(DoorbellInfo {
            peer: regs[1],
            intid: regs[2] as u32,
            count: regs[3],
        })
    }

    /// A `core::fmt::Write` console on BULKHEAD_CONSOLE_WRITE_BUFFER.
    pub fn console(&self) -> HypercallConsole {
        HypercallConsole { bulkhead: *self }
    }
}

/// Formatted output through the hypercall console (no UART needed).
pub struct HypercallConsole {
    bulkhead: Bulkhead,
}

impl core::fmt::Write for HypercallConsole {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.bulkhead
            .console_write(s.as_bytes())
            .map(|_| ())
            .map_err(|_| core::fmt::Error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_registers_round_trip() {
        let regs = [0xa716_bd8d, 0x7848_f885, 0xb658_81a6, 0xa92f_61ff];
        assert_eq!(uuid_from_registers(regs), UID);
    }

    #[test]
    fn a_uuid_with_bit_31_set_is_not_an_error() {
        assert_eq!(
            checked_uuid([0xa716_bd8d, 0x7848_f885, 0xb658_81a6, 0xa92f_61ff]),
            Some(UID)
        );
        assert_eq!(checked_uuid([u64::MAX, 0, 0, 0]), None);
    }

    #[test]
    fn doorbell_errors_decode_from_x0() {
        assert_eq!(DoorbellError::from_register(0), None);
        assert_eq!(
            DoorbellError::from_register(-3i64 as u64),
            Some(DoorbellError::NoSuchDoorbell)
        );
        assert_eq!(
            DoorbellError::from_register(-4i64 as u64),
            Some(DoorbellError::PeerDown)
        );
        assert_eq!(
            DoorbellError::from_register(u64::MAX),
            Some(DoorbellError::Smccc(SmcccError::NotSupported))
        );
    }

    #[test]
    fn nothing_is_detected_without_a_hypervisor() {
        assert!(detect().is_none());
    }
}
