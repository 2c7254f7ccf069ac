//! The privileged partition's management window (`devices::mgmt_window`) at work: guest
//! accesses to its registers, and the call a write of its CALL register asks for, made through
//! the SMCCC dispatcher exactly as the HVC of the same function would be (with the window's
//! DATA area as the call's memory), its management action carried out as the HVC's is.
//!
//! Only the management functions can be called this way; anything else gets NOT_SUPPORTED.

use bulkhead_abi::vendor;

use crate::devices::mgmt_window::{reg, WindowCall, DATA_SIZE, RESULTS};
use crate::devices::{self, DeviceAccess, DeviceEffects, MmioFault};
use crate::smccc::{Action, Call, SmcccError};
use crate::system::{Partition, System};

use super::machine::Machine;

/// The SMC64 flag of a function ID (bit 30).
const SMC64: u32 = 0x4000_0000;

/// Whether `function` is one of the management calls (either form of LIST).
pub fn is_management(function: u32) -> bool {
    (vendor::MGMT_LIST..=vendor::MGMT_SELF).contains(&function)
        || function == vendor::MGMT_LIST | SMC64
}

/// A guest access to `partition`'s management window (a read when `store` is `None`).
pub fn access(
    partition: &Partition,
    access: DeviceAccess,
    store: Option<u64>,
) -> Result<u64, MmioFault> {
    let Some(window) = &partition.management else {
        return Ok(0);
    };
    devices::perform(
        &mut *window.state.lock(),
        access,
        store,
        &mut DeviceEffects::new(),
    )
}

/// Makes the call a write of `partition`'s CALL register asked for, if one did, on behalf of
/// its vCPU `vcpu`, and stores its results in the window.
///
/// The window is not locked while the call runs (a STOP waits for the target's CPUs).
#[inline(never)]
#[cold]
pub fn run_pending<M: Machine>(system: &System, partition: &Partition, vcpu: usize, m: &mut M) {
    let Some(window) = &partition.management else {
        return;
    };
    let Some(call) = window.state.lock().take_call() else {
        return;
    };
    let data_ipa = window.window.start.saturating_add(reg::DATA);
    let (results, data) = perform(system, partition, vcpu, call, data_ipa, m);
    window.state.lock().complete(results, &data);
}

/// Makes `call` for `partition`'s vCPU `vcpu`: its results (X0..X3) and the DATA area after it.
pub fn perform<M: Machine>(
    system: &System,
    partition: &Partition,
    vcpu: usize,
    call: WindowCall,
    data_ipa: u64,
    m: &mut M,
) -> ([u64; RESULTS], [u8; DATA_SIZE]) {
    let not_supported = [SmcccError::NotSupported.to_register(), 0, 0, 0];
    if !is_management(call.function) {
        return (not_supported, [0; DATA_SIZE]);
    }
    let [a1, a2, a3] = call.args;
    let smccc = Call {
        function: call.function,
        args: [a1, a2, a3, 0, 0, 0],
        aarch32: false,
    };
    let (action, data) = m.smccc_window(partition, vcpu, &smccc, data_ipa);
    let results = match action {
        Action::Return(values) => values,
        Action::Manage { op, target } => [super::manage::result(system, op, target, m), 0, 0, 0],
        _ => not_supported,
    };
    (results, data)
}
