//! Test-only ways to make the hypervisor fail on purpose or show what it did (`HIL:SPI-TAKEN`),
//! built only with the `test-hooks` feature (`cargo xtask build` enables it for configurations
//! named `test-hooks-*`). They prove that a failure is contained and reported, or that an
//! interrupt arrived where it should; a production image has none of them.

/// Recurses on this CPU's EL2 stack until it runs into the guard page below it, which must be
/// reported as `HIL:PANIC EL2 stack overflow on CPU n`.
#[cfg(feature = "test-hooks")]
pub fn overflow_stack() -> ! {
    #[inline(never)]
    fn deeper(depth: u64) -> u64 {
        // A frame of about 300 bytes that the optimiser cannot drop or fold.
        let frame = core::hint::black_box([depth; 32]);
        if core::hint::black_box(depth) == u64::MAX {
            return 0;
        }
        deeper(depth.wrapping_add(1)).wrapping_add(frame[(depth % 32) as usize])
    }
    let depth = deeper(0);
    crate::fatal::fail(format_args!("the stack overflow hook returned ({depth})"))
}

/// The most `HIL:SPI-TAKEN` lines printed per CPU and INTID (a busy device must not flood the
/// console).
const SPI_TAKEN_REPORTS: u32 = 4;

/// Per CPU and INTID: the hardware SPIs this CPU took from the physical GIC for its partition.
static SPI_TAKEN: [[core::sync::atomic::AtomicU32; crate::vgic::MAX_INTIDS]; crate::MAX_CPUS] =
    [const { [const { core::sync::atomic::AtomicU32::new(0) }; crate::vgic::MAX_INTIDS] };
        crate::MAX_CPUS];

/// Counts a hardware SPI `intid` that CPU `cpu` took and is injecting into its partition, and
/// prints `HIL:SPI-TAKEN cpu=C intid=N count=K` for the first few: the proof that the physical
/// GIC delivered it on the CPU its ITARGETSR names.
pub fn spi_taken(cpu: usize, intid: u32) {
    let Some(counter) = SPI_TAKEN.get(cpu).and_then(|row| row.get(intid as usize)) else {
        return;
    };
    let count = counter
        .fetch_add(1, core::sync::atomic::Ordering::Relaxed)
        .wrapping_add(1);
    if count <= SPI_TAKEN_REPORTS {
        crate::println!("HIL:SPI-TAKEN cpu={cpu} intid={intid} count={count}");
    }
}
