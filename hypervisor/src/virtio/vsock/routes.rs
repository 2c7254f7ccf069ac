//! Who may reach whom: each vsock endpoint's context ID and the pairs of endpoints a configured
//! channel joins.
//!
//! Endpoints are numbered by the device backend (one per partition with a `vsock-cid`); the
//! table is built once at boot from the validated configuration and only read afterwards.
//! A CID the table does not hold, the reserved CIDs 0 to 2 (hypervisor, local, host) and a
//! partition's own CID reach nobody.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use heapless::Vec;

/// The most vsock endpoints (one per partition).
pub const MAX_ENDPOINTS: usize = bulkhead_config::MAX_PARTITIONS;

/// The smallest CID a partition may have: 0, 1 and 2 are reserved (virtio 1.2 §5.10.4: the
/// hypervisor, local loopback and the host).
pub const FIRST_GUEST_CID: u64 = 3;

/// One endpoint of the switch (an index into [`Routes`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EndpointId(pub u8);

/// Why the table refuses an endpoint or a route (configuration validation catches all of them
/// first; the table checks again rather than trust its caller).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteError {
    /// A CID below [`FIRST_GUEST_CID`].
    ReservedCid(u64),
    /// Two endpoints with one CID.
    DuplicateCid(u64),
    /// More than [`MAX_ENDPOINTS`] endpoints.
    TooManyEndpoints,
    /// A route to an endpoint the table does not hold, or from an endpoint to itself.
    BadRoute,
}

/// The endpoints' CIDs and the allowed pairs.
#[derive(Clone, Debug, Default)]
pub struct Routes {
    cids: Vec<u64, MAX_ENDPOINTS>,
    /// `allowed[a]` has bit `b` set when endpoints `a` and `b` share a channel.
    allowed: [u16; MAX_ENDPOINTS],
}

impl Routes {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an endpoint with context ID `cid`.
    pub fn add_endpoint(&mut self, cid: u64) -> Result<EndpointId, RouteError> {
        if cid < FIRST_GUEST_CID {
            return Err(RouteError::ReservedCid(cid));
        }
        if self.cids.contains(&cid) {
            return Err(RouteError::DuplicateCid(cid));
        }
        let id = u8::try_from(self.cids.len()).map_err(|_| RouteError::TooManyEndpoints)?;
        self.cids
            .push(cid)
            .map_err(|_| RouteError::TooManyEndpoints)?;
        Ok(EndpointId(id))
    }

    /// Lets `a` and `b` reach each other (in both directions).
    pub fn allow(&mut self, a: EndpointId, b: EndpointId) -> Result<(), RouteError> {
        if a == b || self.cid_of(a).is_none() || self.cid_of(b).is_none() {
            return Err(RouteError::BadRoute);
        }
        for (from, to) in [(a, b), (b, a)] {
            if let Some(mask) = self.allowed.get_mut(usize::from(from.0)) {
                *mask |= 1u16 << to.0;
            }
        }
        Ok(())
    }

    /// The context ID of endpoint `id`.
    pub fn cid_of(&self, id: EndpointId) -> Option<u64> {
        self.cids.get(usize::from(id.0)).copied()
    }

    /// The endpoint with context ID `cid`.
    pub fn endpoint_of(&self, cid: u64) -> Option<EndpointId> {
        let index = self.cids.iter().position(|&c| c == cid)?;
        u8::try_from(index).ok().map(EndpointId)
    }

    /// Whether `from` may reach `to`.
    pub fn allows(&self, from: EndpointId, to: EndpointId) -> bool {
        from != to
            && self
                .allowed
                .get(usize::from(from.0))
                .is_some_and(|mask| mask & (1u16 << (to.0 & 15)) != 0)
    }

    /// The number of endpoints.
    pub fn len(&self) -> usize {
        self.cids.len()
    }

    /// Whether the table has no endpoints.
    pub fn is_empty(&self) -> bool {
        self.cids.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_configured_pairs_route() {
        let mut routes = Routes::new();
        let linux = routes.add_endpoint(3).unwrap();
        let rtos = routes.add_endpoint(4).unwrap();
        let outsider = routes.add_endpoint(5).unwrap();
        routes.allow(linux, rtos).unwrap();
        assert!(routes.allows(linux, rtos));
        assert!(routes.allows(rtos, linux));
        assert!(!routes.allows(outsider, rtos));
        assert!(!routes.allows(rtos, outsider));
        assert!(!routes.allows(linux, linux));
        assert_eq!(routes.endpoint_of(5), Some(outsider));
        assert_eq!(routes.endpoint_of(2), None);
        assert_eq!(routes.cid_of(rtos), Some(4));
        assert_eq!(routes.cid_of(EndpointId(9)), None);
    }

    #[test]
    fn reserved_and_duplicate_cids_are_refused() {
        let mut routes = Routes::new();
        for cid in 0..FIRST_GUEST_CID {
            assert_eq!(routes.add_endpoint(cid), Err(RouteError::ReservedCid(cid)));
        }
        routes.add_endpoint(7).unwrap();
        assert_eq!(routes.add_endpoint(7), Err(RouteError::DuplicateCid(7)));
        for cid in 8..8 + MAX_ENDPOINTS as u64 - 1 {
            routes.add_endpoint(cid).unwrap();
        }
        assert_eq!(routes.add_endpoint(100), Err(RouteError::TooManyEndpoints));
        assert_eq!(
            routes.allow(EndpointId(0), EndpointId(0)),
            Err(RouteError::BadRoute)
        );
        assert_eq!(
            routes.allow(EndpointId(0), EndpointId(40)),
            Err(RouteError::BadRoute)
        );
    }
}
