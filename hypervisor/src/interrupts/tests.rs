//! Host tests of the interrupt glue over a fake GIC: physical interrupts to list registers or
//! the stray count, queueing when list registers are full, SGIs and doorbells across CPUs,
//! vGIC accesses applied to the hardware, and quiescing a vCPU.

use std::cell::{Cell, RefCell};
use std::vec::Vec;

use bulkhead_config::range::Range;

use super::gic::{FastRing, PhysicalGic};
use super::state::{InterruptState, PeerDown};
use crate::devices::{AccessWidth, DeviceAccess, DeviceId};
use crate::partition::PartitionState;
use crate::system::{GuestGicLayout, Partition, System, VcpuSlot};
use crate::vgic::distributor::GicVersion;
use crate::vgic::list_registers::{ListEntry, LrState};
use crate::vgic::IntidSet;

const LRS: usize = 4;
const UART_SPI: u32 = 33;
const DOORBELL: u32 = 48;

/// Everything the glue did to the "hardware", and what it answers.
#[derive(Default)]
struct FakeGic {
    cpu: Cell<usize>,
    v3: bool,
    pending: RefCell<Vec<u32>>,
    lrs: RefCell<[u64; LRS]>,
    log: RefCell<Vec<String>>,
    vtimer_lr: RefCell<[u64; 4]>,
    fast_rings: RefCell<std::collections::BTreeMap<(usize, usize), FastRing>>,
    fast_lrs: RefCell<[[u64; 16]; 4]>,
    fast_flags: RefCell<[u32; 4]>,
}

impl FakeGic {
    fn logged(&self, what: &str) -> bool {
        self.log.borrow().iter().any(|line| line == what)
    }
    fn lr(&self, index: usize) -> ListEntry {
        ListEntry::decode_v3(self.lrs.borrow()[index])
    }
}

impl PhysicalGic for FakeGic {
    fn is_v3(&self) -> bool {
        self.v3
    }
    fn current_cpu(&self) -> usize {
        self.cpu.get()
    }
    fn init_cpu(&self, cpu: usize, _mpidr: u64) {
        self.log.borrow_mut().push(format!("init {cpu}"));
    }
    fn acknowledge(&self) -> u32 {
        let mut pending = self.pending.borrow_mut();
        if pending.is_empty() {
            1023
        } else {
            pending.remove(0)
        }
    }
    fn priority_drop(&self, raw: u32) {
        self.log.borrow_mut().push(format!("drop {raw}"));
    }
    fn deactivate(&self, raw: u32) {
        self.log.borrow_mut().push(format!("deactivate {raw}"));
    }
    fn deactivate_intid(&self, intid: u32) {
        self.log
            .borrow_mut()
            .push(format!("deactivate-intid {intid}"));
    }
    fn send_sgi(&self, cpu: usize, sgi: u32) {
        self.log.borrow_mut().push(format!("sgi {sgi} to {cpu}"));
    }
    fn set_spi_enabled(&self, intid: u32, enabled: bool) {
        self.log
            .borrow_mut()
            .push(format!("spi {intid} enabled={enabled}"));
    }
    fn set_private_enabled(&self, cpu: usize, intid: u32, enabled: bool) {
        self.log
            .borrow_mut()
            .push(format!("ppi {intid} of {cpu} enabled={enabled}"));
    }
    fn set_spi_pending(&self, intid: u32, pending: bool) {
        self.log
            .borrow_mut()
            .push(format!("spi {intid} pending={pending}"));
    }
    fn route_spi(&self, intid: u32, cpu: usize) {
        self.log
            .borrow_mut()
            .push(format!("route {intid} to {cpu}"));
    }
    fn set_spi_edge(&self, intid: u32, edge: bool) {
        self.log
            .borrow_mut()
            .push(format!("spi {intid} edge={edge}"));
    }
    fn list_register_count(&self) -> usize {
        LRS
    }
    fn empty_list_registers(&self) -> u64 {
        let lrs = self.lrs.borrow();
        (0..LRS)
            .filter(|&i| ListEntry::decode_v3(lrs[i]).state == LrState::Invalid)
            .fold(0, |m, i| m | 1 << i)
    }
    fn read_lr(&self, index: usize) -> ListEntry {
        self.lr(index)
    }
    fn write_lr(&self, index: usize, entry: &ListEntry) {
        self.lrs.borrow_mut()[index] = entry.encode_v3();
    }
    fn set_underflow_interrupt(&self, enabled: bool) {
        self.log.borrow_mut().push(format!("underflow={enabled}"));
    }
    fn reset_virtual_interface(&self) {
        self.log.borrow_mut().push("reset-vif".into());
    }
    fn set_vtimer_lr(&self, cpu: usize, value: u64) {
        self.vtimer_lr.borrow_mut()[cpu] = value;
    }
    fn take_pending_ack(&self, _cpu: usize) -> Option<u32> {
        None
    }
    fn mask_hyp_timer(&self) {
        self.log.borrow_mut().push("mask hyp-timer".into());
    }
    fn set_fast_ring(&self, cpu: usize, index: usize, ring: Option<FastRing>) {
        let mut rings = self.fast_rings.borrow_mut();
        match ring {
            Some(ring) => rings.insert((cpu, index), ring),
            None => rings.remove(&(cpu, index)),
        };
    }
    fn set_fast_doorbell_lr(&self, cpu: usize, slot: usize, value: u64) {
        self.fast_lrs.borrow_mut()[cpu][slot] = value;
    }
    fn take_fast_doorbells(&self, cpu: usize) -> u32 {
        core::mem::take(&mut self.fast_flags.borrow_mut()[cpu])
    }
}

fn partition(id: usize, cpus: &[usize]) -> Partition {
    let mut p = Partition::new(
        id,
        if id == 1 { "linux" } else { "rtos" },
        PartitionState::Running,
    );
    for &cpu in cpus {
        p.cpus.push(cpu).unwrap();
    }
    p
}

/// "linux" on CPUs 0-1 owning SPI 33, "rtos" on CPU 2 receiving doorbell 48.
fn setup(cpu: usize) -> (System, InterruptState<FakeGic>) {
    let mut system = System {
        partitions: heapless::Vec::new(),
        cpus: heapless::Vec::from_slice(&[0, 1, 2, 3]).unwrap(),
        slots: [None; crate::MAX_CPUS],
        vtcr: 0,
        firmware_psci: true,
        gic_sysregs: true,
        gic: GuestGicLayout {
            distributor: Range {
                start: 0x0800_0000,
                size: 0x1_0000,
            },
            redistributors: None,
        },
        pm_watchdog: None,
        console_focus: None,
        console_baud: 0,
        reset_on_last_stop: false,
        dma_streams: heapless::Vec::new(),
    };
    system.partitions.push(partition(1, &[0, 1])).unwrap();
    system.partitions.push(partition(2, &[2])).unwrap();
    for (cpu, partition, vcpu) in [(0, 0, 0), (1, 0, 1), (2, 1, 0)] {
        system.slots[cpu] = Some(VcpuSlot { partition, vcpu });
    }
    let state = InterruptState::new(FakeGic {
        cpu: Cell::new(cpu),
        v3: true,
        ..FakeGic::default()
    });
    let mut hardware = IntidSet::default();
    hardware.insert(UART_SPI);
    state.init_partition(0, GicVersion::V3, 2, hardware, IntidSet::default());
    let mut software = IntidSet::default();
    software.insert(DOORBELL);
    state.init_partition(1, GicVersion::V3, 1, IntidSet::default(), software);
    for cpu in 0..4 {
        state.reset_vcpu(cpu);
    }
    (system, state)
}

fn gicd_write(
    state: &InterruptState<FakeGic>,
    system: &System,
    partition: usize,
    offset: u64,
    value: u64,
) {
    let access = DeviceAccess {
        offset,
        width: AccessWidth::Word,
        vcpu: 0,
    };
    let p = &system.partitions[partition];
    state
        .vgic_access(system, p, DeviceId::Distributor, access, Some(value))
        .unwrap();
}

/// Enables the distributor (groups 0 and 1) and `intid` in partition `partition`.
fn enable(state: &InterruptState<FakeGic>, system: &System, partition: usize, intid: u32) {
    gicd_write(state, system, partition, 0x000, 0x3);
    gicd_write(
        state,
        system,
        partition,
        0x080 + u64::from(intid / 32) * 4,
        1 << (intid % 32),
    ); // IGROUPR
    gicd_write(
        state,
        system,
        partition,
        0x100 + u64::from(intid / 32) * 4,
        1 << (intid % 32),
    ); // ISENABLER
}

#[test]
fn an_owned_spi_is_injected_with_its_physical_intid_and_left_active() {
    let (system, state) = setup(0);
    enable(&state, &system, 0, UART_SPI);
    assert!(
        state.gic.logged("spi 33 enabled=true"),
        "the guest's enable reaches the hardware"
    );
    state.gic.pending.borrow_mut().push(UART_SPI);
    assert!(!state.handle_physical(&system, 0));
    let lr = state.gic.lr(0);
    assert_eq!(
        (lr.vintid, lr.pintid, lr.state),
        (UART_SPI, Some(UART_SPI), LrState::Pending)
    );
    assert!(state.gic.logged("drop 33"));
    assert!(
        !state.gic.logged("deactivate 33"),
        "the guest deactivates it through the HW bit"
    );
}

#[test]
fn an_interrupt_nobody_owns_is_deactivated_and_counted_stray() {
    let (system, state) = setup(2);
    state.gic.pending.borrow_mut().extend([UART_SPI, 40]);
    state.handle_physical(&system, 2);
    assert!(
        state.gic.logged("deactivate 33"),
        "SPI 33 is linux's, not the rtos's"
    );
    assert!(state.gic.logged("deactivate 40"));
    assert_eq!(state.stray_interrupts(2), 2);
    assert_eq!(state.gic.empty_list_registers(), 0b1111);
}

#[test]
fn the_el2_timer_is_masked_and_deactivated_never_injected_or_stray() {
    let (system, state) = setup(0);
    state
        .gic
        .pending
        .borrow_mut()
        .push(crate::vgic::HYP_TIMER_INTID);
    assert!(!state.handle_physical(&system, 0));
    assert!(state.gic.logged("mask hyp-timer"));
    assert!(state.gic.logged("deactivate 26"));
    assert_eq!(state.stray_interrupts(0), 0);
    assert_eq!(state.gic.empty_list_registers(), 0b1111);
}

#[test]
fn a_kick_is_deactivated_and_reported() {
    let (system, state) = setup(1);
    state.gic.pending.borrow_mut().push(crate::vgic::KICK_SGI);
    assert!(state.handle_physical(&system, 1));
    assert!(state.gic.logged("deactivate 0"));
}

#[test]
fn sgis_between_vcpus_are_queued_for_the_target_cpu_and_kick_it() {
    let (system, state) = setup(0);
    state.send_sgis(&system, 0, 0, 5, 0b10);
    assert!(state.gic.logged("sgi 0 to 1"), "CPU 1 is kicked");
    assert_eq!(
        state.gic.empty_list_registers(),
        0b1111,
        "nothing in CPU 0's registers"
    );
    // On CPU 1, the kick moves the queued SGI into a list register.
    state.gic.cpu.set(1);
    state.gic.pending.borrow_mut().push(crate::vgic::KICK_SGI);
    assert!(state.handle_physical(&system, 1));
    let lr = state.gic.lr(0);
    assert_eq!((lr.vintid, lr.source, lr.state), (5, 0, LrState::Pending));
}

#[test]
fn an_sgi_to_self_goes_straight_into_a_list_register() {
    let (system, state) = setup(0);
    state.send_sgis(&system, 0, 0, 7, 0b01);
    let lr = state.gic.lr(0);
    assert_eq!((lr.vintid, lr.pintid), (7, None));
    assert!(!state.gic.log.borrow().iter().any(|l| l.starts_with("sgi")));
}

#[test]
fn when_every_list_register_is_busy_interrupts_wait_and_underflow_brings_them_in() {
    let (system, state) = setup(0);
    for sgi in 1..=6 {
        state.send_sgis(&system, 0, 0, sgi, 0b01);
    }
    assert_eq!(state.gic.empty_list_registers(), 0);
    assert!(state.gic.logged("underflow=true"));
    // The guest takes and completes two: their list registers empty.
    state.gic.lrs.borrow_mut()[0] = 0;
    state.gic.lrs.borrow_mut()[1] = 0;
    state.flush_queue(0);
    let held: Vec<u32> = (0..LRS).map(|i| state.gic.lr(i).vintid).collect();
    assert!(held.contains(&5) && held.contains(&6), "{held:?}");
    assert_eq!(
        state.gic.log.borrow().last().map(String::as_str),
        Some("underflow=false")
    );
}

#[test]
fn a_doorbell_to_a_stopped_peer_is_refused_and_a_disabled_one_stays_latched() {
    let (system, state) = setup(0);
    // Not enabled by the RTOS yet: latched, nothing queued, nobody kicked.
    assert_eq!(state.ring_doorbell(&system, 1, DOORBELL), Ok(()));
    assert!(!state.gic.log.borrow().iter().any(|l| l.starts_with("sgi")));
    // The RTOS enables it: the latched ring is delivered to its CPU.
    enable(&state, &system, 1, DOORBELL);
    assert!(
        state.gic.logged("sgi 0 to 2"),
        "{:?}",
        state.gic.log.borrow()
    );
    system.partitions[1].set_state(PartitionState::Stopped);
    assert_eq!(state.ring_doorbell(&system, 1, DOORBELL), Err(PeerDown));
}

#[test]
fn writes_to_interrupts_the_partition_does_not_own_change_no_hardware() {
    let (system, state) = setup(2);
    enable(&state, &system, 1, UART_SPI);
    assert!(!state.gic.logged("spi 33 enabled=true"));
    assert!(state.ignored_writes(1, &[2]) > 0);
}

#[test]
fn quiescing_a_vcpu_deactivates_what_its_guest_left_active_and_empties_everything() {
    let (system, state) = setup(0);
    enable(&state, &system, 0, UART_SPI);
    state.gic.pending.borrow_mut().push(UART_SPI);
    state.handle_physical(&system, 0);
    state.gic.vtimer_lr.borrow_mut()[0] = 0x1234;
    state.quiesce_vcpu(0);
    assert!(state.gic.logged("deactivate-intid 33"));
    assert_eq!(state.gic.empty_list_registers(), 0b1111);
    assert!(state.gic.logged("ppi 27 of 0 enabled=false"));
    assert_eq!(state.gic.vtimer_lr.borrow()[0], 0, "the fast path is off");
}

#[test]
fn resetting_a_partition_disables_and_clears_its_hardware_spis_only() {
    let (_system, state) = setup(0);
    state.reset_partition(0);
    assert!(state.gic.logged("spi 33 enabled=false"));
    assert!(state.gic.logged("spi 33 pending=false"));
    assert!(!state.gic.log.borrow().iter().any(|l| l.contains("spi 48")));
}

#[test]
fn a_guest_enabling_its_timer_ppi_turns_the_fast_path_on() {
    let (system, state) = setup(0);
    // GICv3 guests enable PPI 27 in their redistributor's SGI frame (GICR_ISENABLER0).
    let mut system = system;
    system.gic.redistributors = Some(Range {
        start: 0x080a_0000,
        size: 0x4_0000,
    });
    let access = DeviceAccess {
        offset: 0x1_0100,
        width: AccessWidth::Word,
        vcpu: 0,
    };
    let p = &system.partitions[0];
    state
        .vgic_access(&system, p, DeviceId::Redistributors, access, Some(1 << 27))
        .unwrap();
    assert_ne!(state.gic.vtimer_lr.borrow()[0], 0);
    // Frames beyond the partition's two vCPUs: RAZ/WI, counted.
    let beyond = DeviceAccess {
        offset: 2 * crate::vgic::redistributor::FRAME_STRIDE,
        ..access
    };
    assert_eq!(
        state.vgic_access(&system, p, DeviceId::Redistributors, beyond, None),
        Ok(0)
    );
    state
        .vgic_access(&system, p, DeviceId::Redistributors, beyond, Some(1))
        .unwrap();
    assert_eq!(state.ignored_writes(0, &[]), 1);
}

/// `setup`, plus a channel between the two: linux (CPUs 0-1) receives on 49, the rtos (CPU 2)
/// on [`DOORBELL`]; each is the other's doorbell 0.
fn setup_channel(cpu: usize) -> (System, InterruptState<FakeGic>) {
    use crate::doorbell::Doorbell;
    let (mut system, state) = setup(cpu);
    system.partitions[0]
        .doorbells
        .push(Doorbell {
            peer: Some(1),
            peer_intid: DOORBELL,
            intid: 49,
        })
        .unwrap();
    system.partitions[1]
        .doorbells
        .push(Doorbell {
            peer: Some(0),
            peer_intid: 49,
            intid: DOORBELL,
        })
        .unwrap();
    (system, state)
}

#[test]
fn the_doorbell_fast_path_is_on_once_the_peer_enables_its_doorbell_and_off_when_it_stops() {
    let (system, state) = setup_channel(2);
    state.publish_fast_doorbells(&system);
    assert!(
        state.gic.fast_rings.borrow().is_empty(),
        "nothing enabled yet"
    );
    enable(&state, &system, 1, DOORBELL);
    // linux's CPUs ring the rtos's CPU 2, flag 0, while its state byte reads running.
    let rings = state.gic.fast_rings.borrow().clone();
    let ring = FastRing {
        target_cpu: 2,
        slot: 0,
        peer_state: system.partitions[1].state_address(),
    };
    assert_eq!(rings.get(&(0, 0)), Some(&ring));
    assert_eq!(rings.get(&(1, 0)), Some(&ring));
    assert_eq!(
        rings.len(),
        2,
        "linux does not receive on 49 yet: {rings:?}"
    );
    // CPU 2 injects it with the guest's priority and group.
    let lr = ListEntry::decode_v3(state.gic.fast_lrs.borrow()[2][0]);
    assert_eq!(
        (lr.vintid, lr.pintid, lr.state),
        (DOORBELL, None, LrState::Pending)
    );
    assert!(lr.group1);
    // A stop clears the receiving side; a restart's reset recomputes without the doorbell.
    state.quiesce_vcpu(2);
    assert_eq!(state.gic.fast_lrs.borrow()[2][0], 0);
    state.reset_partition(1);
    state.publish_fast_doorbells(&system);
    assert!(state.gic.fast_rings.borrow().is_empty());
}

#[test]
fn doorbell_flags_the_assembly_passes_on_are_rung_through_the_general_path() {
    let (system, state) = setup_channel(2);
    enable(&state, &system, 1, DOORBELL);
    // The rtos's CPU 2 could not inject (say, a list register was busy): flag 0 raised.
    state.gic.fast_flags.borrow_mut()[2] = 0b1;
    state
        .gic
        .pending
        .borrow_mut()
        .push(crate::vgic::DOORBELL_SGI);
    state.handle_physical(&system, 2);
    assert!(state.gic.logged("deactivate 1"));
    let lr = state.gic.lr(0);
    assert_eq!((lr.vintid, lr.state), (DOORBELL, LrState::Pending));
    // A flag for a stopped partition is dropped.
    system.partitions[1].set_state(PartitionState::Stopped);
    state.gic.lrs.borrow_mut()[0] = 0;
    state.gic.fast_flags.borrow_mut()[2] = 0b1;
    state
        .gic
        .pending
        .borrow_mut()
        .push(crate::vgic::DOORBELL_SGI);
    state.handle_physical(&system, 2);
    assert_eq!(state.gic.empty_list_registers(), 0b1111);
    assert_eq!(state.gic.fast_flags.borrow()[2], 0);
}

#[test]
fn there_is_no_doorbell_fast_path_on_a_gicv2() {
    let (system, mut state) = setup_channel(2);
    state.gic.v3 = false;
    enable(&state, &system, 1, DOORBELL);
    assert!(state.gic.fast_rings.borrow().is_empty());
    assert_eq!(state.gic.fast_lrs.borrow()[2][0], 0);
}
