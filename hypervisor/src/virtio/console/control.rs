//! Multiport control messages (`struct virtio_console_control`: id, event, value; PORT_NAME
//! carries the name after them).

/// The driver is ready (value 1) or failed (0).
pub const DEVICE_READY: u16 = 0;
/// The device adds port `id`.
pub const DEVICE_ADD: u16 = 1;
/// The driver set port `id` up (value 1) or failed (0).
pub const PORT_READY: u16 = 3;
/// The port is a console (hvc); never sent: ours are plain ports.
pub const CONSOLE_PORT: u16 = 4;
/// The other side opened (1) or closed (0) the port.
pub const PORT_OPEN: u16 = 6;
/// The port's name follows.
pub const PORT_NAME: u16 = 7;

/// The header's size in bytes.
pub const HEADER: usize = 8;

/// One control message's header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Control {
    /// The port.
    pub id: u32,
    /// What happened.
    pub event: u16,
    /// Its value.
    pub value: u16,
}

impl Control {
    /// Decodes a header from the first [`HEADER`] bytes (copied out of the guest).
    pub fn decode(bytes: [u8; HEADER]) -> Self {
        let [i0, i1, i2, i3, e0, e1, v0, v1] = bytes;
        Control {
            id: u32::from_le_bytes([i0, i1, i2, i3]),
            event: u16::from_le_bytes([e0, e1]),
            value: u16::from_le_bytes([v0, v1]),
        }
    }

    /// Encodes the header.
    pub fn encode(&self) -> [u8; HEADER] {
        let [i0, i1, i2, i3] = self.id.to_le_bytes();
        let [e0, e1] = self.event.to_le_bytes();
        let [v0, v1] = self.value.to_le_bytes();
        [i0, i1, i2, i3, e0, e1, v0, v1]
    }
}
