//! Test-only ways to make the hypervisor fail on purpose, built only with the `test-hooks`
//! feature (`cargo xtask build` enables it for configurations named `test-hooks-*`). They prove
//! that a failure is contained and reported; a production image has none of them.

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
