//! The partition management calls of Bulkhead's vendor service (function numbers
//! 0x0300..=0x0305, `docs/guest-abi.md`): list the partitions, start, stop and restart one,
//! and the hypervisor's free memory, for the partition the configuration marks `privileged`
//! (every other one gets DENIED); and BULKHEAD_MGMT_SELF, a partition's own restart count, for
//! every partition.
//!
//! Arguments are allegations: a target id is checked against the configuration (and may not be
//! the caller: a partition stops or resets itself with PSCI), a list buffer is checked as the
//! caller's RAM for every byte written, and no call writes more than [`MAX_TRANSFER`] bytes.

use bulkhead_abi::mgmt::RECORD_SIZE;

use super::caller::Caller;
use super::dispatch::Action;
use super::error::{SmcccError, VendorError};
use super::function_id::vendor;
use super::guest_memory::MAX_TRANSFER;
use crate::vcpu::manage::ManageOp;

/// The most records one BULKHEAD_MGMT_LIST call writes.
pub const RECORDS_PER_CALL: usize = MAX_TRANSFER / RECORD_SIZE;

/// The management functions (32-bit IDs) with only an SMC32 form.
pub const SMC32_ONLY: [u32; 5] = [
    vendor::MGMT_START,
    vendor::MGMT_STOP,
    vendor::MGMT_RESTART,
    vendor::MGMT_FREE_MEMORY,
    vendor::MGMT_SELF,
];

/// The management functions with SMC32 and SMC64 forms (they take an address).
pub const BOTH_FORMS: [u32; 1] = [vendor::MGMT_LIST];

/// Handles management call `function` (its SMC32 form) with arguments `arg(1..)`, already
/// cut to 32 bits for SMC32 calls.
pub fn call(function: u32, arg: &dyn Fn(usize) -> u64, caller: &dyn Caller) -> Action {
    if function == vendor::MGMT_SELF {
        let (restarts, reason) = caller.own_restarts();
        return Action::Return([0, restarts, u64::from(reason), 0]);
    }
    if !caller.privileged() {
        return Action::error(VendorError::Denied.to_register());
    }
    match function {
        vendor::MGMT_LIST => list(arg(0), arg(1), arg(2), caller),
        vendor::MGMT_FREE_MEMORY => {
            let free = caller.free_memory();
            Action::Return([0, free.ram_bytes, free.tables_free, free.tables_total])
        }
        vendor::MGMT_START => manage(ManageOp::Start, arg(0), caller),
        vendor::MGMT_STOP => manage(ManageOp::Stop, arg(0), caller),
        vendor::MGMT_RESTART => manage(ManageOp::Restart, arg(0), caller),
        _ => Action::not_supported(),
    }
}

fn invalid_parameter() -> Action {
    Action::error(SmcccError::InvalidParameter.to_register())
}

/// START, STOP or RESTART of the partition with id `id`: another partition that exists.
fn manage(op: ManageOp, id: u64, caller: &dyn Caller) -> Action {
    let Some(target) = usize::try_from(id).ok().and_then(|id| id.checked_sub(1)) else {
        return invalid_parameter();
    };
    if target >= caller.partition_count() || target.checked_add(1) == Some(caller.partition_id()) {
        return invalid_parameter();
    }
    Action::Manage { op, target }
}

/// BULKHEAD_MGMT_LIST: writes the records of partitions `first`, `first + 1`, ... (0-based
/// configuration order) at `ipa`, as many whole records as `size` bytes hold, at most
/// [`RECORDS_PER_CALL`]. Returns the partition count in X1, the records written in X2 and the
/// record size in X3. A `first` at or past the count writes nothing.
fn list(ipa: u64, size: u64, first: u64, caller: &dyn Caller) -> Action {
    let count = caller.partition_count();
    let first = usize::try_from(first).unwrap_or(usize::MAX);
    let fit =
        usize::try_from(size.checked_div(RECORD_SIZE as u64).unwrap_or(0)).unwrap_or(usize::MAX);
    let records = fit.min(RECORDS_PER_CALL).min(count.saturating_sub(first));
    let bytes = records.saturating_mul(RECORD_SIZE) as u64;
    if bytes > 0 && caller.check_guest(ipa, bytes).is_err() {
        return invalid_parameter();
    }
    let mut written = 0u64;
    for index in (0..records).filter_map(|i| first.checked_add(i)) {
        let Some(status) = caller.partition_status(index) else {
            break;
        };
        let at = ipa.saturating_add(written.saturating_mul(RECORD_SIZE as u64));
        if caller.write_guest(at, &status.to_record()).is_err() {
            return invalid_parameter();
        }
        written = written.saturating_add(1);
    }
    Action::Return([0, count as u64, written, RECORD_SIZE as u64])
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::management::{FreeMemory, PartitionStatus};
    use crate::smccc::caller::FakeCaller;
    use crate::smccc::{dispatch, Call};
    use bulkhead_abi::mgmt;

    const DENIED: u64 = -5i64 as u64;
    const INVALID_PARAMETER: u64 = -3i64 as u64;
    const RAM: u64 = 0x4000_0000;

    fn status(id: u32, name: &str) -> PartitionStatus {
        PartitionStatus {
            name: heapless::String::try_from(name).unwrap(),
            id,
            restarts: u64::from(id) * 10,
            ..PartitionStatus::default()
        }
    }

    fn manager() -> FakeCaller {
        FakeCaller {
            id: 1,
            privileged: true,
            statuses: vec![status(1, "linux"), status(2, "rtos"), status(3, "bare")],
            free: FreeMemory {
                ram_bytes: 1 << 30,
                tables_free: 40,
                tables_total: 64,
            },
            ..FakeCaller::default()
        }
    }

    fn hvc(function: u32, args: [u64; 6], caller: &mut FakeCaller) -> Action {
        dispatch(
            &Call {
                function,
                args,
                aarch32: false,
            },
            caller,
        )
    }

    #[test]
    fn every_privileged_call_is_denied_to_an_unprivileged_partition() {
        let mut caller = FakeCaller {
            privileged: false,
            ..manager()
        };
        for function in [
            vendor::MGMT_LIST,
            bulkhead_abi::smc64(vendor::MGMT_LIST),
            vendor::MGMT_START,
            vendor::MGMT_STOP,
            vendor::MGMT_RESTART,
            vendor::MGMT_FREE_MEMORY,
        ] {
            assert_eq!(
                hvc(function, [2, 0x1000, 0, 0, 0, 0], &mut caller),
                Action::error(DENIED),
                "{function:#x}"
            );
        }
        assert!(
            caller.ram.borrow().iter().all(|&b| b == 0),
            "nothing written"
        );
    }

    #[test]
    fn the_calls_are_discoverable_for_every_partition() {
        let mut caller = FakeCaller::default();
        for function in SMC32_ONLY.into_iter().chain(BOTH_FORMS) {
            assert_eq!(
                hvc(
                    vendor::FEATURES,
                    [u64::from(function), 0, 0, 0, 0, 0],
                    &mut caller
                ),
                Action::ok(0),
                "{function:#x}"
            );
        }
        assert_eq!(
            hvc(
                vendor::FEATURES,
                [
                    u64::from(bulkhead_abi::smc64(vendor::MGMT_LIST)),
                    0,
                    0,
                    0,
                    0,
                    0
                ],
                &mut caller
            ),
            Action::ok(0)
        );
        assert_eq!(
            hvc(
                vendor::FEATURES,
                [
                    u64::from(bulkhead_abi::smc64(vendor::MGMT_STOP)),
                    0,
                    0,
                    0,
                    0,
                    0
                ],
                &mut caller
            ),
            Action::ok(u64::MAX),
            "SMC32 only"
        );
    }

    #[test]
    fn self_status_is_for_everyone() {
        let mut caller = FakeCaller {
            restarts: (42, mgmt::REASON_FAULT),
            ..FakeCaller::default()
        };
        assert_eq!(
            hvc(vendor::MGMT_SELF, [0; 6], &mut caller),
            Action::Return([0, 42, 3, 0])
        );
    }

    #[test]
    fn start_stop_restart_name_another_existing_partition() {
        let mut caller = manager();
        assert_eq!(
            hvc(vendor::MGMT_STOP, [2, 0, 0, 0, 0, 0], &mut caller),
            Action::Manage {
                op: ManageOp::Stop,
                target: 1
            }
        );
        assert_eq!(
            hvc(vendor::MGMT_RESTART, [3, 0, 0, 0, 0, 0], &mut caller),
            Action::Manage {
                op: ManageOp::Restart,
                target: 2
            }
        );
        assert_eq!(
            hvc(
                vendor::MGMT_START,
                [2 | 1 << 32, 0, 0, 0, 0, 0],
                &mut caller
            ),
            Action::Manage {
                op: ManageOp::Start,
                target: 1
            },
            "SMC32: W1"
        );
        for id in [0, 1, 4, u64::from(u32::MAX)] {
            assert_eq!(
                hvc(vendor::MGMT_STOP, [id, 0, 0, 0, 0, 0], &mut caller),
                Action::error(INVALID_PARAMETER),
                "id {id}: none, the caller itself, past the end"
            );
        }
    }

    #[test]
    fn list_writes_whole_records_into_checked_ram() {
        let mut caller = manager();
        let ask = |ipa: u64, size: u64, first: u64, caller: &mut FakeCaller| {
            hvc(
                bulkhead_abi::smc64(vendor::MGMT_LIST),
                [ipa, size, first, 0, 0, 0],
                caller,
            )
        };
        assert_eq!(
            ask(RAM + 0x100, 0x1000, 0, &mut caller),
            Action::Return([0, 3, 2, 128]),
            "two records per call"
        );
        let ram = caller.ram.borrow().clone();
        assert_eq!(&ram[0x100..0x106], b"linux\0");
        assert_eq!(&ram[0x180..0x185], b"rtos\0");
        assert_eq!(ram[0x180 + mgmt::RESTARTS], 20);
        assert_eq!(ram[0x200], 0, "no third record");
        assert_eq!(
            ask(RAM, 0x1000, 2, &mut caller),
            Action::Return([0, 3, 1, 128])
        );
        assert_eq!(&caller.ram.borrow()[..5], b"bare\0");
        assert_eq!(
            ask(RAM, 127, 0, &mut caller),
            Action::Return([0, 3, 0, 128]),
            "no whole record fits: only the count"
        );
        assert_eq!(ask(0, 0, 0, &mut caller), Action::Return([0, 3, 0, 128]));
        assert_eq!(
            ask(RAM, 128, u64::MAX, &mut caller),
            Action::Return([0, 3, 0, 128])
        );
    }

    #[test]
    fn list_refuses_buffers_that_are_not_the_callers_ram() {
        let mut caller = manager();
        for (ipa, size) in [
            (0x0900_0000, 256),        // the virtual console
            (RAM + 0x1000 - 128, 256), // straddles the end of RAM
            (RAM - 128, 256),          // starts before RAM
            (u64::MAX - 64, 256),      // wraps
        ] {
            assert_eq!(
                hvc(
                    bulkhead_abi::smc64(vendor::MGMT_LIST),
                    [ipa, size, 0, 0, 0, 0],
                    &mut caller
                ),
                Action::error(INVALID_PARAMETER),
                "{ipa:#x}+{size}"
            );
        }
        assert!(
            caller.ram.borrow().iter().all(|&b| b == 0),
            "nothing written"
        );
    }

    #[test]
    fn free_memory_reports_ram_and_tables() {
        let mut caller = manager();
        assert_eq!(
            hvc(vendor::MGMT_FREE_MEMORY, [0; 6], &mut caller),
            Action::Return([0, 1 << 30, 40, 64])
        );
    }
}
