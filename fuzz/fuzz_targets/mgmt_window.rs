//! The management window (`bulkhead::devices::mgmt_window`) under random accesses and calls:
//! it never panics; reads change nothing; byte and halfword accesses outside DATA fault; a call
//! exists only after a write of CALL, once; calls made through it (`WindowCaller` over a random
//! `FakeCaller`) are DENIED unless the caller is privileged, and write guest memory only inside
//! the window's DATA area, never the caller's RAM.
#![no_main]

use std::cell::RefCell;

use arbitrary::Arbitrary;
use bulkhead::devices::mgmt_window::{reg, MgmtWindow, DATA_SIZE};
use bulkhead::devices::{perform, AccessWidth, DeviceAccess, DeviceEffects, MmioFault};
use bulkhead::management::PartitionStatus;
use bulkhead::smccc::caller::FakeCaller;
use bulkhead::smccc::window_caller::WindowCaller;
use bulkhead::smccc::{dispatch, Action, Call};
use libfuzzer_sys::fuzz_target;

const WINDOW: u64 = 0x0a4f_0000;
const DENIED: u64 = -5i64 as u64;

#[derive(Arbitrary, Debug)]
struct Input {
    privileged: bool,
    partitions: u8,
    steps: Vec<(u16, u8, Option<u64>)>,
}

fuzz_target!(|input: Input| {
    let mut window = MgmtWindow::new();
    let statuses = (0..input.partitions % 5)
        .map(|i| PartitionStatus {
            id: u32::from(i) + 1,
            ..PartitionStatus::default()
        })
        .collect();
    let inner = FakeCaller {
        id: 1,
        privileged: input.privileged,
        statuses,
        ..FakeCaller::default()
    };
    let ram_before = inner.ram.borrow().clone();
    for &(offset, width, store) in input.steps.iter().take(256) {
        let width = [
            AccessWidth::Byte,
            AccessWidth::Half,
            AccessWidth::Word,
            AccessWidth::Double,
        ][usize::from(width % 4)];
        let offset = (u64::from(offset) % 0x1000) & !(u64::from(width.bytes()) - 1);
        let access = DeviceAccess {
            offset,
            width,
            vcpu: 0,
        };
        let before = window.clone();
        let result = perform(&mut window, access, store, &mut DeviceEffects::new());
        if offset < reg::DATA && matches!(width, AccessWidth::Byte | AccessWidth::Half) {
            assert_eq!(result, Err(MmioFault::Width));
        }
        if store.is_none() || result.is_err() {
            assert_eq!(
                window, before,
                "a read or a faulting access changed the window"
            );
        }
        let called = store.is_some() && result.is_ok() && offset == reg::CALL;
        let Some(call) = window.take_call() else {
            assert!(!called, "a write of CALL made no call");
            continue;
        };
        assert!(called, "a call without a write of CALL");
        let [a1, a2, a3] = call.args;
        let caller_call = Call {
            function: call.function,
            args: [a1, a2, a3, 0, 0, 0],
            aarch32: false,
        };
        let mut caller = WindowCaller {
            inner: &inner,
            data_ipa: WINDOW + reg::DATA,
            data: RefCell::new([0; DATA_SIZE]),
        };
        let action = dispatch(&caller_call, &mut caller);
        let management =
            (0x8600_0300..=0x8600_0304).contains(&call.function) || call.function == 0xc600_0300;
        if management && !input.privileged {
            assert!(
                matches!(action, Action::Return([DENIED, 0, 0, 0])),
                "{action:?}"
            );
        }
        if let Action::Return(results) = action {
            window.complete(results, &caller.data.into_inner());
        }
    }
    assert_eq!(
        *inner.ram.borrow(),
        ram_before,
        "the caller's RAM was written"
    );
});
