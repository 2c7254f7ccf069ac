//! Bulkhead's benchmark partition.
//!
//! It runs the same way under Bulkhead and bare on QEMU `virt` (loaded at the same address with
//! the same device tree), so `cargo xtask bench` can set each figure beside its bare-metal
//! baseline. What it measures comes from `/chosen/bootargs`:
//! - `bench=NAME[,NAME...]`: the timed sequences to run (see [`sequence::Sequence::by_name`]);
//! - `iterations=N`: samples per sequence (default 1000);
//! - `timer-irq=GICD,GICR`: also time the virtual timer interrupt, from its deadline to the
//!   first instruction of the IRQ vector, with the GICv3 at those addresses;
//! - `doorbell=ring` or `doorbell=answer` with `gic=GICD,GICR`: the two sides of the doorbell
//!   round trip between two partitions (bare: two CPUs and SGIs), see [`doorbell`].
//!
//! Every figure is counted with the virtual counter (`mrs cntvct_el0` before and after the
//! operation); under QEMU `-icount shift=0` with a 1 GHz counter one tick is one guest
//! instruction. It prints one line per figure and then powers off with PSCI SYSTEM_OFF:
//! ```text
//! HIL:BENCH boot first-instruction=198012
//! HIL:BENCH timing-empty n=1000 min=2 avg=2.00 max=2
//! HIL:BENCH hvc-psci-version n=1000 min=190 avg=190.00 max=190 value=0x10001
//! HIL:BENCH done
//! ```
#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![deny(unsafe_op_in_unsafe_fn)]

#[cfg(target_os = "none")]
mod doorbell;
#[cfg(target_os = "none")]
mod entry;
#[cfg(target_os = "none")]
mod guest;
#[cfg(any(test, target_os = "none"))]
mod sequence;
#[cfg(any(test, target_os = "none"))]
mod stats;
#[cfg(target_os = "none")]
mod timer_irq;

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("bench-guest is a bare-metal partition image: run it with `cargo xtask bench`");
}
