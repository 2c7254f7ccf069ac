//! Bulkhead's RTOS partition: a periodic task set with message queues, deadline statistics and
//! defmt logging on `bulkhead-rtos`, in measurement windows; or the timer-interrupt-to-task
//! latency benchmark. The same image boots under Bulkhead and bare on QEMU `virt`:
//!
//! ```text
//! qemu-system-aarch64 -M virt -cpu cortex-a72 -m 2G -nographic \
//!     -kernel target/bulkhead/qemu-virt/artifacts/rtos.bin -append "windows=1"
//! ```
//!
//! What it runs comes from the boot arguments ([`args`]); what it prints is in [`report`] and
//! `docs/rtos.md`.
#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]
#![cfg_attr(not(target_os = "none"), allow(dead_code))]
#![forbid(unsafe_code)]

mod args;
mod report;
mod tasks;

#[cfg(target_os = "none")]
mod app;
#[cfg(target_os = "none")]
mod bench;
#[cfg(target_os = "none")]
mod board;
#[cfg(target_os = "none")]
mod commands;
#[cfg(target_os = "none")]
mod host;
#[cfg(target_os = "none")]
mod load;
#[cfg(target_os = "none")]
mod periodic;
#[cfg(target_os = "none")]
mod sensor_edges;

#[cfg(target_os = "none")]
rtos::entry!(app::main);

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!(
        "rtos-app is a bare-metal image: build it with `cargo xtask build --config rtos-periodic`"
    );
}
