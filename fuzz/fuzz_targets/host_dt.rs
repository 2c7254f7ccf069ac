//! The host device tree reader (`bulkhead::host_dt`) on random bytes, as the boot loader's x0
//! may point at anything: `HostInfo::parse` never panics, and what it returns is usable (RAM
//! totals, CPU reordering) without panicking.
#![no_main]

use bulkhead::host_dt::HostInfo;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|blob: &[u8]| {
    let Ok(mut info) = HostInfo::parse(blob) else {
        return;
    };
    assert!(
        info.size <= blob.len(),
        "a device tree larger than its blob"
    );
    let _ = info.ram_bytes();
    let cpus = info.cpus.clone();
    if let Some(&last) = cpus.last() {
        info.put_first(last);
        // A `reg` that is an affinity value (no bits in [31:24] or above 39) is found.
        if last & !0xff_00ff_ffff == 0 {
            assert_eq!(info.cpus.first(), Some(&last));
        }
        let mut sorted = info.cpus.clone();
        sorted.sort_unstable();
        let mut before = cpus.clone();
        before.sort_unstable();
        assert_eq!(sorted, before, "put_first only reorders");
    }
});
