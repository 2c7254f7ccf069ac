//! virtio-vsock between partitions (virtio 1.2 §5.10): the pure part.
//!
//! Each partition with a `vsock-cid` gets a virtio-vsock device the hypervisor serves; a
//! stream from one partition to another is switched here, between the two devices:
//! - [`header`]: the 44-byte packet header codec;
//! - [`credit`]: credit-based flow control books for one direction;
//! - [`connection`]: one connection's state machine (REQUEST, RESPONSE, RW, SHUTDOWN, RST);
//! - [`routes`]: each endpoint's CID and which pairs a configured channel joins;
//! - [`switch`]: the decision for every packet a driver sends (forward, refuse with RST,
//!   reset, drop).
//!
//! Nothing here touches guest memory: the device backend copies a header out of a guest's tx
//! queue, asks the switch, and copies the payload to the peer's rx queue.
#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)
)]

pub mod board;
pub mod connection;
pub mod credit;
pub mod header;
pub mod routes;
pub mod switch;

pub use header::{Addr, Header, Op, HEADER_LEN, MAX_PAYLOAD};
pub use routes::{EndpointId, Routes};
pub use switch::{Delivery, Refusal, Switch, Verdict};
pub mod device;
pub mod devices;
pub mod hub;

pub use device::VsockDevice;
pub use devices::VsockDevices;
pub use hub::{Endpoint, Hub};
