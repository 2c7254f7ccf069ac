//! A machine for host tests: power states, boot requests and kicks in plain fields, the real
//! device models behind the bus, the real SMCCC dispatcher, and a log of everything printed.

use std::string::String;
use std::vec::Vec;

use crate::devices::pl011::VirtualPl011;
use crate::devices::sbsa_watchdog::Frame;
use crate::devices::{self, DeviceAccess, DeviceEffect, DeviceEffects, DeviceId, MmioFault};
use crate::doorbell::PeerDown;
use crate::smccc::caller::FakeCaller;
use crate::smccc::{Action, Call};
use crate::system::Partition;
use crate::vgic::distributor::{GicVersion, VirtualDistributor};
use crate::vgic::ports::{redistributor_frame, DistributorPort, RedistributorPort};
use crate::vgic::redistributor::VirtualRedistributor;
use crate::vgic::{Effect, IntidSet};

use super::machine::{Machine, Power};

use bulkhead_config::model::OnStop;
use bulkhead_config::range::Range;

use crate::partition::{Mapping, PartitionState};
use crate::system::{GuestGicLayout, System, VcpuSlot, VirtualConsole};

/// CPUs the fake has.
pub const CPUS: usize = 4;
/// The test system's GIC distributor (IPA = PA, as on QEMU virt).
pub const GICD: u64 = 0x0800_0000;
/// Its GICv3 redistributor region.
pub const GICR: u64 = 0x080a_0000;
/// Each partition's virtual console.
pub const UART: u64 = 0x0900_0000;
/// Each partition's RAM (IPA).
pub const RAM: u64 = 0x4000_0000;

/// The fake machine.
pub struct FakeMachine {
    pub power: [Power; CPUS],
    pub in_guest: [bool; CPUS],
    pub boot: [(u64, u64); CPUS],
    pub kicks: Vec<usize>,
    pub lines: Vec<String>,
    pub sgis: Vec<(usize, u32, u64)>,
    pub ignored_writes: u32,
    pub gic_effects: Vec<Effect>,
    pub console_bytes: Vec<u8>,
    pub distributor: VirtualDistributor,
    pub redistributors: Vec<VirtualRedistributor>,
    pub uart: VirtualPl011,
    pub reloads: usize,
    pub interrupt_resets: usize,
    pub quiesced: Vec<usize>,
    pub resets: Vec<usize>,
    pub interrupts_handled: usize,
    pub waits: usize,
    pub firmware: Option<[u64; 4]>,
    pub firmware_calls: Vec<(u32, [u64; 3])>,
    pub doorbell_up: bool,
    pub rings: Vec<(usize, u32)>,
    pub instruction: Option<u32>,
    /// What `handle_interrupts` does to power states (a kick that carried a stop).
    pub on_interrupt_power: Option<(usize, Power)>,
    /// The generic counter (ticks of [`FREQUENCY`]).
    pub now: u64,
    /// The EL2 timer's deadline, per CPU (as the last `set_hyp_timer` on it left it).
    pub hyp_timer: [Option<u64>; CPUS],
    /// The CPU the fake runs on (`set_hyp_timer` arms its timer).
    pub current: usize,
    /// PMU, debug and ID registers, and RAM cleans (`fake_sysreg.rs`).
    pub sysregs: super::fake_sysreg::FakeSysRegs,
    /// The partition statuses a management call through the window sees.
    pub statuses: Vec<crate::management::PartitionStatus>,
}

/// The fake's counter frequency: 1 kHz (one tick per millisecond).
pub const FREQUENCY: u64 = 1000;

impl FakeMachine {
    pub fn new(version: GicVersion) -> Self {
        FakeMachine {
            power: [Power::Off; CPUS],
            in_guest: [false; CPUS],
            boot: [(0, 0); CPUS],
            kicks: Vec::new(),
            lines: Vec::new(),
            sgis: Vec::new(),
            ignored_writes: 0,
            gic_effects: Vec::new(),
            console_bytes: Vec::new(),
            distributor: VirtualDistributor::new(
                version,
                2,
                IntidSet::default(),
                IntidSet::default(),
            ),
            redistributors: (0..CPUS).map(|_| VirtualRedistributor::new()).collect(),
            uart: VirtualPl011::new(),
            reloads: 0,
            interrupt_resets: 0,
            quiesced: Vec::new(),
            resets: Vec::new(),
            interrupts_handled: 0,
            waits: 0,
            firmware: None,
            firmware_calls: Vec::new(),
            doorbell_up: true,
            rings: Vec::new(),
            instruction: None,
            on_interrupt_power: None,
            now: 0,
            hyp_timer: [None; CPUS],
            current: 0,
            sysregs: Default::default(),
            statuses: Vec::new(),
        }
    }

    /// Whether a printed line contains `text`.
    pub fn printed(&self, text: &str) -> bool {
        self.lines.iter().any(|line| line.contains(text))
    }
}

impl Machine for FakeMachine {
    fn power(&self, cpu: usize) -> Power {
        self.power.get(cpu).copied().unwrap_or(Power::Off)
    }
    fn set_power(&mut self, cpu: usize, power: Power) {
        self.power[cpu] = power;
    }
    fn claim_power_on(&mut self, cpu: usize) -> Result<(), Power> {
        match self.power[cpu] {
            Power::Off => {
                self.power[cpu] = Power::OnPending;
                Ok(())
            }
            other => Err(other),
        }
    }
    fn set_boot_request(&mut self, cpu: usize, entry: u64, context: u64) {
        self.boot[cpu] = (entry, context);
    }
    fn boot_request(&self, cpu: usize) -> (u64, u64) {
        self.boot[cpu]
    }
    fn in_guest(&self, cpu: usize) -> bool {
        self.in_guest[cpu]
    }
    fn set_in_guest(&mut self, cpu: usize, inside: bool) {
        self.in_guest[cpu] = inside;
    }
    fn wait_until_out(&mut self, cpu: usize) {
        // The kicked CPU leaves at once in the fake.
        if self.power[cpu] == Power::Off {
            self.in_guest[cpu] = false;
        }
        assert!(!self.in_guest[cpu], "CPU {cpu} would never leave its guest");
    }
    fn kick(&mut self, cpu: usize) {
        self.kicks.push(cpu);
    }
    fn wait_for_interrupt(&mut self) {
        self.waits += 1;
    }
    fn handle_interrupts(&mut self, _cpu: usize) {
        self.interrupts_handled += 1;
        if let Some((cpu, power)) = self.on_interrupt_power.take() {
            self.power[cpu] = power;
        }
    }
    fn smccc(&mut self, partition: &Partition, vcpu: usize, call: &Call) -> Action {
        let mut caller = FakeCaller {
            id: partition.id,
            vcpus: partition.cpus.len(),
            vcpu,
            allowed: std::vec![0xc200_0001],
            ..FakeCaller::default()
        };
        crate::smccc::dispatch(call, &mut caller)
    }
    fn smccc_window(
        &mut self,
        partition: &Partition,
        vcpu: usize,
        call: &Call,
        data_ipa: u64,
    ) -> (Action, [u8; crate::devices::mgmt_window::DATA_SIZE]) {
        let inner = FakeCaller {
            id: partition.id,
            vcpus: partition.cpus.len(),
            vcpu,
            privileged: partition.privileged,
            statuses: self.statuses.clone(),
            ..FakeCaller::default()
        };
        let mut caller = crate::smccc::window_caller::WindowCaller {
            inner: &inner,
            data_ipa,
            data: core::cell::RefCell::new([0; crate::devices::mgmt_window::DATA_SIZE]),
        };
        let action = crate::smccc::dispatch(call, &mut caller);
        (action, caller.data.into_inner())
    }

    fn firmware_call(&mut self, function: u32, args: [u64; 3]) -> Option<[u64; 4]> {
        self.firmware_calls.push((function, args));
        self.firmware
    }
    fn ring_doorbell(&mut self, peer: usize, intid: u32) -> Result<(), PeerDown> {
        self.rings.push((peer, intid));
        self.doorbell_up.then_some(()).ok_or(PeerDown)
    }
    fn mmio(
        &mut self,
        partition: &Partition,
        device: DeviceId,
        access: DeviceAccess,
        store: Option<u64>,
    ) -> Result<u64, MmioFault> {
        let mut effects = DeviceEffects::new();
        let value = match device {
            DeviceId::Console => {
                let value = devices::perform(&mut self.uart, access, store, &mut effects)?;
                self.console_bytes.extend(self.uart.take_output());
                value
            }
            DeviceId::Management => return super::mgmt_window::access(partition, access, store),
            // The fake machine has no guest memory: virtio devices are tested on their own
            // (`virtio::tests`, `virtio::console::tests`).
            DeviceId::Virtio(_) => 0,
            DeviceId::WatchdogControl => {
                return super::watchdog::access(partition, Frame::Control, access, store, self)
            }
            DeviceId::WatchdogRefresh => {
                return super::watchdog::access(partition, Frame::Refresh, access, store, self)
            }
            DeviceId::Distributor => {
                let cpu = partition.cpus[access.vcpu];
                let mut port = DistributorPort {
                    distributor: &mut self.distributor,
                    private: &mut self.redistributors[cpu].private,
                };
                devices::perform(&mut port, access, store, &mut effects)?
            }
            DeviceId::Redistributors => {
                let Some((target_vcpu, offset)) =
                    redistributor_frame(access.offset, partition.cpus.len())
                else {
                    if store.is_some() {
                        self.ignored_writes += 1;
                    }
                    return Ok(0);
                };
                let cpu = partition.cpus[target_vcpu];
                let mut port = RedistributorPort {
                    redistributor: &mut self.redistributors[cpu],
                    target_vcpu,
                    vcpus: partition.cpus.len(),
                };
                devices::perform(
                    &mut port,
                    DeviceAccess { offset, ..access },
                    store,
                    &mut effects,
                )?
            }
        };
        for effect in effects {
            match effect {
                DeviceEffect::Gic(effect) => self.gic_effects.push(effect),
            }
        }
        Ok(value)
    }
    fn send_sgis(&mut self, _partition: &Partition, sender: usize, intid: u32, targets: u64) {
        self.sgis.push((sender, intid, targets));
    }
    fn count_ignored_write(&mut self, _partition: &Partition) {
        self.ignored_writes += 1;
    }
    fn guest_instruction(&self, _partition: &Partition, _elr: u64) -> Option<u32> {
        self.instruction
    }
    fn print(&mut self, line: core::fmt::Arguments<'_>) {
        self.lines.push(std::format!("{line}"));
    }
    fn report_stop_statistics(&mut self, partition: &Partition) {
        self.lines
            .push(std::format!("HIL:TRAPS partition={}", partition.name));
    }
    fn reload_images(&mut self, _partition: &Partition) {
        self.reloads += 1;
    }
    fn reset_partition_interrupts(&mut self, _partition: &Partition) {
        self.interrupt_resets += 1;
    }
    fn quiesce_vcpu(&mut self, cpu: usize) {
        self.quiesced.push(cpu);
    }
    fn stack_high_water(&self, cpu: usize) -> Option<(u64, u64)> {
        (cpu < CPUS).then_some((1024 + cpu as u64, 16384))
    }
    fn test_overflow_stack(&mut self) {
        self.lines.push("overflow".into());
    }
    fn test_console_input(&mut self, _partition: &Partition, bytes: &[u8]) -> usize {
        self.uart.receive(bytes)
    }
    fn reset_vcpu(&mut self, cpu: usize) {
        self.resets.push(cpu);
    }
    fn counter(&self) -> u64 {
        self.now
    }
    fn set_hyp_timer(&mut self, deadline: Option<u64>) {
        self.hyp_timer[self.current] = deadline;
    }

    fn counter_frequency(&self) -> u64 {
        FREQUENCY
    }
}

fn partition(id: usize, name: &str, cpus: &[usize], on_stop: OnStop) -> Partition {
    let mut p = Partition::new(id, name, PartitionState::Running);
    for &cpu in cpus {
        p.cpus.push(cpu).unwrap();
    }
    p.memory
        .push(Mapping {
            ipa: RAM,
            pa: 0x8000_0000 * id as u64,
            size: 0x100_0000,
        })
        .unwrap();
    p.entry = RAM;
    p.dtb = RAM + 0xf0_0000;
    p.on_stop = on_stop;
    p.console = Some(VirtualConsole::new(
        Range {
            start: UART,
            size: 0x1000,
        },
        bulkhead_config::CONSOLE_INTID,
    ));
    p
}

/// Partition "linux" on CPUs 0-1 and "rtos" on CPU 2, each with 16 MiB of RAM at IPA
/// [`RAM`] and a virtual console at [`UART`]; the GICv3 layout of QEMU virt.
pub fn system(on_stop: OnStop) -> System {
    let gic = GuestGicLayout {
        distributor: Range {
            start: GICD,
            size: 0x1_0000,
        },
        redistributors: Some(Range {
            start: GICR,
            size: 0xf6_0000,
        }),
    };
    let mut system = System {
        partitions: heapless::Vec::new(),
        cpus: heapless::Vec::from_slice(&[0, 1, 2, 3]).unwrap(),
        slots: [None; crate::MAX_CPUS],
        vtcr: 0,
        firmware_psci: true,
        gic_sysregs: true,
        gic,
        pm_watchdog: None,
        console_focus: None,
        console_baud: 0,
        reset_on_last_stop: false,
    };
    for (index, (name, cpus)) in [("linux", &[0usize, 1][..]), ("rtos", &[2][..])]
        .into_iter()
        .enumerate()
    {
        let mut p = partition(index + 1, name, cpus, on_stop);
        p.register_devices(&gic).unwrap();
        for (vcpu, &cpu) in cpus.iter().enumerate() {
            system.slots[cpu] = Some(VcpuSlot {
                partition: index,
                vcpu,
            });
        }
        system.partitions.push(p).unwrap();
    }
    system
}
