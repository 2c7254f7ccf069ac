//! The Bulkhead EL2 binary. The code lives in the `bulkhead` library; on the host this binary
//! only explains that it must be built for the bare-metal target.
#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]

#[cfg(target_os = "none")]
use bulkhead as _;

#[cfg(target_os = "none")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    // The emergency path: no console lock, the machine's partitions stopped (see fatal.rs).
    bulkhead::fatal::fail(format_args!(
        "hypervisor bug on CPU {}: {}",
        bulkhead::arch::current_cpu(),
        info
    ))
}

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("bulkhead runs at EL2 on aarch64: build it with `cargo xtask build`");
}
