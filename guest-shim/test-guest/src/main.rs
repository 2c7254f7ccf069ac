//! Bulkhead's bare-metal test partition.
//!
//! Its behaviour comes from `/chosen/bootargs` in the device tree it boots with:
//! - `checks=1`: call every SMCCC function of the interface and report each result;
//! - `heartbeat=N` (0 = for ever) and `period-ms=P`: print `HIL:HEARTBEAT <seq>` every P ms;
//! - `then=off|reset|fault|spin`: what to do after the heartbeats;
//! - `fault-addr=A`: the address `then=fault` writes to.
//!
//! Every line it prints is a one-line marker the scenario tests look for.
#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]

#[cfg(target_os = "none")]
mod guest;

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("test-guest is a bare-metal partition image: build it with `cargo xtask build`");
}
