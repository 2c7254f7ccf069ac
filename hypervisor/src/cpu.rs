//! What each physical CPU does: run its vCPU, and apply the trap policy to each exit.
//!
//! Each physical CPU runs at most one vCPU, pinned. A vCPU is off, on-pending (PSCI CPU_ON
//! sent, not yet entered) or on. A partition stops or restarts as a whole: the vCPU that
//! decides it kicks the partition's other CPUs, which park themselves.

use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use bulkhead_config::model::OnStop;

use crate::arch::{self, GuestEntry, TrapFrame};
use crate::interrupts;
use crate::partition::{FaultReport, PartitionState, StopReason};
use crate::println;
use crate::smccc::{self, Action, Call, PsciError};
use crate::system::{Partition, System, SYSTEM};
use crate::trap::{Conduit, Exit, MmioAccess, Snapshot, SysRegId};
use crate::trap_stats::{self, Cause};
use crate::vuart::UartEffect;
use crate::MAX_CPUS;

/// VMPIDR_EL2 bit 31 is RES1.
const VMPIDR_RES1: u64 = 1 << 31;
/// PSCI SYSTEM_OFF (32-bit form), for powering the machine off.
const PSCI_SYSTEM_OFF: u32 = 0x8400_0008;
/// AFFINITY_INFO results (PSCI DEN0022 5.1.5).
const AFFINITY_ON: u64 = 0;
const AFFINITY_OFF: u64 = 1;
const AFFINITY_ON_PENDING: u64 = 2;

/// A vCPU's power state, per physical CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Power {
    Off = 0,
    OnPending = 1,
    On = 2,
}

static POWER: [AtomicU8; MAX_CPUS] = [const { AtomicU8::new(Power::Off as u8) }; MAX_CPUS];
/// Whether each physical CPU is currently inside its guest (between entry and its last trap).
static IN_GUEST: [AtomicBool; MAX_CPUS] = [const { AtomicBool::new(false) }; MAX_CPUS];
/// Entry point and context id of a pending CPU_ON (or restart), per physical CPU.
static BOOT_REQUEST: [spin::Mutex<(u64, u64)>; MAX_CPUS] =
    [const { spin::Mutex::new((0, 0)) }; MAX_CPUS];

fn set_in_guest(cpu: usize, inside: bool) {
    if let Some(flag) = IN_GUEST.get(cpu) {
        flag.store(inside, Ordering::SeqCst);
    }
}

fn in_guest(cpu: usize) -> bool {
    IN_GUEST
        .get(cpu)
        .is_some_and(|flag| flag.load(Ordering::SeqCst))
}

fn power(cpu: usize) -> Power {
    match POWER.get(cpu).map_or(0, |p| p.load(Ordering::Acquire)) {
        1 => Power::OnPending,
        2 => Power::On,
        _ => Power::Off,
    }
}

fn set_power(cpu: usize, state: Power) {
    if let Some(p) = POWER.get(cpu) {
        p.store(state as u8, Ordering::Release);
    }
}

/// Runs this CPU: sets up its GIC interface, then runs its vCPU when (and whenever) it is
/// switched on. CPUs with no vCPU idle here for ever.
pub fn run(cpu: usize) -> ! {
    let Some(system) = SYSTEM.get() else {
        arch::park()
    };
    if let Some(&mpidr) = system.cpus.get(cpu) {
        interrupts::init_cpu(cpu, mpidr);
    }
    let Some((partition, vcpu)) = system.slot(cpu) else {
        idle(system, cpu)
    };
    // SAFETY: the partition's stage-2 table was built from its validated configuration, maps
    // only what it owns, and lives in the static table pool for ever.
    unsafe { arch::prepare_el2_for_guests(system.vtcr, partition.vttbr, system.gic_sysregs) };
    if vcpu == 0 && partition.state() == PartitionState::Running {
        if let Some(request) = BOOT_REQUEST.get(cpu) {
            *request.lock() = (partition.entry, partition.dtb);
        }
        set_power(cpu, Power::OnPending);
    }
    wait_for_power_on(system, cpu)
}

/// A CPU without a vCPU: takes (and ignores) interrupts for ever.
fn idle(system: &System, cpu: usize) -> ! {
    loop {
        arch::wait_for_interrupt();
        interrupts::handle_physical(system, cpu);
    }
}

/// Parks this CPU until its vCPU is switched on, then enters the guest.
fn wait_for_power_on(system: &System, cpu: usize) -> ! {
    loop {
        if power(cpu) == Power::OnPending {
            let Some((partition, vcpu)) = system.slot(cpu) else {
                arch::park()
            };
            // Announce the entry before checking the partition's state (both sequentially
            // consistent): a vCPU stopping the partition either sees this CPU in its guest and
            // waits for it, or this CPU sees the partition stopped and stays out.
            set_in_guest(cpu, true);
            if partition.state() == PartitionState::Running && power(cpu) == Power::OnPending {
                let (entry, context) = BOOT_REQUEST.get(cpu).map_or((0, 0), |r| *r.lock());
                interrupts::reset_vcpu(cpu);
                if let Some(fast) = arch::fast_path::fast_counters(cpu) {
                    trap_stats::reset(cpu, arch::counter(), &fast);
                }
                set_power(cpu, Power::On);
                println!(
                    "HIL:PART {} UP cpu={} vcpu={} entry={:#x}",
                    partition.name, cpu, vcpu, entry
                );
                arch::enter_guest(&GuestEntry {
                    entry,
                    x0: context,
                    vmpidr: VMPIDR_RES1 | vcpu as u64,
                });
            }
            set_in_guest(cpu, false);
            set_power(cpu, Power::Off);
        }
        arch::wait_for_interrupt();
        interrupts::handle_physical(system, cpu);
    }
}

/// Handles one trap from the guest running on this CPU.
pub fn handle_trap(frame: &mut TrapFrame, snapshot: &Snapshot) {
    let cpu = arch::current_cpu();
    let Some(system) = SYSTEM.get() else {
        arch::park()
    };
    let Some((partition, vcpu)) = system.slot(cpu) else {
        arch::park()
    };
    let index = partition.id - 1;
    let exit = Exit::decode(snapshot);
    trap_stats::count(
        cpu,
        match exit {
            Exit::Call { .. } => Cause::Call,
            Exit::DataAbort {
                access: Some(_), ..
            } => Cause::Mmio,
            Exit::SysReg { .. } => Cause::SysReg,
            Exit::Irq => Cause::Irq,
            Exit::Wfx { .. } => Cause::Wfx,
            _ => Cause::Fault,
        },
    );
    match exit {
        Exit::Call { conduit, imm, .. } if imm != 0 => {
            // SMCCC calls use immediate 0; anything else is not a call Bulkhead offers.
            if conduit == Conduit::Smc {
                frame.elr += 4;
            }
            frame.x[..4].copy_from_slice(&[smccc::SmcccError::NotSupported.to_register(), 0, 0, 0]);
        }
        Exit::Call {
            conduit, aarch32, ..
        } => {
            if conduit == Conduit::Smc {
                // A trapped SMC returns to the SMC itself; step over it.
                frame.elr += 4;
            }
            let call = Call {
                function: frame.x[0] as u32,
                args: [
                    frame.x[1], frame.x[2], frame.x[3], frame.x[4], frame.x[5], frame.x[6],
                ],
                aarch32,
            };
            let mut caller = crate::caller::RunningVcpu { partition, vcpu };
            let action = smccc::dispatch(&call, &mut caller);
            apply_action(system, partition, cpu, action, frame);
        }
        Exit::DataAbort {
            ipa,
            access: Some(access),
            ..
        } if emulate_mmio(system, partition, cpu, vcpu, ipa, access, frame) => {
            frame.elr += 4;
        }
        Exit::SysReg { register, rt, read } if is_sgi_register(register) => {
            if read {
                set_register(frame, rt, 0);
            } else if register == SysRegId::ICC_SGI1R_EL1 {
                interrupts::send_sgi(system, index, vcpu, get_register(frame, rt));
            }
            frame.elr += 4;
        }
        Exit::Wfx { .. } => frame.elr += 4,
        Exit::Irq => {
            interrupts::handle_physical(system, cpu);
            // A kick may mean the partition was stopped or restarted by another vCPU.
            if partition.state() != PartitionState::Running || power(cpu) != Power::On {
                leave_guest(system, cpu);
            }
        }
        Exit::DataAbort { .. }
        | Exit::InstructionAbort { .. }
        | Exit::SysReg { .. }
        | Exit::SError
        | Exit::Unknown { .. } => {
            let report = FaultReport {
                partition: &partition.name,
                id: partition.id,
                vcpu,
                cpu,
                exit,
                esr: snapshot.esr,
                elr: frame.elr,
                instruction: read_guest_instruction(partition, frame.elr),
                emulated: match exit {
                    Exit::DataAbort { ipa, .. } => is_emulated(system, partition, ipa),
                    _ => false,
                },
            };
            println!("{}", report);
            stop(system, partition, cpu, StopReason::Fault, frame);
        }
    }
}

fn is_sgi_register(register: SysRegId) -> bool {
    register == SysRegId::ICC_SGI1R_EL1
        || register == SysRegId::ICC_SGI0R_EL1
        || register == SysRegId::ICC_ASGI1R_EL1
}

fn get_register(frame: &TrapFrame, rt: u8) -> u64 {
    frame.x.get(usize::from(rt)).copied().unwrap_or(0)
}

fn set_register(frame: &mut TrapFrame, rt: u8, value: u64) {
    if let Some(slot) = frame.x.get_mut(usize::from(rt)) {
        *slot = value;
    }
}

fn apply_action(
    system: &System,
    partition: &Partition,
    cpu: usize,
    action: Action,
    frame: &mut TrapFrame,
) {
    let result =
        |frame: &mut TrapFrame, value: u64| frame.x[..4].copy_from_slice(&[value, 0, 0, 0]);
    match action {
        Action::Return(values) => frame.x[..4].copy_from_slice(&values),
        Action::SystemOff => stop(system, partition, cpu, StopReason::SystemOff, frame),
        Action::SystemReset => stop(system, partition, cpu, StopReason::SystemReset, frame),
        Action::CpuOn {
            target,
            entry,
            context,
        } => result(frame, cpu_on(system, partition, target, entry, context)),
        Action::CpuOff => {
            set_power(cpu, Power::Off);
            if partition.cpus.iter().all(|&c| power(c) == Power::Off) {
                // Its last running vCPU switched itself off: the partition is off.
                stop(system, partition, cpu, StopReason::CpuOff, frame);
            }
            leave_guest(system, cpu);
        }
        Action::StackHighWater { vcpu } => {
            let usage = partition
                .cpus
                .get(vcpu)
                .and_then(|&c| arch::stack::high_water(c));
            frame.x[..4].copy_from_slice(&match usage {
                Some((high_water, size)) => [0, high_water, size, 0],
                None => [PsciError::InvalidParameters.to_register(), 0, 0, 0],
            });
        }
        Action::TestOverflowStack => crate::test_hooks::overflow_stack(),
        Action::CpuSuspend { .. } => {
            // Every suspend state is treated as standby: wait for an interrupt, then return.
            arch::wait_for_interrupt();
            result(frame, 0);
        }
        Action::AffinityInfo { target, level } => {
            let value = match (level, target_cpu(partition, target)) {
                (0, Some(target_cpu)) => match power(target_cpu) {
                    Power::On => AFFINITY_ON,
                    Power::Off => AFFINITY_OFF,
                    Power::OnPending => AFFINITY_ON_PENDING,
                },
                _ => PsciError::InvalidParameters.to_register(),
            };
            result(frame, value);
        }
        Action::RingDoorbell { peer, intid } => {
            let value = match interrupts::ring_doorbell(system, peer, intid) {
                Ok(()) => 0,
                Err(interrupts::PeerDown) => smccc::VendorError::PeerDown.to_register(),
            };
            result(frame, value);
        }
        Action::ForwardToFirmware { function, args } => {
            let values = if system.firmware_psci {
                arch::smc_call(function, args[0], args[1], args[2])
            } else {
                [smccc::SmcccError::NotSupported.to_register(), 0, 0, 0]
            };
            frame.x[..4].copy_from_slice(&values);
        }
    }
}

/// The physical CPU of the vCPU whose virtual MPIDR is `target` in `partition`.
fn target_cpu(partition: &Partition, target: u64) -> Option<usize> {
    // vMPIDRs are 0..n-1 in Aff0; any other affinity bits name a CPU outside the partition.
    if target & !0xff != 0 {
        return None;
    }
    partition.cpus.get(target as usize).copied()
}

/// PSCI CPU_ON for a vCPU of the caller's own partition.
fn cpu_on(system: &System, partition: &Partition, target: u64, entry: u64, context: u64) -> u64 {
    let Some(target_cpu) = target_cpu(partition, target) else {
        return PsciError::InvalidParameters.to_register();
    };
    if partition.ram_to_pa(entry, 4).is_none() {
        return PsciError::InvalidAddress.to_register();
    }
    let Some(state) = POWER.get(target_cpu) else {
        return PsciError::InvalidParameters.to_register();
    };
    match state.compare_exchange(
        Power::Off as u8,
        Power::OnPending as u8,
        Ordering::AcqRel,
        Ordering::Acquire,
    ) {
        Ok(_) => {}
        Err(current) if current == Power::On as u8 => return PsciError::AlreadyOn.to_register(),
        Err(_) => return PsciError::OnPending.to_register(),
    }
    if let Some(request) = BOOT_REQUEST.get(target_cpu) {
        *request.lock() = (entry, context);
    }
    interrupts::kick(system, target_cpu);
    0
}

/// Leaves the guest for good on this CPU: parks until the vCPU is switched on again.
fn leave_guest(system: &System, cpu: usize) -> ! {
    if power(cpu) == Power::On {
        set_power(cpu, Power::Off);
    }
    // Quiesce the vCPU's virtual CPU interface now, not at its next power-on: list registers
    // still pending would keep a virtual IRQ asserted, which wakes this CPU's `wfi` at once
    // (QEMU counts it as work even at EL2), and the busy loop that follows starves every other
    // vCPU of QEMU's lock; the guest's timer would keep firing too. Hardware interrupts the
    // guest never deactivated are deactivated here.
    interrupts::quiesce_vcpu(cpu);
    set_in_guest(cpu, false);
    let _ = system;
    // SAFETY: the trap path holds no lock guard here and nothing refers to its frames.
    unsafe { arch::reset_stack_and_call(cpu, wait_again) }
}

/// [`wait_for_power_on`] from the top of this CPU's stack.
extern "C" fn wait_again(cpu: usize) -> ! {
    let Some(system) = SYSTEM.get() else {
        arch::park()
    };
    wait_for_power_on(system, cpu)
}

/// Emulates an access to the partition's virtual devices; `false` if `ipa` is none of them.
fn emulate_mmio(
    system: &System,
    partition: &Partition,
    cpu: usize,
    vcpu: usize,
    ipa: u64,
    access: MmioAccess,
    frame: &mut TrapFrame,
) -> bool {
    // Device registers are accessed at their natural alignment; anything else is a guest bug
    // a real device would abort (reported as a fault below).
    if !ipa.is_multiple_of(u64::from(access.size.max(1))) {
        return false;
    }
    let index = partition.id - 1;
    let value = if access.write {
        Some(get_register(frame, access.register))
    } else {
        None
    };
    let read = if let Some(offset) = window_offset(system.gic.distributor, ipa) {
        interrupts::distributor_access(system, index, cpu, vcpu, offset, access.size, value)
    } else if let Some(offset) = system
        .gic
        .redistributors
        .and_then(|r| window_offset(r, ipa))
    {
        let frame_index = (offset / crate::vgic::redistributor::FRAME_STRIDE) as usize;
        if frame_index >= partition.cpus.len() {
            // Beyond the partition's last redistributor: reads as zero, writes ignored.
            if access.write {
                interrupts::count_foreign_write(index);
            }
            0
        } else {
            interrupts::redistributor_access(
                system,
                index,
                frame_index,
                offset % crate::vgic::redistributor::FRAME_STRIDE,
                access.size,
                value,
            )
        }
    } else if let Some(console) = &partition.console {
        let Some(offset) = ipa
            .checked_sub(console.window.start)
            .filter(|&o| o < console.window.size)
        else {
            return false;
        };
        let mut state = console.state.lock();
        match value {
            Some(value) => {
                if let UartEffect::Output(byte) = state.0.write(offset & !3, value as u32) {
                    if let Some(line) = state.1.push(byte) {
                        println!("[{}] {}", partition.name, line);
                    }
                }
                0
            }
            None => u64::from(state.0.read(offset & !3)),
        }
    } else {
        return false;
    };
    if !access.write {
        let value = if access.sixty_four || access.size == 8 {
            read
        } else {
            read & 0xffff_ffff
        };
        set_register(frame, access.register, value);
    }
    true
}

/// Whether `ipa` is in one of the partition's emulated device windows.
fn is_emulated(system: &System, partition: &Partition, ipa: u64) -> bool {
    window_offset(system.gic.distributor, ipa).is_some()
        || system
            .gic
            .redistributors
            .and_then(|r| window_offset(r, ipa))
            .is_some()
        || partition
            .console
            .as_ref()
            .and_then(|c| window_offset(c.window, ipa))
            .is_some()
}

/// The offset of `ipa` in `window`, if inside.
fn window_offset(window: bulkhead_config::range::Range, ipa: u64) -> Option<u64> {
    ipa.checked_sub(window.start)
        .filter(|&offset| offset < window.size)
}

fn read_guest_instruction(partition: &Partition, elr: u64) -> Option<u32> {
    let pa = arch::translate_guest_va(elr)?;
    if pa % 4 != 0 || !partition.owns_pa(pa) {
        return None;
    }
    // SAFETY: `pa` is 4-byte aligned RAM of this partition, identity-mapped at EL2.
    Some(unsafe { arch::memory::read_phys_u32(pa) })
}

/// Stops the partition running on this CPU (all its vCPUs), then restarts it or parks.
fn stop(
    system: &System,
    partition: &Partition,
    cpu: usize,
    reason: StopReason,
    frame: &mut TrapFrame,
) {
    let restart = reason == StopReason::SystemReset || partition.on_stop == OnStop::Restart;
    partition.set_state(PartitionState::Stopped);
    // Recall the partition's other vCPUs and wait until they have left their guests.
    for &other in partition.cpus.iter().filter(|&&c| c != cpu) {
        if power(other) != Power::Off {
            set_power(other, Power::Off);
            interrupts::kick(system, other);
        }
    }
    set_power(cpu, Power::Off);
    set_in_guest(cpu, false);
    for &other in partition.cpus.iter() {
        while in_guest(other) {
            core::hint::spin_loop();
        }
    }
    if restart {
        println!(
            "HIL:PART {} RESTART reason={}",
            partition.name,
            reason.as_str()
        );
        load_images(partition, true);
        interrupts::reset_partition(partition.id - 1);
        partition.set_state(PartitionState::Running);
        let Some(&boot_cpu) = partition.cpus.first() else {
            arch::park()
        };
        if let Some(request) = BOOT_REQUEST.get(boot_cpu) {
            *request.lock() = (partition.entry, partition.dtb);
        }
        set_power(boot_cpu, Power::OnPending);
        if boot_cpu != cpu {
            interrupts::kick(system, boot_cpu);
        }
        let _ = frame;
        leave_guest(system, cpu);
    }
    for &vcpu_cpu in &partition.cpus {
        let mut line: heapless::String<256> = heapless::String::new();
        let fast = arch::fast_path::fast_counts(vcpu_cpu);
        trap_stats::report(&mut line, &partition.name, vcpu_cpu, arch::counter(), fast);
        println!("{}", line);
        if let Some((high_water, size)) = arch::stack::high_water(vcpu_cpu) {
            println!(
                "HIL:STACK partition={} cpu={vcpu_cpu} high-water={high_water} size={size}",
                partition.name
            );
        }
    }
    println!(
        "HIL:VGIC partition={} ignored-writes={} stray-interrupts={}",
        partition.name,
        interrupts::ignored_writes(partition.id - 1, &partition.cpus),
        partition
            .cpus
            .iter()
            .map(|&c| interrupts::stray_interrupts(c))
            .sum::<u32>()
    );
    // A stopped partition's devices must not keep interrupting: a level-triggered SPI left
    // enabled would be taken, and injected into a vCPU that no longer runs, for ever.
    interrupts::reset_partition(partition.id - 1);
    println!(
        "HIL:PART {} STOPPED reason={}",
        partition.name,
        reason.as_str()
    );
    if system.all_stopped() {
        power_off(system);
    }
    leave_guest(system, cpu);
}

/// Powers the machine off once no partition runs: PSCI SYSTEM_OFF where the firmware has it,
/// else a board reset through the power-management watchdog (Raspberry Pi), else a halt.
pub fn power_off(system: &System) -> ! {
    println!("all partitions are off: powering off");
    if system.firmware_psci {
        arch::smc_call(PSCI_SYSTEM_OFF, 0, 0, 0);
    }
    if let Some(base) = system.pm_watchdog {
        println!("HIL:HALT no PSCI: resetting the board through the PM watchdog");
        // SAFETY: the device tree names this PM block; the EL2 map covers it as device memory
        // and it is a host device no partition can be given.
        unsafe { crate::board_reset::reset(base) }
    }
    println!("HIL:HALT (no firmware power-off available)");
    arch::park()
}

/// Copies the partition's images into its memory (after zeroing all of it on a restart) and
/// makes them visible to a vCPU that starts with its MMU and caches off.
pub fn load_images(partition: &Partition, scrub: bool) {
    if scrub {
        for region in &partition.memory {
            // SAFETY: the partition's own RAM; none of its vCPUs runs (they were recalled).
            unsafe { arch::memory::zero_phys(region.pa, region.size) };
            arch::clean_invalidate_dcache_range(region.pa, region.size);
        }
    }
    for image in &partition.images {
        // SAFETY: validation put every image inside the partition's RAM, and no vCPU of the
        // partition runs while it is loaded.
        unsafe { arch::memory::copy_to_phys(image.pa, image.data) };
        arch::clean_dcache_range(image.pa, image.data.len() as u64);
    }
    arch::invalidate_icache();
}
