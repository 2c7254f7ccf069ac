//! `smccc::dispatch` on random calls from a random partition (`FakeCaller`): it never panics,
//! every error is one of the SMCCC, PSCI, TRNG or vendor codes with X1..X3 zero, console output
//! stays within one transfer, doorbells ring only the caller's own peers, and only calls the
//! partition's `smc-allow` lists reach the firmware, unchanged.
#![no_main]

use std::cell::RefCell;

use arbitrary::Arbitrary;
use bulkhead::doorbell::Doorbell;
use bulkhead::entropy::EntropySource;
use bulkhead::smccc::caller::FakeCaller;
use bulkhead::smccc::{dispatch, Action, Call, SocId, MAX_TRANSFER};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    vcpus: u8,
    vcpu: u8,
    ram_ipa: u64,
    ram_pages: u8,
    entropy: u8,
    random_fails: bool,
    midr: Option<u64>,
    allowed: Vec<u32>,
    doorbells: Vec<(Option<u8>, u32, u32)>,
    calls: Vec<RawCall>,
}

#[derive(Arbitrary, Debug)]
struct RawCall {
    /// Build a well-formed fast call from `owner` and `number` rather than take `function`.
    shaped: bool,
    function: u32,
    owner: u8,
    number: u16,
    sixty_four: bool,
    /// Point X1 into the partition's RAM, at this offset.
    into_ram: Option<u16>,
    args: [u64; 6],
    aarch32: bool,
}

/// Every negative X0 the dispatcher may return (SMCCC, PSCI, TRNG and vendor codes).
fn is_error_code(x0: u64) -> bool {
    (-9..=-1).contains(&(x0 as i64))
}

fuzz_target!(|input: Input| {
    let ram_len = (usize::from(input.ram_pages) % 4 + 1) * 0x1000;
    let mut caller = FakeCaller {
        id: 1,
        name: "fuzz",
        vcpus: usize::from(input.vcpus % 8) + 1,
        vcpu: usize::from(input.vcpu % 8),
        ram_ipa: input.ram_ipa & !0xfff,
        ram: RefCell::new(vec![0; ram_len]),
        console: RefCell::new(Vec::new()),
        entropy: match input.entropy % 3 {
            0 => None,
            1 => Some(EntropySource::Drbg),
            _ => Some(EntropySource::Rndr),
        },
        next_random: RefCell::new(1),
        random_fails: input.random_fails,
        soc: input.midr.and_then(SocId::from_midr),
        allowed: input.allowed.iter().copied().take(8).collect(),
        doorbells: input
            .doorbells
            .iter()
            .take(4)
            .map(|&(peer, peer_intid, intid)| Doorbell {
                peer,
                peer_intid,
                intid,
            })
            .collect(),
        ..FakeCaller::default()
    };
    for raw in input.calls.iter().take(16) {
        let function = if raw.shaped {
            0x8000_0000
                | u32::from(raw.sixty_four) << 30
                | u32::from(raw.owner & 0x3f) << 24
                | u32::from(raw.number)
        } else {
            raw.function
        };
        let mut args = raw.args;
        if let Some(offset) = raw.into_ram {
            args[0] = caller.ram_ipa.wrapping_add(u64::from(offset));
        }
        let call = Call {
            function,
            args,
            aarch32: raw.aarch32,
        };
        let console_before = caller.console.borrow().len();
        let action = dispatch(&call, &mut caller);
        let printed = caller.console.borrow().len() - console_before;
        assert!(
            printed <= MAX_TRANSFER,
            "{printed} console bytes from one call"
        );
        match action {
            Action::Return([x0, x1, x2, x3]) => {
                if (x0 as i64) < 0 {
                    assert!(is_error_code(x0), "{call:x?} returned X0 = {x0:#x}");
                    assert_eq!([x1, x2, x3], [0; 3], "{call:x?}: an error with results");
                }
            }
            Action::RingDoorbell { peer, intid } => {
                assert!(
                    caller
                        .doorbells
                        .iter()
                        .any(|d| d.peer.map(usize::from) == Some(peer) && d.peer_intid == intid),
                    "{call:x?} rang peer {peer} INTID {intid}, not one of its doorbells"
                );
            }
            Action::ForwardToFirmware {
                function: f,
                args: a,
            } => {
                assert_eq!((f, a), (call.function, call.args));
                assert!(caller.allowed.contains(&f), "{f:#x} is not in smc-allow");
            }
            Action::StackHighWater { vcpu } => {
                assert!(
                    vcpu < caller.vcpus,
                    "{call:x?} named vCPU {vcpu} of another partition"
                );
            }
            Action::TestOverflowStack => {
                panic!("{call:x?}: the stack overflow hook exists only in test-hooks builds")
            }
            Action::TestConsoleInput { .. } => {
                panic!("{call:x?}: the console input hook exists only in test-hooks builds")
            }
            Action::AffinityInfo { .. }
            | Action::CpuOn { .. }
            | Action::CpuOff
            | Action::CpuSuspend { .. }
            | Action::SystemOff
            | Action::SystemReset => {}
        }
    }
});
