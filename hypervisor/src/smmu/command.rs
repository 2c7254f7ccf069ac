//! Command queue entries (Arm IHI 0070, 4 "Commands"): 16 bytes each, the opcode in bits
//! [7:0] of the first word.

/// CMD_CFGI_STE (IHI 0070 4.3.2).
const CFGI_STE: u64 = 0x03;
/// CMD_CFGI_STE_RANGE (IHI 0070 4.3.3); with Range = 31 it is CMD_CFGI_ALL (4.3.7).
const CFGI_STE_RANGE: u64 = 0x04;
/// CMD_TLBI_S12_VMALL (IHI 0070 4.4.11).
const TLBI_S12_VMALL: u64 = 0x28;
/// CMD_TLBI_EL2_ALL (IHI 0070 4.4.7).
const TLBI_EL2_ALL: u64 = 0x20;
/// CMD_TLBI_NSNH_ALL (IHI 0070 4.4.13).
const TLBI_NSNH_ALL: u64 = 0x30;
/// CMD_SYNC (IHI 0070 4.7.3).
const SYNC: u64 = 0x46;
/// CMD_SYNC.MSH, bits [23:22]: inner shareable.
const SYNC_MSH_INNER: u64 = 0b11 << 22;
/// CMD_CFGI_STE_RANGE.Range, word 1 bits [4:0]: 31 means every StreamID.
const RANGE_ALL: u64 = 31;

/// The commands the driver issues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Invalidate the cached copy of one STE (`Leaf = 1`: no level-1 descriptor changed).
    CfgiSte {
        /// The stream whose STE changed.
        sid: u32,
    },
    /// Invalidate every cached STE and context descriptor.
    CfgiAll,
    /// Invalidate every stage-1 and stage-2 TLB entry tagged with `vmid`.
    TlbiS12Vmall {
        /// The VMID.
        vmid: u16,
    },
    /// Invalidate every EL2 TLB entry (an SMMU with stage 1 and SMMU_IDR0.HYP).
    TlbiEl2All,
    /// Invalidate every non-secure, non-hypervisor TLB entry.
    TlbiNsnhAll,
    /// Complete every earlier command before CONS moves past this one (CS = 0b00: no
    /// interrupt, no event; the driver polls CONS).
    Sync,
}

/// The size of a command in bytes.
pub const COMMAND_BYTES: usize = 16;

impl Command {
    /// Its two little-endian words (IHI 0070 4.1.1 "Command format").
    pub fn encode(self) -> [u64; 2] {
        match self {
            Command::CfgiSte { sid } => [CFGI_STE | (u64::from(sid) << 32), 1],
            Command::CfgiAll => [CFGI_STE_RANGE, RANGE_ALL],
            Command::TlbiS12Vmall { vmid } => [TLBI_S12_VMALL | (u64::from(vmid) << 32), 0],
            Command::TlbiEl2All => [TLBI_EL2_ALL, 0],
            Command::TlbiNsnhAll => [TLBI_NSNH_ALL, 0],
            Command::Sync => [SYNC | SYNC_MSH_INNER, 0],
        }
    }

    /// Its bytes as the SMMU reads them.
    pub fn to_bytes(self) -> [u8; COMMAND_BYTES] {
        let [low, high] = self.encode();
        let mut bytes = [0; COMMAND_BYTES];
        let (a, b) = bytes.split_at_mut(8);
        a.copy_from_slice(&low.to_le_bytes());
        b.copy_from_slice(&high.to_le_bytes());
        bytes
    }
}

/// CMDQ_CONS.ERR, bits [30:24] (IHI 0070 6.3.27), naming the command error (4.9
/// "Command queue errors") when SMMU_GERROR.CMDQ_ERR is raised.
pub fn cmdq_error_name(cons: u32) -> &'static str {
    match (cons >> 24) & 0x7f {
        0 => "CERROR_NONE",
        1 => "CERROR_ILL (illegal command)",
        2 => "CERROR_ABT (command fetch aborted)",
        3 => "CERROR_ATC_INV_SYNC",
        _ => "unknown command error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cfgi_ste_names_the_stream_and_is_a_leaf() {
        // IHI 0070 4.3.2: opcode 0x03, StreamID in bits [63:32], Leaf in word 1 bit 0.
        assert_eq!(Command::CfgiSte { sid: 0x10 }.encode(), [0x10_0000_0003, 1]);
    }

    #[test]
    fn cfgi_all_is_a_range_of_31() {
        // IHI 0070 4.3.7: CMD_CFGI_ALL = CMD_CFGI_STE_RANGE (0x04) with Range = 31.
        assert_eq!(Command::CfgiAll.encode(), [0x04, 31]);
    }

    #[test]
    fn tlbi_s12_vmall_names_the_vmid() {
        // IHI 0070 4.4.11: opcode 0x28, VMID in bits [47:32].
        assert_eq!(
            Command::TlbiS12Vmall { vmid: 0xabcd }.encode(),
            [0xabcd_0000_0028, 0]
        );
        assert_eq!(Command::TlbiNsnhAll.encode(), [0x30, 0]);
        assert_eq!(Command::TlbiEl2All.encode(), [0x20, 0]);
    }

    #[test]
    fn sync_signals_nothing_and_is_inner_shareable() {
        // IHI 0070 4.7.3: opcode 0x46, CS [13:12] = 0b00 (SIG_NONE), MSH [23:22].
        let [low, high] = Command::Sync.encode();
        assert_eq!(low & 0xff, 0x46);
        assert_eq!((low >> 12) & 0b11, 0);
        assert_eq!((low >> 22) & 0b11, 0b11);
        assert_eq!(high, 0);
    }

    #[test]
    fn bytes_are_little_endian() {
        let bytes = Command::CfgiSte { sid: 0x0102_0304 }.to_bytes();
        assert_eq!(bytes[..8], [0x03, 0, 0, 0, 0x04, 0x03, 0x02, 0x01]);
        assert_eq!(bytes[8], 1);
    }

    #[test]
    fn error_names() {
        assert_eq!(cmdq_error_name(1 << 24), "CERROR_ILL (illegal command)");
        assert_eq!(cmdq_error_name(0x7f << 24), "unknown command error");
    }
}
