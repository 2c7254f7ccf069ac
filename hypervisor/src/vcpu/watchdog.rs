//! A partition's SBSA generic watchdog over time: guest accesses to its frames, and the
//! ticks that bring it up to date, raise its interrupt (WS0) and apply the partition's policy
//! (WS1).
//!
//! Time reaches EL2 through each CPU's hypervisor physical timer (CNTHP): every access that
//! changes the watchdog arms the accessing CPU's timer for the watchdog's next deadline, and
//! every tick re-arms it (or disarms it). The timer is a physical interrupt, taken at EL2
//! whatever the guest does (interrupts masked, a loop that never traps). A CPU whose timer
//! was armed for an older, earlier deadline only ticks early and re-arms: a deadline is
//! never missed, because the CPU that last changed the watchdog is armed for exactly it.
//! docs/architecture.md ("The partition watchdog") has the reasoning.

use crate::devices::sbsa_watchdog::{Frame, WatchdogPort};
use crate::devices::{self, DeviceAccess, DeviceEffects, MmioFault};
use crate::partition::{PartitionState, StopReason};
use crate::system::{Partition, System};

use super::machine::Machine;
use super::outcome::Next;
use super::stop;

/// A guest access to `partition`'s watchdog `frame` (a read when `store` is `None`): performed
/// at the current counter value; a write re-arms this CPU's EL2 timer for the new deadline.
pub fn access<M: Machine>(
    partition: &Partition,
    frame: Frame,
    access: DeviceAccess,
    store: Option<u64>,
    m: &mut M,
) -> Result<u64, MmioFault> {
    let Some(watchdog) = &partition.watchdog else {
        return Ok(0);
    };
    let now = m.counter();
    let (value, deadline) = {
        let mut state = watchdog.state.lock();
        let mut port = WatchdogPort {
            watchdog: &mut state,
            frame,
            now,
        };
        let value = devices::perform(&mut port, access, store, &mut DeviceEffects::new())?;
        (value, state.next_deadline())
    };
    if store.is_some() {
        m.set_hyp_timer(deadline);
    }
    Ok(value)
}

/// Brings `partition`'s watchdog up to date on `cpu` (after its physical interrupts were
/// taken, the EL2 timer's among them): WS0 makes its interrupt pending, WS1 stops (or
/// restarts) the partition for [`StopReason::Watchdog`]. Re-arms this CPU's EL2 timer for the
/// next deadline, or disarms it. Returns where this CPU goes if the partition stopped.
///
/// Out of line: the trap path's other exits keep the small frame they had without it.
#[inline(never)]
pub fn tick<M: Machine>(
    system: &System,
    partition: &Partition,
    cpu: usize,
    m: &mut M,
) -> Option<Next> {
    let Some(watchdog) = &partition.watchdog else {
        return None;
    };
    if partition.state() != PartitionState::Running {
        m.set_hyp_timer(None);
        return None;
    }
    let now = m.counter();
    let (signals, deadline, refreshed, offset) = {
        let mut state = watchdog.state.lock();
        let signals = state.advance(now);
        (
            signals,
            state.next_deadline(),
            state.last_refresh(),
            state.offset(),
        )
    };
    m.set_hyp_timer(deadline);
    if signals.ws0 {
        // The watchdog interrupt is a purely virtual SPI of the partition's own distributor,
        // made pending as a doorbell is. A partition that stopped meanwhile gets nothing.
        let _ = m.ring_doorbell(partition.id.saturating_sub(1), watchdog.intid);
    }
    if signals.ws1 {
        m.print(format_args!(
            "HIL:WATCHDOG partition={} ws1 counter={now} since-refresh={} wor={offset} on-stop={}",
            partition.name,
            now.saturating_sub(refreshed),
            match partition.on_stop {
                bulkhead_config::model::OnStop::Off => "off",
                bulkhead_config::model::OnStop::Restart => "restart",
            }
        ));
        return Some(stop::stop_partition(
            system,
            partition,
            cpu,
            StopReason::Watchdog,
            m,
        ));
    }
    None
}

/// Puts `partition`'s watchdog back to its reset state (disabled): the partition restarts or
/// stops, and a stopped partition's watchdog must not fire again.
pub fn reset(partition: &Partition) {
    if let Some(watchdog) = &partition.watchdog {
        *watchdog.state.lock() = crate::devices::sbsa_watchdog::SbsaWatchdog::new();
    }
}

/// [`tick`] for a CPU between guests (its vCPU off or not yet on): the partition it serves,
/// if it has a watchdog, is brought up to date.
pub fn tick_between_guests<M: Machine>(system: &System, cpu: usize, m: &mut M) -> Option<Next> {
    let (partition, _) = system.slot(cpu)?;
    partition.watchdog.as_ref()?;
    tick(system, partition, cpu, m)
}
