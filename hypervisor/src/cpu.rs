//! What each physical CPU does: run its vCPU, and apply the trap policy to each exit.

use bulkhead_config::model::OnStop;

use crate::arch::{self, GuestEntry, TrapFrame};
use crate::partition::{FaultReport, PartitionState, StopReason};
use crate::println;
use crate::smccc::{self, Action, Call};
use crate::system::{Partition, System, SYSTEM};
use crate::trap::{Conduit, Exit, MmioAccess, Snapshot};
use crate::vuart::UartEffect;

/// VMPIDR_EL2 bit 31 is RES1.
const VMPIDR_RES1: u64 = 1 << 31;
/// Guest PSCI function IDs use the 32-bit form for SYSTEM_OFF.
const PSCI_SYSTEM_OFF: u32 = 0x8400_0008;

/// Runs this CPU's vCPU, or parks the CPU if it has none.
pub fn run(cpu: usize) -> ! {
    let Some(system) = SYSTEM.get() else {
        arch::park()
    };
    let Some((partition, vcpu)) = system.slot(cpu) else {
        arch::park()
    };
    // vCPUs other than the first wait for PSCI CPU_ON, which comes with SMP partitions.
    if vcpu != 0 || partition.state() != PartitionState::Running {
        arch::park();
    }
    // SAFETY: the partition's stage-2 table was built from its validated configuration, maps
    // only what it owns, and lives in the static table pool for ever.
    unsafe { arch::prepare_el2_for_guests(system.vtcr, partition.vttbr, system.gic_sysregs) };
    println!(
        "HIL:PART {} UP cpu={} vcpu={} entry={:#x}",
        partition.name, cpu, vcpu, partition.entry
    );
    arch::enter_guest(&entry_state(partition, vcpu))
}

fn entry_state(partition: &Partition, vcpu: usize) -> GuestEntry {
    GuestEntry {
        entry: partition.entry,
        x0: partition.dtb,
        vmpidr: VMPIDR_RES1 | vcpu as u64,
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
    let exit = Exit::decode(snapshot);
    match exit {
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
            match smccc::dispatch(&call, &mut caller) {
                Action::Return(values) => frame.x[..4].copy_from_slice(&values),
                Action::SystemOff => stop(system, partition, StopReason::SystemOff, frame, vcpu),
                Action::SystemReset => {
                    stop(system, partition, StopReason::SystemReset, frame, vcpu)
                }
            }
        }
        Exit::DataAbort {
            ipa,
            access: Some(access),
            ..
        } if emulate_console(partition, ipa, access, frame) => {
            frame.elr += 4;
        }
        Exit::Wfx { .. } => frame.elr += 4,
        // No physical interrupt is enabled yet; a spurious one needs nothing.
        Exit::Irq => {}
        Exit::DataAbort { .. }
        | Exit::InstructionAbort { .. }
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
            };
            println!("{}", report);
            stop(system, partition, StopReason::Fault, frame, vcpu);
        }
    }
}

/// Emulates an access to the partition's virtual PL011; `false` if `ipa` is not in its window.
fn emulate_console(
    partition: &Partition,
    ipa: u64,
    access: MmioAccess,
    frame: &mut TrapFrame,
) -> bool {
    let Some(console) = &partition.console else {
        return false;
    };
    let Some(offset) = ipa
        .checked_sub(console.window.start)
        .filter(|&o| o < console.window.size)
    else {
        return false;
    };
    let register = usize::from(access.register);
    let mut state = console.state.lock();
    if access.write {
        let value = frame.x.get(register).copied().unwrap_or(0) as u32;
        if let UartEffect::Output(byte) = state.0.write(offset & !3, value) {
            if let Some(line) = state.1.push(byte) {
                println!("[{}] {}", partition.name, line);
            }
        }
    } else {
        let value = u64::from(state.0.read(offset & !3));
        if let Some(slot) = frame.x.get_mut(register) {
            *slot = value;
        }
    }
    true
}

fn read_guest_instruction(partition: &Partition, elr: u64) -> Option<u32> {
    let pa = arch::translate_guest_va(elr)?;
    if pa % 4 != 0 || !partition.owns_pa(pa) {
        return None;
    }
    // SAFETY: `pa` is 4-byte aligned RAM of this partition, identity-mapped at EL2.
    Some(unsafe { arch::memory::read_phys_u32(pa) })
}

/// Stops the partition running on this CPU, then restarts it or parks this CPU.
fn stop(
    system: &System,
    partition: &Partition,
    reason: StopReason,
    frame: &mut TrapFrame,
    vcpu: usize,
) {
    let restart = reason == StopReason::SystemReset || partition.on_stop == OnStop::Restart;
    if restart {
        println!(
            "HIL:PART {} RESTART reason={}",
            partition.name,
            reason.as_str()
        );
        load_images(partition, true);
        arch::reset_el1_state(VMPIDR_RES1 | vcpu as u64);
        *frame = TrapFrame::boot(&entry_state(partition, vcpu));
        return;
    }
    partition.set_state(PartitionState::Stopped);
    println!(
        "HIL:PART {} STOPPED reason={}",
        partition.name,
        reason.as_str()
    );
    if system.all_stopped() {
        power_off(system);
    }
    arch::park();
}

/// Powers the machine off once no partition runs.
pub fn power_off(system: &System) -> ! {
    println!("all partitions are off: powering off");
    if system.firmware_psci {
        arch::smc_call(PSCI_SYSTEM_OFF, 0, 0, 0);
    }
    println!("HIL:HALT (no firmware power-off available)");
    arch::park()
}

/// Copies the partition's images into its memory (after zeroing all of it on a restart) and
/// makes them visible to a vCPU that starts with its MMU and caches off.
pub fn load_images(partition: &Partition, scrub: bool) {
    if scrub {
        for region in &partition.memory {
            // SAFETY: the partition's own RAM; its only vCPU is this CPU, now in EL2.
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
