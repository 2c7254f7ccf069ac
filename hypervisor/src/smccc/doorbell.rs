//! The doorbell calls of Bulkhead's vendor service: ring the peer of one of the caller's
//! doorbells, and say who the peer is and which INTID the caller receives on.
//!
//! A doorbell index is the position of a channel among the caller's channels in configuration
//! order (`crate::doorbell`). An index the caller does not have, which is every index for a
//! partition without channels, is INVALID_PARAMETER. Whether the peer runs is the vCPU layer's
//! to check, under the peer's distributor lock: dispatch only names the peer and its INTID.

use super::caller::Caller;
use super::dispatch::Action;
use super::error::{SmcccError, VendorError};
use crate::doorbell::Doorbell;

/// The caller's doorbell `index`, if it has one.
fn doorbell(index: u64, caller: &dyn Caller) -> Option<Doorbell> {
    let index = usize::try_from(index).ok()?;
    caller.doorbells().get(index).copied()
}

fn invalid_parameter() -> Action {
    Action::error(SmcccError::InvalidParameter.to_register())
}

/// BULKHEAD_DOORBELL_RING: X1 = doorbell index.
pub fn ring(index: u64, caller: &dyn Caller) -> Action {
    match doorbell(index, caller) {
        Some(Doorbell {
            peer: Some(peer),
            peer_intid,
            ..
        }) => Action::RingDoorbell {
            peer: usize::from(peer),
            intid: peer_intid,
        },
        Some(Doorbell { peer: None, .. }) => Action::error(VendorError::PeerDown.to_register()),
        None => invalid_parameter(),
    }
}

/// BULKHEAD_DOORBELL_INFO: X1 = doorbell index; returns X1 = the peer's partition id, X2 =
/// the INTID the caller receives this doorbell on, X3 = how many doorbells the caller has.
pub fn info(index: u64, caller: &dyn Caller) -> Action {
    match doorbell(index, caller) {
        Some(doorbell) => Action::Return([
            0,
            doorbell.peer_id() as u64,
            u64::from(doorbell.intid),
            caller.doorbells().len() as u64,
        ]),
        None => invalid_parameter(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smccc::caller::FakeCaller;

    const INVALID_PARAMETER: u64 = -3i64 as u64;
    const PEER_DOWN: u64 = -4i64 as u64;

    fn caller() -> FakeCaller {
        FakeCaller {
            doorbells: vec![
                Doorbell {
                    peer: Some(1),
                    peer_intid: 49,
                    intid: 48,
                },
                Doorbell {
                    peer: Some(2),
                    peer_intid: 60,
                    intid: 61,
                },
            ],
            ..FakeCaller::default()
        }
    }

    #[test]
    fn ringing_names_the_peer_and_the_intid_it_receives() {
        let caller = caller();
        assert_eq!(
            ring(0, &caller),
            Action::RingDoorbell { peer: 1, intid: 49 }
        );
        assert_eq!(
            ring(1, &caller),
            Action::RingDoorbell { peer: 2, intid: 60 }
        );
    }

    #[test]
    fn info_reports_the_peer_id_the_callers_intid_and_the_count() {
        let caller = caller();
        assert_eq!(info(0, &caller), Action::Return([0, 2, 48, 2]));
        assert_eq!(info(1, &caller), Action::Return([0, 3, 61, 2]));
    }

    #[test]
    fn an_index_the_caller_does_not_have_is_an_invalid_parameter() {
        let caller = caller();
        for index in [2, 3, u64::from(u32::MAX), u64::MAX] {
            assert_eq!(
                ring(index, &caller),
                Action::ok(INVALID_PARAMETER),
                "{index}"
            );
            assert_eq!(
                info(index, &caller),
                Action::ok(INVALID_PARAMETER),
                "{index}"
            );
        }
        let lonely = FakeCaller::default();
        assert_eq!(ring(0, &lonely), Action::ok(INVALID_PARAMETER));
        assert_eq!(info(0, &lonely), Action::ok(INVALID_PARAMETER));
    }

    #[test]
    fn a_doorbell_to_no_partition_is_a_peer_that_is_down() {
        let caller = FakeCaller {
            doorbells: vec![Doorbell {
                peer: None,
                peer_intid: 49,
                intid: 48,
            }],
            ..FakeCaller::default()
        };
        assert_eq!(ring(0, &caller), Action::ok(PEER_DOWN));
        assert_eq!(info(0, &caller), Action::Return([0, 0, 48, 1]));
    }
}
