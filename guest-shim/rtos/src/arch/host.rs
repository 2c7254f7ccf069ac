//! Host builds (unit tests): a defmt logger that discards frames and a zero timestamp, so code
//! that logs with defmt links and runs under `cargo test`.

#[defmt::global_logger]
struct HostLogger;

// SAFETY: every method does nothing, so there is no state to protect.
unsafe impl defmt::Logger for HostLogger {
    fn acquire() {}
    unsafe fn flush() {}
    unsafe fn release() {}
    unsafe fn write(_bytes: &[u8]) {}
}

defmt::timestamp!("{=u64:us}", 0);
