//! The virtio-vsock packet header (virtio 1.2 §5.10.6, `struct virtio_vsock_hdr`): 44 bytes,
//! little-endian, in front of every packet on the rx and tx queues.
//!
//! [`Header`] is the raw copy of those bytes: every field is what the guest wrote, an
//! allegation the switch ([`super::switch`]) checks before it acts. [`Op`] and [`Type`] are the
//! values the specification defines; anything else decodes to `None` and is refused. The codec
//! is ours: it is eleven fixed little-endian fields, smaller than any dependency that would do it.

/// The size of the header on the wire (virtio 1.2 §5.10.6).
pub const HEADER_LEN: usize = 44;

/// The largest payload one packet may carry: Linux's `VIRTIO_VSOCK_MAX_PKT_BUF_SIZE` (64 KiB);
/// the switch refuses longer ones.
pub const MAX_PAYLOAD: u32 = 64 * 1024;

/// `op` values (virtio 1.2 §5.10.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum Op {
    /// Connection request.
    Request = 1,
    /// Connection accepted.
    Response = 2,
    /// Connection reset (refused or torn down).
    Rst = 3,
    /// The sender will not receive and/or send any more (see [`shutdown`]).
    Shutdown = 4,
    /// Data: `len` payload bytes follow the header.
    Rw = 5,
    /// The sender's credit (`buf_alloc`, `fwd_cnt`) changed.
    CreditUpdate = 6,
    /// The sender asks for a credit update.
    CreditRequest = 7,
}

impl Op {
    /// The op with wire value `raw`, if the specification defines one.
    pub fn from_raw(raw: u16) -> Option<Self> {
        Some(match raw {
            1 => Self::Request,
            2 => Self::Response,
            3 => Self::Rst,
            4 => Self::Shutdown,
            5 => Self::Rw,
            6 => Self::CreditUpdate,
            7 => Self::CreditRequest,
            _ => return None,
        })
    }
}

/// `type` values. Only streams are offered: the device does not offer
/// `VIRTIO_VSOCK_F_SEQPACKET`, so a driver may not use type 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum Type {
    /// `VIRTIO_VSOCK_TYPE_STREAM`.
    Stream = 1,
}

/// `flags` bits of a [`Op::Shutdown`] packet (virtio 1.2 §5.10.6.5).
pub mod shutdown {
    /// The sender will not receive any more data.
    pub const RCV: u32 = 1;
    /// The sender will not send any more data.
    pub const SEND: u32 = 2;
    /// Both.
    pub const BOTH: u32 = RCV | SEND;
}

/// One endpoint address: a context ID and a port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Addr {
    /// Context ID (the partition's `vsock-cid`).
    pub cid: u64,
    /// Port.
    pub port: u32,
}

/// A packet header exactly as it is on the wire, decoded field by field with no checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Header {
    /// `src_cid`.
    pub src_cid: u64,
    /// `dst_cid`.
    pub dst_cid: u64,
    /// `src_port`.
    pub src_port: u32,
    /// `dst_port`.
    pub dst_port: u32,
    /// `len`: payload bytes after the header.
    pub len: u32,
    /// `type` (raw).
    pub kind: u16,
    /// `op` (raw).
    pub op: u16,
    /// `flags`.
    pub flags: u32,
    /// `buf_alloc`: the sender's receive buffer size for this connection.
    pub buf_alloc: u32,
    /// `fwd_cnt`: payload bytes the sender has consumed on this connection (wraps).
    pub fwd_cnt: u32,
}

/// Little-endian field at `at` of `N` bytes (the header is a fixed array: no bounds to fail).
fn field<const N: usize>(bytes: &[u8; HEADER_LEN], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = bytes.get(at.wrapping_add(i)).copied().unwrap_or(0);
    }
    out
}

impl Header {
    /// Decodes the 44 header bytes.
    pub fn decode(bytes: &[u8; HEADER_LEN]) -> Self {
        Self {
            src_cid: u64::from_le_bytes(field(bytes, 0)),
            dst_cid: u64::from_le_bytes(field(bytes, 8)),
            src_port: u32::from_le_bytes(field(bytes, 16)),
            dst_port: u32::from_le_bytes(field(bytes, 20)),
            len: u32::from_le_bytes(field(bytes, 24)),
            kind: u16::from_le_bytes(field(bytes, 28)),
            op: u16::from_le_bytes(field(bytes, 30)),
            flags: u32::from_le_bytes(field(bytes, 32)),
            buf_alloc: u32::from_le_bytes(field(bytes, 36)),
            fwd_cnt: u32::from_le_bytes(field(bytes, 40)),
        }
    }

    /// Decodes the first [`HEADER_LEN`] bytes of `bytes`, or `None` if there are fewer.
    pub fn decode_prefix(bytes: &[u8]) -> Option<Self> {
        let head: &[u8; HEADER_LEN] = bytes.get(..HEADER_LEN)?.try_into().ok()?;
        Some(Self::decode(head))
    }

    /// Encodes the header to its 44 wire bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        let parts: [(usize, &[u8]); 10] = [
            (0, &self.src_cid.to_le_bytes()),
            (8, &self.dst_cid.to_le_bytes()),
            (16, &self.src_port.to_le_bytes()),
            (20, &self.dst_port.to_le_bytes()),
            (24, &self.len.to_le_bytes()),
            (28, &self.kind.to_le_bytes()),
            (30, &self.op.to_le_bytes()),
            (32, &self.flags.to_le_bytes()),
            (36, &self.buf_alloc.to_le_bytes()),
            (40, &self.fwd_cnt.to_le_bytes()),
        ];
        for (at, bytes) in parts {
            for (i, byte) in bytes.iter().enumerate() {
                if let Some(slot) = out.get_mut(at.wrapping_add(i)) {
                    *slot = *byte;
                }
            }
        }
        out
    }

    /// The source address.
    pub fn src(&self) -> Addr {
        Addr {
            cid: self.src_cid,
            port: self.src_port,
        }
    }

    /// The destination address.
    pub fn dst(&self) -> Addr {
        Addr {
            cid: self.dst_cid,
            port: self.dst_port,
        }
    }

    /// The op, if the specification defines it.
    pub fn op(&self) -> Option<Op> {
        Op::from_raw(self.op)
    }

    /// A header-only packet (`len` 0) of `op` from `src` to `dst` with the given credit.
    pub fn control(op: Op, src: Addr, dst: Addr, buf_alloc: u32, fwd_cnt: u32) -> Self {
        Self {
            src_cid: src.cid,
            dst_cid: dst.cid,
            src_port: src.port,
            dst_port: dst.port,
            len: 0,
            kind: Type::Stream as u16,
            op: op as u16,
            flags: 0,
            buf_alloc,
            fwd_cnt,
        }
    }

    /// The reset the switch sends to `to` in the name of `from` (no credit of its own).
    pub fn reset(from: Addr, to: Addr) -> Self {
        Self::control(Op::Rst, from, to, 0, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_sit_where_the_specification_puts_them() {
        let header = Header {
            src_cid: 0x0102_0304_0506_0708,
            dst_cid: 3,
            src_port: 0x1122_3344,
            dst_port: 1024,
            len: 5,
            kind: 1,
            op: 5,
            flags: 2,
            buf_alloc: 0x40000,
            fwd_cnt: 7,
        };
        let bytes = header.encode();
        assert_eq!(bytes[0], 0x08);
        assert_eq!(bytes[7], 0x01);
        assert_eq!(bytes[8], 3);
        assert_eq!(&bytes[16..20], &[0x44, 0x33, 0x22, 0x11]);
        assert_eq!(&bytes[20..24], &1024u32.to_le_bytes());
        assert_eq!(&bytes[24..28], &5u32.to_le_bytes());
        assert_eq!(&bytes[28..30], &[1, 0]);
        assert_eq!(&bytes[30..32], &[5, 0]);
        assert_eq!(&bytes[32..36], &2u32.to_le_bytes());
        assert_eq!(&bytes[36..40], &0x40000u32.to_le_bytes());
        assert_eq!(&bytes[40..44], &7u32.to_le_bytes());
        assert_eq!(Header::decode(&bytes), header);
    }

    #[test]
    fn a_short_buffer_has_no_header() {
        assert_eq!(Header::decode_prefix(&[0; HEADER_LEN - 1]), None);
        assert!(Header::decode_prefix(&[0; HEADER_LEN + 3]).is_some());
    }

    #[test]
    fn only_the_specified_ops_decode() {
        for raw in 1..=7 {
            assert_eq!(Op::from_raw(raw).map(|op| op as u16), Some(raw));
        }
        assert_eq!(Op::from_raw(0), None);
        assert_eq!(Op::from_raw(8), None);
        assert_eq!(Op::from_raw(u16::MAX), None);
    }
}
