//! The virtual GIC: what a partition sees of the interrupt controller.
//!
//! One core serves both GIC generations: the distributor and redistributor register models are
//! pure state machines ([`distributor`], [`redistributor`]) that return [`Effect`]s for the
//! caller to apply to the physical GIC, and [`list_registers`] encodes virtual interrupts for
//! either hardware backend (GICv3 ICH_LR<n>_EL2 or GICv2 GICH_LR<n>).
//!
//! Ownership is static: a partition owns the SPIs its configuration grants, the SGIs and PPIs
//! of its own vCPUs, and purely virtual SPIs (its doorbells). Writes that touch anything else
//! are ignored and counted.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
// Offsets are range-checked by the `match` arms before the arithmetic; the device-bus rewrite
// turns these into checked operations and then denies `arithmetic_side_effects` here too.
#![allow(
    clippy::arithmetic_side_effects,
    reason = "44 offset computations inside range-checked match arms, pending the device bus"
)]

pub mod distributor;
pub mod irq_state;
pub mod list_registers;
pub mod pending;
pub mod ports;
pub mod redistributor;
pub mod sgi;

/// The virtual timer's PPI (CNTV, INTID 27).
pub const VTIMER_INTID: u32 = 27;
/// The maintenance interrupt's PPI (INTID 25).
pub const MAINTENANCE_INTID: u32 = 25;
/// The EL2 physical timer's PPI (CNTHP, INTID 26 on every GIC; partition watchdogs' deadlines).
pub const HYP_TIMER_INTID: u32 = 26;
/// The physical SGI the hypervisor uses to kick another CPU (deliver queued virtual interrupts,
/// CPU_ON, stop requests). Guests never see physical SGIs.
pub const KICK_SGI: u32 = 0;
/// The physical SGI a doorbell ring taken by the assembly fast path sends to the peer's CPU
/// (GICv3 only; `arch::doorbell_fast_path`). Guests never see physical SGIs.
pub const DOORBELL_SGI: u32 = 1;
/// The first SPI.
pub const FIRST_SPI: u32 = 32;
/// INTIDs 1020..1023 are special (spurious).
pub const SPURIOUS: u32 = 1023;
/// The largest number of interrupt lines the model supports (SGIs + PPIs + SPIs).
pub const MAX_INTIDS: usize = 512;

// Every doorbell INTID the configuration accepts is one the model has.
const _: () = assert!((bulkhead_config::MAX_DOORBELL_INTID as usize) < MAX_INTIDS);

/// A change the physical GIC must make after a guest access to its virtual GIC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Enable or disable a physical interrupt owned by the partition.
    SetEnabled {
        /// The interrupt.
        intid: u32,
        /// Enable (true) or disable.
        enabled: bool,
        /// For SGIs/PPIs: the vCPU whose redistributor holds it.
        vcpu: usize,
    },
    /// Route a physical SPI to the physical CPU of `vcpu`.
    Route {
        /// The SPI.
        intid: u32,
        /// The target vCPU.
        vcpu: usize,
    },
    /// Set a physical SPI's trigger mode.
    SetEdge {
        /// The SPI.
        intid: u32,
        /// Edge (true) or level.
        edge: bool,
    },
    /// Set or clear a physical interrupt's pending state.
    SetPending {
        /// The interrupt.
        intid: u32,
        /// Pend (true) or clear.
        pending: bool,
    },
    /// Make a purely virtual interrupt pending on `vcpu` (virtual SGIs, the virtual UART).
    InjectVirtual {
        /// The interrupt.
        intid: u32,
        /// The target vCPU.
        vcpu: usize,
        /// For SGIs: the sending vCPU.
        source: usize,
    },
}

/// A bitmap of INTIDs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntidSet([u32; MAX_INTIDS / 32]);

impl Default for IntidSet {
    fn default() -> Self {
        IntidSet([0; MAX_INTIDS / 32])
    }
}

impl IntidSet {
    /// Whether `intid` is in the set.
    pub fn contains(&self, intid: u32) -> bool {
        self.0
            .get((intid / 32) as usize)
            .is_some_and(|w| w & (1 << (intid % 32)) != 0)
    }

    /// Adds `intid`; returns false if it is out of range.
    pub fn insert(&mut self, intid: u32) -> bool {
        match self.0.get_mut((intid / 32) as usize) {
            Some(word) => {
                *word |= 1 << (intid % 32);
                true
            }
            None => false,
        }
    }

    /// Removes `intid`.
    pub fn remove(&mut self, intid: u32) {
        if let Some(word) = self.0.get_mut((intid / 32) as usize) {
            *word &= !(1 << (intid % 32));
        }
    }

    /// The 32 bits for INTIDs `32 * index .. 32 * index + 31`.
    pub fn word(&self, index: usize) -> u32 {
        self.0.get(index).copied().unwrap_or(0)
    }
}
