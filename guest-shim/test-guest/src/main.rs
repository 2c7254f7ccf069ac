//! Bulkhead's bare-metal test partition.
//!
//! Its behaviour comes from `/chosen/bootargs` in the device tree it boots with:
//! - `checks=1`: the basic SMCCC discovery checks (every partition of the demo runs them);
//! - `abi=1`: call every function of Bulkhead's guest ABI, error paths included, and report
//!   each result (`ram-end=A`: the end of its RAM; `expect-name=N`: its partition name;
//!   `smc-allowed=1`: the configuration allow-lists the firmware call it probes);
//! - `trng=1`: report what the Arm TRNG service offers (`HIL:TRNG ...` lines);
//! - `console-rx=1` (`gic=GICD,GICR`): input through the virtual PL011's receive interrupt, fed
//!   by the test-hooks call BULKHEAD_TEST_CONSOLE_INPUT (see `console_rx.rs`);
//! - `cpu-cycles=N`: check non-zero `hvc`/`smc` immediates, then switch vCPU 1 on and off N
//!   times and report the EL2 stack high-water mark after the first and the last cycle (see
//!   `cpu_cycles.rs`);
//! - `doorbell=ping|pong|bystander` (`rounds=N`, `gic=GICD,GICR`): the doorbell scenario's
//!   roles (see `doorbell.rs`);
//! - `ipc=producer|consumer` (`shm=IPA,SIZE`, `window=IPA`, `bytes=N`, `record=R`,
//!   `gic=GICD,GICR`): the shared-memory scenario's roles (see `ipc.rs`);
//! - `flood=S` and `prompt=1`: the console scenarios' roles (see `console_modes.rs`);
//! - `mgmt=denied|watch|drive` (`target=NAME`, `until=N`, `watch-ms=P`): the partition
//!   management calls (see `mgmt.rs`);
//! - `attacker=1`: every attack of scenario `attacker_suite`, one `HIL:ATTACK` line each (see
//!   `attacker/mod.rs`; the partition must have `on-fault = "inject"`);
//! - `guard=N` (`gic=GICD,GICR`, `period-ms=P`): the bystander of `attacker_suite`, which checks
//!   N times that its own vGIC state and the hypervisor's answers are unchanged (`guard.rs`);
//! - `heartbeat=N` (0 = for ever) and `period-ms=P`: print `HIL:HEARTBEAT <seq>` every P ms
//!   (`stamp=1`: `HIL:HEARTBEAT <seq> t-us=<counter in microseconds when the line began>`;
//!   `sleep=1`: waiting in WFI on the virtual timer between beats, `gic=GICD,GICR` as for `guard`);
//! - `then=off|reset|reset2|fault|undef|spin|last-cpu-off|overflow-el2-stack`: what to do after the
//!   heartbeats (`undef`: an undefined instruction with no vectors; `reset2`: PSCI SYSTEM_RESET2, warm; `last-cpu-off`: both vCPUs CPU_OFF, vCPU 0
//!   first; `overflow-el2-stack`: the test-hooks hypervisor call that overflows an EL2 stack);
//! - `fault-addr=A`: the address `then=fault` writes to.
//!
//! Every line it prints is a one-line marker the scenario tests look for.
#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]

#[cfg(target_os = "none")]
mod abi;
#[cfg(target_os = "none")]
mod attack;
#[cfg(target_os = "none")]
mod attacker;
#[cfg(target_os = "none")]
mod console_modes;
#[cfg(target_os = "none")]
mod console_rx;
#[cfg(target_os = "none")]
mod cpu_cycles;
#[cfg(target_os = "none")]
mod doorbell;
#[cfg(target_os = "none")]
mod guard;
#[cfg(target_os = "none")]
mod guest;
#[cfg(target_os = "none")]
mod ipc;
#[cfg(target_os = "none")]
mod mgmt;
#[cfg(target_os = "none")]
mod serial_link;
#[cfg(target_os = "none")]
mod sleep;
#[cfg(target_os = "none")]
mod trng_report;
#[cfg(target_os = "none")]
mod virtio_attack;

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("test-guest is a bare-metal partition image: build it with `cargo xtask build`");
}
