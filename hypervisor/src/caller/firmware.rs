//! Which guest calls may reach the platform firmware (`smc-allow` in the configuration). The
//! dispatcher decides [`crate::smccc::Action::ForwardToFirmware`] from this; the vCPU layer
//! (`cpu.rs`) makes the SMC.
//!
//! The lists are recorded once at boot, per partition, and only read afterwards.

/// The most function IDs one partition may allow-list: what the configuration accepts, so a
/// validated list is never cut short.
pub const MAX_ALLOWED: usize = bulkhead_config::MAX_SMC_ALLOW;

type AllowList = heapless::Vec<u32, MAX_ALLOWED>;

/// Allow-lists by partition id - 1.
static ALLOWED: [spin::Once<AllowList>; bulkhead_config::MAX_PARTITIONS] =
    [const { spin::Once::new() }; bulkhead_config::MAX_PARTITIONS];

/// Records at boot that partition `id` may call the firmware functions `functions` (exact
/// W0 values, already validated by the configuration crate). The first call for an id wins.
pub fn allow_firmware_calls(id: usize, functions: &[u32]) {
    if let Some(slot) = id.checked_sub(1).and_then(|i| ALLOWED.get(i)) {
        slot.call_once(|| functions.iter().copied().take(MAX_ALLOWED).collect());
    }
}

/// Whether partition `id` may call firmware function `function`.
pub fn allowed(id: usize, function: u32) -> bool {
    id.checked_sub(1)
        .and_then(|i| ALLOWED.get(i))
        .and_then(spin::Once::get)
        .is_some_and(|list| list.contains(&function))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_per_partition_and_exact() {
        allow_firmware_calls(7, &[0x8200_ff01, 0xc300_0001]);
        assert!(allowed(7, 0x8200_ff01));
        assert!(allowed(7, 0xc300_0001));
        assert!(!allowed(7, 0x8300_0001), "the SMC32 form is another ID");
        assert!(!allowed(6, 0x8200_ff01));
        assert!(!allowed(0, 0x8200_ff01));
        assert!(!allowed(99, 0x8200_ff01));
    }

    #[test]
    fn the_boot_time_list_cannot_be_replaced() {
        allow_firmware_calls(8, &[0x8200_0001]);
        allow_firmware_calls(8, &[0x8200_0002]);
        assert!(allowed(8, 0x8200_0001));
        assert!(!allowed(8, 0x8200_0002));
    }
}
