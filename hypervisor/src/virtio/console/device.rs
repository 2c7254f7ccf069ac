//! One partition's virtio-console device: one port, its name, the control protocol, and the
//! transmit chain it holds while the peer has no room.

use super::control::{self, Control};
use super::{CONTROL_RX, CONTROL_TX, F_MULTIPORT};
use crate::virtio::backend::{Backend, QueueAccess};
use crate::virtio::device_id;
use crate::virtio::queue::{Chain, QueueError};

/// Control messages waiting for a control receive buffer.
const MAX_PENDING: usize = 4;

/// A transmit chain taken from the driver and not yet wholly delivered to the peer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Held {
    /// The chain.
    pub chain: Chain,
    /// How many of its readable bytes the peer has received.
    pub sent: u64,
}

/// A virtio-console device with one named port.
#[derive(Debug)]
pub struct ConsoleDevice {
    /// The port's name.
    pub name: heapless::String<32>,
    /// `cols`, `rows`, `max_nr_ports` (1), `emerg_wr`.
    config: [u8; 12],
    /// Whether the driver accepted MULTIPORT.
    multiport: bool,
    /// Control messages to send.
    pending: heapless::Deque<Control, MAX_PENDING>,
    /// Whether the driver opened the port (always true without MULTIPORT).
    pub guest_open: bool,
    /// The transmit chain being delivered.
    pub held: Option<Held>,
}

impl ConsoleDevice {
    /// A device whose port is called `name` (truncated to 31 bytes).
    pub fn new(name: &str) -> Self {
        let mut port: heapless::String<32> = heapless::String::new();
        for c in name.chars().take(31) {
            let _ = port.push(c);
        }
        let mut config = [0u8; 12];
        if let Some(ports) = config.get_mut(4..8) {
            ports.copy_from_slice(&1u32.to_le_bytes());
        }
        ConsoleDevice {
            name: port,
            config,
            multiport: false,
            pending: heapless::Deque::new(),
            guest_open: false,
            held: None,
        }
    }

    fn queue_control(&mut self, id: u32, event: u16, value: u16) {
        let _ = self.pending.push_back(Control { id, event, value });
    }

    /// Handles one control message from the driver.
    fn on_control(&mut self, message: Control) {
        match message.event {
            control::DEVICE_READY if message.value == 1 => {
                self.queue_control(0, control::DEVICE_ADD, 0);
            }
            control::PORT_READY if message.id == 0 && message.value == 1 => {
                self.queue_control(0, control::PORT_NAME, 0);
                self.queue_control(0, control::PORT_OPEN, 1);
            }
            control::PORT_OPEN if message.id == 0 => self.guest_open = message.value != 0,
            _ => {}
        }
    }

    /// Sends what control messages fit in the driver's control receive buffers.
    fn flush_control(&mut self, access: &mut QueueAccess<'_>) -> Result<(), QueueError> {
        while let Some(&message) = self.pending.front() {
            let Some(chain) = access.pop(CONTROL_RX)? else {
                return Ok(());
            };
            let mut written = access.write(&chain, 0, &message.encode());
            if message.event == control::PORT_NAME {
                let name = self.name.as_bytes();
                written += access.write(&chain, written as u64, name);
            }
            access.push_used(CONTROL_RX, &chain, written as u32)?;
            self.pending.pop_front();
        }
        Ok(())
    }
}

impl Backend for ConsoleDevice {
    fn device_id(&self) -> u32 {
        device_id::CONSOLE
    }

    fn device_features(&self) -> u64 {
        F_MULTIPORT
    }

    fn queue_count(&self) -> u16 {
        4
    }

    fn config(&self) -> &[u8] {
        &self.config
    }

    fn activate(&mut self, features: u64) {
        self.multiport = features & F_MULTIPORT != 0;
        self.guest_open = !self.multiport;
    }

    fn reset(&mut self) {
        self.multiport = false;
        self.pending.clear();
        self.guest_open = false;
        self.held = None;
    }

    fn on_notify(&mut self, queue: u16, access: &mut QueueAccess<'_>) -> Result<(), QueueError> {
        if !self.multiport {
            // Port 0's queues are served by the link.
            return Ok(());
        }
        if queue == CONTROL_TX {
            while let Some(chain) = access.pop(CONTROL_TX)? {
                let mut header = [0u8; control::HEADER];
                if access.read(&chain, 0, &mut header) == control::HEADER {
                    self.on_control(Control::decode(header));
                }
                access.push_used(CONTROL_TX, &chain, 0)?;
            }
        }
        self.flush_control(access)
    }
}
