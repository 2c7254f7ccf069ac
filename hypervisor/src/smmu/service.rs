//! The board's SMMU as the hypervisor runs it: brought up at boot with every stream aborting,
//! each assigned stream then given its partition's stage 2; its event queue drained from the
//! boot CPU's EL2 timer every [`POLL_MS`] ms, each fault reported with the partition and device
//! it belongs to and the partition's `on-fault` applied (`stop`: the partition is stopped;
//! `inject`: reported only, since a device's abort has no vCPU to be injected into; the device
//! sees its transaction aborted either way).

use crate::arch::hyp_timer::{self, Alarm};
use crate::arch::smmu::SmmuMmio;
use crate::arch::{self, counter_frequency};
use crate::host_dt::HostInfo;
use crate::partition::PartitionState;
use crate::println;
use crate::system::System;

use super::driver::{self, Smmu};
use super::event::DeviceFault;
use super::plan;

/// How often the event queue is drained, in milliseconds.
pub const POLL_MS: u64 = 10;
/// The most fault reports printed per drain (the rest are counted).
const REPORTS_PER_DRAIN: usize = 8;

static SMMU: spin::Mutex<Option<Smmu<'static, SmmuMmio>>> = spin::Mutex::new(None);
/// The logical CPU whose EL2 timer drains the event queue.
static POLL_CPU: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

/// Brings up `host`'s SMMU, if it has one, for `system`'s streams. A partition whose device's
/// DMA cannot be confined (no SMMU after all, or it failed) is refused before it runs.
pub fn init(host: &HostInfo<'_>, system: &System) {
    let Some(range) = host.smmu else {
        refuse_dma_partitions(system, "the board has no SMMU");
        return;
    };
    let Some(mut port) = SmmuMmio::claim(range.start) else {
        println!(
            "SMMU at {:#x}: its registers are not mapped at EL2",
            range.start
        );
        refuse_dma_partitions(system, "the SMMU cannot be reached");
        return;
    };
    let features = match driver::probe(&mut port) {
        Ok(features) => features,
        Err(why) => {
            println!("SMMU at {:#x} unusable: {}", range.start, why.message());
            refuse_dma_partitions(system, "the SMMU has no stage 2");
            return;
        }
    };
    port.set_coherent(features.coherent);
    let Some(memory) = arch::smmu::memory() else {
        return;
    };
    let max_sid = system.dma_streams.iter().map(|s| s.sid).max().unwrap_or(0);
    let mut smmu = match Smmu::init(port, memory, max_sid) {
        Ok(smmu) => smmu,
        Err(why) => {
            println!("SMMU at {:#x} did not start: {why:?}", range.start);
            refuse_dma_partitions(system, "the SMMU did not start");
            return;
        }
    };
    let mut assigned: usize = 0;
    for stream in &system.dma_streams {
        let Some(partition) = system.partitions.get(stream.partition) else {
            continue;
        };
        let entry = plan::entry_for(
            stream,
            |i| system.partitions.get(i).map(|p| p.vttbr),
            system.vtcr,
            features.oas,
        );
        match entry.map_err(driver::DriverError::Ste).and_then(|ste| {
            smmu.set_stream(stream.sid, &ste)?;
            Ok(ste)
        }) {
            Ok(ste) => {
                assigned = assigned.saturating_add(1);
                println!(
                    "SMMU: stream {:#06x} -> partition \"{}\" (id {}) device {}: stage 2, VMID {}",
                    stream.sid,
                    partition.name,
                    partition.id,
                    stream.device,
                    ste.vmid()
                );
            }
            Err(why) => {
                println!(
                    "partition \"{}\" (id {}) refused: SMMU stream {:#06x} of device {}: {why:?}",
                    partition.name, partition.id, stream.sid, stream.device
                );
                partition.set_state(PartitionState::Refused);
            }
        }
    }
    println!(
        "SMMU at {:#x}: stage 2, {} stream table entries, {assigned} stream(s) assigned, every \
         other stream aborts",
        range.start,
        smmu.table().entries()
    );
    *SMMU.lock() = Some(smmu);
    POLL_CPU.store(arch::current_cpu(), core::sync::atomic::Ordering::Relaxed);
    arm();
}

/// Refuses every partition with a DMA stream: its device's DMA would reach all memory.
fn refuse_dma_partitions(system: &System, why: &str) {
    for stream in &system.dma_streams {
        if let Some(partition) = system.partitions.get(stream.partition) {
            if partition.state() == PartitionState::Running {
                println!(
                    "partition \"{}\" (id {}) refused: device {} masters DMA (stream {:#06x}) \
                     but {why}",
                    partition.name, partition.id, stream.device, stream.sid
                );
                partition.set_state(PartitionState::Refused);
            }
        }
    }
}

fn arm() {
    let period = counter_frequency().saturating_mul(POLL_MS) / 1000;
    hyp_timer::set(
        Alarm::Smmu,
        Some(arch::counter().saturating_add(period.max(1))),
    );
}

/// The EL2 timer fired on this CPU: if the SMMU's alarm rang, drains its event queue, reports
/// each fault and applies its partition's policy, and arms the alarm again.
pub fn on_timer(system: &System) {
    if !hyp_timer::take_due(Alarm::Smmu) {
        return;
    }
    let mut faults: heapless::Vec<super::event::Event, REPORTS_PER_DRAIN> = heapless::Vec::new();
    let mut more = 0usize;
    let mut overflow = false;
    if let Some(mut guard) = SMMU.try_lock() {
        if let Some(smmu) = guard.as_mut() {
            overflow = smmu.drain_events(|event| {
                if faults.push(event).is_err() {
                    more = more.saturating_add(1);
                }
            });
        }
    }
    let owners = plan::owners(&system.dma_streams, |i| {
        system.partitions.get(i).map_or("?", |p| p.name.as_str())
    });
    let mut to_stop: heapless::Vec<usize, REPORTS_PER_DRAIN> = heapless::Vec::new();
    for event in faults {
        let fault = DeviceFault::attribute(event, &owners);
        println!("{fault}");
        if let Some(owner) = fault.owner {
            println!(
                "HIL:DMA-FAULT partition={} device={} stream={:#x} event={}",
                owner.partition_name,
                owner.device,
                owner.sid,
                event.name()
            );
            if !to_stop.contains(&owner.partition) {
                let _ = to_stop.push(owner.partition);
            }
        }
    }
    if more > 0 {
        println!("SMMU: {more} more fault record(s) not shown");
    }
    if overflow {
        println!("SMMU: the event queue overflowed; fault records were lost");
    }
    for index in to_stop {
        let stop = system
            .partitions
            .get(index)
            .is_some_and(|p| p.on_fault == bulkhead_config::model::OnFault::Stop);
        if stop {
            crate::cpu::stop_for_device_fault(system, index);
        }
    }
    arm();
}

/// The CPU that drains the event queue (its EL2 timer carries the alarm).
pub fn poll_cpu() -> usize {
    POLL_CPU.load(core::sync::atomic::Ordering::Relaxed)
}
