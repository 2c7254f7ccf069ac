//! Bulkhead's vendor-specific hypervisor service (owner 6): discovery, partition information,
//! a console and inter-partition doorbells. Every guest buffer is checked against the caller's
//! stage-2 RAM map before it is touched; a bad one is INVALID_PARAMETER and nothing is copied.
//!
//! Function numbers 0x0102..=0x03ff are reserved (the rest of IPC, watchdog, partition
//! management) and, like every other unknown number, NOT_SUPPORTED.

use super::caller::Caller;
use super::dispatch::Action;
use super::doorbell;
use super::error::SmcccError;
use super::function_id::{vendor, FunctionId};
use super::guest_memory::MAX_TRANSFER;
use super::uuid::BULKHEAD_UID;

/// The revision of Bulkhead's vendor service: 1.1 (1.0 plus the doorbell calls).
pub const REVISION: (u64, u64) = (1, 1);
/// The SMC64 bit of a function ID.
const SMC64_BIT: u32 = 1 << 30;
/// The longest partition name (`system::Partition::name` holds 32 bytes).
const MAX_NAME: usize = 64;

/// The vendor functions with only an SMC32 form.
const SMC32_ONLY: [u32; 7] = [
    vendor::FEATURES,
    vendor::PARTITION_INFO,
    vendor::DOORBELL_RING,
    vendor::DOORBELL_INFO,
    vendor::STACK_HIGH_WATER,
    vendor::CALL_UID,
    vendor::REVISION,
];
/// The vendor functions with SMC32 and SMC64 forms (32-bit IDs): those taking an address or
/// packing bytes into registers.
const BOTH_FORMS: [u32; 4] = [
    vendor::PARTITION_NAME,
    vendor::CONSOLE_WRITE,
    vendor::CONSOLE_WRITE_BUFFER,
    vendor::CONSOLE_READ,
];

/// Whether Bulkhead implements vendor function `function` (exact ID).
pub fn implements(function: u32) -> bool {
    if function == vendor::TEST_OVERFLOW_EL2_STACK || function == vendor::TEST_CONSOLE_INPUT {
        return cfg!(feature = "test-hooks");
    }
    if function & SMC64_BIT != 0 {
        BOTH_FORMS.contains(&(function & !SMC64_BIT))
    } else {
        SMC32_ONLY.contains(&function) || BOTH_FORMS.contains(&function)
    }
}

/// Handles a vendor call.
pub fn call(id: FunctionId, args: &[u64; 6], caller: &dyn Caller) -> Action {
    if !implements(id.0) {
        return Action::not_supported();
    }
    let smc64 = id.is_64bit();
    // SMC32 forms take the low 32 bits of each argument.
    let arg = |i: usize| {
        let value = args.get(i).copied().unwrap_or(0);
        if smc64 {
            value
        } else {
            value & 0xffff_ffff
        }
    };
    match id.as_32bit() {
        vendor::FEATURES => {
            if implements(arg(0) as u32) {
                Action::ok(0)
            } else {
                Action::not_supported()
            }
        }
        vendor::PARTITION_INFO => Action::Return([
            0,
            caller.partition_id() as u64,
            caller.vcpu_count() as u64,
            caller.vcpu_index() as u64,
        ]),
        vendor::PARTITION_NAME => partition_name(arg(0), arg(1), caller),
        vendor::CONSOLE_WRITE => console_write_registers(args, smc64, caller),
        vendor::CONSOLE_WRITE_BUFFER => console_write_buffer(arg(0), arg(1), caller),
        vendor::CONSOLE_READ => console_read(arg(0), arg(1), caller),
        vendor::DOORBELL_RING => doorbell::ring(arg(0), caller),
        vendor::DOORBELL_INFO => doorbell::info(arg(0), caller),
        vendor::STACK_HIGH_WATER => match usize::try_from(arg(0)) {
            Ok(vcpu) if vcpu < caller.vcpu_count() => Action::StackHighWater { vcpu },
            _ => invalid_parameter(),
        },
        vendor::TEST_OVERFLOW_EL2_STACK => Action::TestOverflowStack,
        vendor::TEST_CONSOLE_INPUT => match usize::try_from(arg(0)) {
            Ok(len) if len <= 4 => Action::TestConsoleInput {
                bytes: (arg(1) as u32).to_le_bytes(),
                len,
            },
            _ => invalid_parameter(),
        },
        vendor::CALL_UID => Action::Return(BULKHEAD_UID.to_registers()),
        vendor::REVISION => Action::Return([REVISION.0, REVISION.1, 0, 0]),
        _ => Action::not_supported(),
    }
}

fn invalid_parameter() -> Action {
    Action::error(SmcccError::InvalidParameter.to_register())
}

/// How many bytes of a `requested`-byte guest buffer one call handles.
fn transfer_len(requested: u64) -> usize {
    usize::try_from(requested).map_or(MAX_TRANSFER, |n| n.min(MAX_TRANSFER))
}

/// BULKHEAD_PARTITION_NAME: writes up to `size` bytes of the name (no terminator) at `ipa` and
/// returns the name's full length in X1. A size of 0 only asks the length. The buffer is
/// checked for `min(size, MAX_TRANSFER)` bytes.
fn partition_name(ipa: u64, size: u64, caller: &dyn Caller) -> Action {
    let mut name = [0u8; MAX_NAME];
    let source = caller.partition_name().as_bytes();
    let len = source.len().min(MAX_NAME);
    let (Some(dst), Some(src)) = (name.get_mut(..len), source.get(..len)) else {
        return invalid_parameter();
    };
    dst.copy_from_slice(src);
    // The whole buffer the guest names (up to one transfer) must be its RAM, not just the
    // bytes the name needs.
    let claimed = transfer_len(size);
    if claimed > 0 && caller.check_guest(ipa, claimed as u64).is_err() {
        return invalid_parameter();
    }
    let count = claimed.min(len);
    if count > 0 {
        let Some(bytes) = name.get(..count) else {
            return invalid_parameter();
        };
        if caller.write_guest(ipa, bytes).is_err() {
            return invalid_parameter();
        }
    }
    Action::Return([0, len as u64, 0, 0])
}

/// BULKHEAD_CONSOLE_WRITE: X1 = count, the bytes in X2..X6 (W2..W6 for SMC32), little-endian
/// (the first byte in bits [7:0] of X2).
fn console_write_registers(args: &[u64; 6], smc64: bool, caller: &dyn Caller) -> Action {
    let per_register = if smc64 { 8 } else { 4 };
    let mut bytes = [0u8; 40];
    let mut len = 0usize;
    for (chunk, value) in bytes
        .chunks_exact_mut(per_register)
        .zip(args.iter().skip(1))
    {
        let le = value.to_le_bytes();
        if let Some(source) = le.get(..per_register) {
            chunk.copy_from_slice(source);
            len = len.saturating_add(per_register);
        }
    }
    let count = args.first().copied().unwrap_or(0);
    let count = if smc64 { count } else { count & 0xffff_ffff };
    match usize::try_from(count)
        .ok()
        .filter(|&n| n <= len)
        .and_then(|n| bytes.get(..n))
    {
        Some(text) => {
            caller.console_write(text);
            Action::Return([0, text.len() as u64, 0, 0])
        }
        None => invalid_parameter(),
    }
}

/// BULKHEAD_CONSOLE_WRITE_BUFFER: writes up to [`MAX_TRANSFER`] bytes from `[ipa, ipa + len)`
/// and returns how many in X1.
fn console_write_buffer(ipa: u64, len: u64, caller: &dyn Caller) -> Action {
    let mut buffer = [0u8; MAX_TRANSFER];
    let Some(chunk) = buffer.get_mut(..transfer_len(len)) else {
        return invalid_parameter();
    };
    if chunk.is_empty() {
        return Action::Return([0, 0, 0, 0]);
    }
    if caller.read_guest(ipa, chunk).is_err() {
        return invalid_parameter();
    }
    caller.console_write(chunk);
    Action::Return([0, chunk.len() as u64, 0, 0])
}

/// BULKHEAD_CONSOLE_READ: the console has no input yet, so it returns 0 bytes in X1, after
/// checking that the buffer is the caller's RAM (so guests find bad buffers today).
fn console_read(ipa: u64, len: u64, caller: &dyn Caller) -> Action {
    let len = transfer_len(len) as u64;
    if len > 0 && caller.check_guest(ipa, len).is_err() {
        return invalid_parameter();
    }
    Action::Return([0, 0, 0, 0])
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::smccc::caller::FakeCaller;

    const NOT_SUPPORTED: u64 = u64::MAX;
    const INVALID_PARAMETER: u64 = -3i64 as u64;
    const RAM: u64 = 0x4000_0000;

    fn vendor_call(function: u32, args: [u64; 6], caller: &FakeCaller) -> Action {
        call(FunctionId(function), &args, caller)
    }

    #[test]
    fn uid_and_revision() {
        let caller = FakeCaller::default();
        assert_eq!(
            vendor_call(vendor::CALL_UID, [0; 6], &caller),
            Action::Return([0xa716_bd8d, 0x7848_f885, 0xb658_81a6, 0xa92f_61ff])
        );
        assert_eq!(
            vendor_call(vendor::REVISION, [0; 6], &caller),
            Action::Return([1, 1, 0, 0])
        );
    }

    #[test]
    fn stack_high_water_names_only_the_callers_own_vcpus() {
        let caller = FakeCaller {
            vcpus: 2,
            ..FakeCaller::default()
        };
        let ask = |vcpu: u64| vendor_call(vendor::STACK_HIGH_WATER, [vcpu, 0, 0, 0, 0, 0], &caller);
        assert_eq!(ask(1), Action::StackHighWater { vcpu: 1 });
        assert_eq!(ask(2), Action::error(INVALID_PARAMETER));
        assert_eq!(ask(u64::MAX), Action::error(INVALID_PARAMETER));
        // The SMC32 form takes W1: the upper half of X1 is ignored.
        assert_eq!(ask(1 << 32), Action::StackHighWater { vcpu: 0 });
    }

    #[test]
    fn the_stack_overflow_hook_exists_only_in_test_hook_builds() {
        let caller = FakeCaller::default();
        let action = vendor_call(vendor::TEST_OVERFLOW_EL2_STACK, [0; 6], &caller);
        if cfg!(feature = "test-hooks") {
            assert_eq!(action, Action::TestOverflowStack);
        } else {
            assert_eq!(action, Action::not_supported());
        }
    }

    #[test]
    fn the_console_input_hook_exists_only_in_test_hook_builds() {
        let caller = FakeCaller::default();
        let action = vendor_call(
            vendor::TEST_CONSOLE_INPUT,
            [3, 0x0a6968, 0, 0, 0, 0],
            &caller,
        );
        let too_long = vendor_call(vendor::TEST_CONSOLE_INPUT, [5, 0, 0, 0, 0, 0], &caller);
        if cfg!(feature = "test-hooks") {
            assert_eq!(
                action,
                Action::TestConsoleInput {
                    bytes: *b"hi\n\0",
                    len: 3
                }
            );
            assert_eq!(too_long, Action::Return([INVALID_PARAMETER, 0, 0, 0]));
        } else {
            assert_eq!(action, Action::not_supported());
            assert_eq!(too_long, Action::not_supported());
        }
    }

    #[test]
    fn features_is_exact() {
        let caller = FakeCaller::default();
        let features =
            |id: u32| vendor_call(vendor::FEATURES, [u64::from(id), 0, 0, 0, 0, 0], &caller);
        assert_eq!(features(vendor::PARTITION_INFO), Action::ok(0));
        assert_eq!(features(vendor::CONSOLE_READ | SMC64_BIT), Action::ok(0));
        assert_eq!(
            features(vendor::CALL_UID | SMC64_BIT),
            Action::ok(NOT_SUPPORTED)
        );
        assert_eq!(features(vendor::DOORBELL_RING), Action::ok(0));
        assert_eq!(features(vendor::DOORBELL_INFO), Action::ok(0));
        assert_eq!(
            features(vendor::DOORBELL_RING | SMC64_BIT),
            Action::ok(NOT_SUPPORTED),
            "SMC32 only"
        );
        assert_eq!(
            features(0x8600_0102),
            Action::ok(NOT_SUPPORTED),
            "reserved IPC"
        );
    }

    #[test]
    fn partition_info_is_the_callers() {
        let caller = FakeCaller {
            id: 3,
            vcpus: 2,
            vcpu: 1,
            ..FakeCaller::default()
        };
        assert_eq!(
            vendor_call(vendor::PARTITION_INFO, [0; 6], &caller),
            Action::Return([0, 3, 2, 1])
        );
        assert_eq!(
            vendor_call(vendor::PARTITION_INFO | SMC64_BIT, [0; 6], &caller),
            Action::ok(NOT_SUPPORTED)
        );
    }

    #[test]
    fn partition_name_is_written_to_the_guest_buffer() {
        let caller = FakeCaller {
            name: "alpha",
            ..FakeCaller::default()
        };
        assert_eq!(
            vendor_call(
                vendor::PARTITION_NAME,
                [RAM + 0x10, 64, 0, 0, 0, 0],
                &caller
            ),
            Action::Return([0, 5, 0, 0])
        );
        assert_eq!(&caller.ram.borrow()[0x10..0x16], b"alpha\0");
        assert_eq!(
            vendor_call(vendor::PARTITION_NAME, [RAM + 0x20, 3, 0, 0, 0, 0], &caller),
            Action::Return([0, 5, 0, 0]),
            "a short buffer gets a prefix and the full length"
        );
        assert_eq!(&caller.ram.borrow()[0x20..0x24], b"alp\0");
        assert_eq!(
            vendor_call(vendor::PARTITION_NAME, [0, 0, 0, 0, 0, 0], &caller),
            Action::Return([0, 5, 0, 0]),
            "size 0 asks the length and touches nothing"
        );
    }

    #[test]
    fn bad_buffers_are_invalid_parameters_and_untouched() {
        let caller = FakeCaller::default();
        let end = RAM + 0x1000;
        for (ipa, len) in [
            (0x0900_0000, 8),   // the virtual console (MMIO)
            (0x1_0000_0000, 8), // nothing mapped
            (end - 4, 8),       // straddles the end of RAM
            (u64::MAX - 2, 8),  // wraps
            (RAM - 1, 2),       // starts before RAM
        ] {
            for function in [
                vendor::PARTITION_NAME | SMC64_BIT,
                vendor::CONSOLE_WRITE_BUFFER | SMC64_BIT,
                vendor::CONSOLE_READ | SMC64_BIT,
            ] {
                assert_eq!(
                    vendor_call(function, [ipa, len, 0, 0, 0, 0], &caller),
                    Action::ok(INVALID_PARAMETER),
                    "{function:#x} {ipa:#x}+{len}"
                );
            }
        }
        assert!(caller.console.borrow().is_empty());
    }

    #[test]
    fn smc32_forms_use_only_the_low_half_of_addresses() {
        let caller = FakeCaller::default();
        caller.ram.borrow_mut()[..3].copy_from_slice(b"abc");
        assert_eq!(
            vendor_call(
                vendor::CONSOLE_WRITE_BUFFER,
                [0xffff_ffff_0000_0000 | RAM, 3, 0, 0, 0, 0],
                &caller
            ),
            Action::Return([0, 3, 0, 0])
        );
        assert_eq!(caller.console.borrow().as_slice(), b"abc");
    }

    #[test]
    fn console_write_buffer_copies_at_most_one_transfer() {
        let caller = FakeCaller::default();
        caller.ram.borrow_mut()[..4].copy_from_slice(b"hi!\n");
        assert_eq!(
            vendor_call(vendor::CONSOLE_WRITE_BUFFER, [RAM, 4, 0, 0, 0, 0], &caller),
            Action::Return([0, 4, 0, 0])
        );
        assert_eq!(caller.console.borrow().as_slice(), b"hi!\n");
        assert_eq!(
            vendor_call(
                vendor::CONSOLE_WRITE_BUFFER | SMC64_BIT,
                [RAM, 0x800, 0, 0, 0, 0],
                &caller
            ),
            Action::Return([0, MAX_TRANSFER as u64, 0, 0])
        );
        assert_eq!(
            vendor_call(vendor::CONSOLE_WRITE_BUFFER, [0, 0, 0, 0, 0, 0], &caller),
            Action::Return([0, 0, 0, 0]),
            "nothing to write, nothing checked"
        );
    }

    #[test]
    fn console_write_registers_packs_bytes_little_endian() {
        let caller = FakeCaller::default();
        let x2 = u64::from_le_bytes(*b"Bulkhead");
        let x3 = u64::from_le_bytes(*b"!\n\0\0\0\0\0\0");
        assert_eq!(
            vendor_call(
                vendor::CONSOLE_WRITE | SMC64_BIT,
                [10, x2, x3, 0, 0, 0],
                &caller
            ),
            Action::Return([0, 10, 0, 0])
        );
        assert_eq!(caller.console.borrow().as_slice(), b"Bulkhead!\n");
        caller.console.borrow_mut().clear();
        assert_eq!(
            vendor_call(
                vendor::CONSOLE_WRITE,
                [6, x2, u64::from_le_bytes(*b"ead!\0\0\0\0"), 0, 0, 0],
                &caller
            ),
            Action::Return([0, 6, 0, 0]),
            "SMC32 takes 4 bytes from each register"
        );
        assert_eq!(caller.console.borrow().as_slice(), b"Bulkea");
        assert_eq!(
            vendor_call(
                vendor::CONSOLE_WRITE | SMC64_BIT,
                [41, 0, 0, 0, 0, 0],
                &caller
            ),
            Action::ok(INVALID_PARAMETER)
        );
        assert_eq!(
            vendor_call(vendor::CONSOLE_WRITE, [21, 0, 0, 0, 0, 0], &caller),
            Action::ok(INVALID_PARAMETER)
        );
    }

    #[test]
    fn doorbell_calls_take_the_low_half_of_the_index() {
        let caller = FakeCaller {
            doorbells: vec![crate::doorbell::Doorbell {
                peer: Some(1),
                peer_intid: 49,
                intid: 48,
            }],
            ..FakeCaller::default()
        };
        assert_eq!(
            vendor_call(vendor::DOORBELL_RING, [1 << 32, 0, 0, 0, 0, 0], &caller),
            Action::RingDoorbell { peer: 1, intid: 49 }
        );
        assert_eq!(
            vendor_call(
                vendor::DOORBELL_INFO,
                [0xffff_ffff_0000_0000, 0, 0, 0, 0, 0],
                &caller
            ),
            Action::Return([0, 2, 48, 1])
        );
        assert_eq!(
            vendor_call(vendor::DOORBELL_RING, [1, 0, 0, 0, 0, 0], &caller),
            Action::ok(INVALID_PARAMETER)
        );
    }

    #[test]
    fn console_read_has_nothing_yet() {
        let caller = FakeCaller::default();
        assert_eq!(
            vendor_call(vendor::CONSOLE_READ, [RAM, 16, 0, 0, 0, 0], &caller),
            Action::Return([0, 0, 0, 0])
        );
    }

    #[test]
    fn reserved_and_unknown_numbers_are_not_supported() {
        let caller = FakeCaller::default();
        for id in [
            0x8600_0102,
            0x8600_01ff,
            0xc600_0100,
            0xc600_0101,
            0x8600_0200,
            0x8600_0300,
            0x8600_03ff,
            0x8600_ff00,
            0x8600_ff02,
            0xc600_ff01,
            0x8600_0003,
        ] {
            assert_eq!(
                vendor_call(id, [0; 6], &caller),
                Action::ok(NOT_SUPPORTED),
                "{id:#x}"
            );
        }
    }
}
