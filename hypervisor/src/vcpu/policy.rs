//! One trap's decision: [`handle_exit`].

use crate::devices::{access, DeviceId, MmioFault};
use crate::partition::{FaultReport, PartitionState, StopReason};
use crate::smccc::{Action, Call, PsciError, SmcccError, VendorError};
use crate::system::{Partition, System};
use crate::trap::{Conduit, Exit, MmioAccess, SysRegId};
use crate::trap_stats::Cause;
use crate::vgic::sgi::decode_sgi1r;

use super::machine::{Machine, Power};
use super::outcome::{Next, Outcome};
use super::{psci, stop};

/// ESR_EL2.IL: the trapped instruction is 32 bits (else 16: T32, which partitions never run,
/// but the syndrome is what decides).
const ESR_IL: u64 = 1 << 25;

/// A trap as the arch layer captured it.
#[derive(Clone, Copy, Debug)]
pub struct Trap<'a> {
    /// The decoded exit.
    pub exit: Exit,
    /// ESR_EL2 as read once at the trap.
    pub esr: u64,
    /// The guest's x0..x30.
    pub x: &'a [u64; 31],
    /// ELR_EL2: the guest's PC.
    pub elr: u64,
}

impl Trap<'_> {
    /// General register `rt` (x31 reads as zero).
    fn register(&self, rt: u8) -> u64 {
        self.x.get(usize::from(rt)).copied().unwrap_or(0)
    }

    /// The length of the trapped instruction.
    fn length(&self) -> u8 {
        if self.esr & ESR_IL != 0 {
            4
        } else {
            2
        }
    }
}

/// The trap counter an exit counts under.
pub fn cause(exit: &Exit) -> Cause {
    match exit {
        Exit::Call { .. } => Cause::Call,
        Exit::DataAbort {
            access: Some(_), ..
        } => Cause::Mmio,
        Exit::SysReg { .. } => Cause::SysReg,
        Exit::Irq => Cause::Irq,
        Exit::Wfx { .. } => Cause::Wfx,
        _ => Cause::Fault,
    }
}

/// Decides what the trap `trap` of the vCPU on physical CPU `cpu` means.
pub fn handle_exit<M: Machine>(system: &System, cpu: usize, trap: &Trap<'_>, m: &mut M) -> Outcome {
    let Some((partition, vcpu)) = system.slot(cpu) else {
        // A CPU with no vCPU never enters a guest: nothing to resume.
        return Outcome::leave();
    };
    let vcpu_trap = VcpuTrap {
        system,
        partition,
        vcpu,
        cpu,
        trap: *trap,
    };
    // The most frequent exit (an emulated device access) tested first on its own: one test
    // rather than a walk down the tree of the match below.
    if let Exit::DataAbort {
        ipa,
        access: Some(access),
        ..
    } = trap.exit
    {
        return vcpu_trap.mmio(ipa, access, m);
    }
    match trap.exit {
        Exit::Call {
            conduit,
            aarch32,
            imm,
        } => vcpu_trap.call(conduit, aarch32, imm, m),
        Exit::SysReg { register, rt, read } if is_sgi_register(register) => {
            let outcome = Outcome::step(trap.length());
            if read {
                // The SGI generation registers are write-only (RAZ for a read).
                return outcome.with_write(rt, 0);
            }
            if register == SysRegId::ICC_SGI1R_EL1 {
                let request = decode_sgi1r(trap.register(rt), vcpu, partition.cpus.len());
                if request.named_outside {
                    m.count_ignored_write(partition);
                }
                if request.targets != 0 {
                    m.send_sgis(partition, vcpu, request.intid, request.targets);
                }
            }
            // Group-0 and other-security-state SGIs: a partition has neither; ignored.
            outcome
        }
        Exit::Wfx { .. } => Outcome::step(trap.length()),
        Exit::Irq => {
            m.handle_interrupts(cpu);
            // The EL2 timer may have been among them: the watchdog's deadline.
            if partition.watchdog.is_some() {
                if let Some(next) = super::watchdog::tick(system, partition, cpu, m) {
                    return stopped(next);
                }
            }
            // A kick may mean the partition was stopped or restarted by another vCPU.
            if partition.state() != PartitionState::Running || m.power(cpu) != Power::On {
                stop::leave(cpu, m);
                return Outcome::leave();
            }
            Outcome::resume()
        }
        Exit::SysReg { register, rt, read } => {
            let (kind, value) = system_register(
                system,
                partition,
                vcpu,
                cpu,
                SysRegTrap {
                    register,
                    rt,
                    read,
                    value: trap.register(rt),
                    esr: trap.esr,
                    elr: trap.elr,
                },
                m,
            );
            match kind {
                SYSREG_DONE => Outcome::step(trap.length()),
                SYSREG_LOADED => Outcome::step(trap.length()).with_write(rt, value),
                SYSREG_POWER_OFF => stopped(Next::PowerOff),
                _ => stopped(Next::Leave),
            }
        }
        // A data abort here has no usable syndrome (one with a syndrome was emulated above).
        Exit::DataAbort { .. }
        | Exit::InstructionAbort { .. }
        | Exit::SError
        | Exit::Unknown { .. } => vcpu_trap.fault(m),
    }
}

fn is_sgi_register(register: SysRegId) -> bool {
    register == SysRegId::ICC_SGI1R_EL1
        || register == SysRegId::ICC_SGI0R_EL1
        || register == SysRegId::ICC_ASGI1R_EL1
}

/// The trap with what it belongs to.
struct VcpuTrap<'a> {
    system: &'a System,
    partition: &'a Partition,
    vcpu: usize,
    cpu: usize,
    trap: Trap<'a>,
}

impl VcpuTrap<'_> {
    /// An SMCCC call.
    fn call<M: Machine>(&self, conduit: Conduit, aarch32: bool, imm: u16, m: &mut M) -> Outcome {
        // HVC leaves ELR past the instruction; a trapped SMC returns to the SMC itself.
        let step = match conduit {
            Conduit::Hvc => 0,
            Conduit::Smc => self.trap.length(),
        };
        let outcome = Outcome::step(step);
        if imm != 0 {
            // SMCCC calls use immediate 0 (DEN0028 2.5); anything else is no call of ours.
            return outcome.with_result([SmcccError::NotSupported.to_register(), 0, 0, 0]);
        }
        let x = |i: u8| self.trap.register(i);
        let call = Call {
            function: x(0) as u32,
            args: [x(1), x(2), x(3), x(4), x(5), x(6)],
            aarch32,
        };
        let result = |value: u64| Outcome::step(step).with_result([value, 0, 0, 0]);
        match m.smccc(self.partition, self.vcpu, &call) {
            Action::Return(values) => outcome.with_result(values),
            Action::SystemOff => self.stop(StopReason::SystemOff, m),
            Action::SystemReset => self.stop(StopReason::SystemReset, m),
            Action::CpuOn {
                target,
                entry,
                context,
            } => result(psci::cpu_on(self.partition, target, entry, context, m)),
            Action::CpuOff => {
                // Off first, then look at the others: of two vCPUs going off at once, at
                // least one sees itself last (and `try_stop` lets only one carry it out).
                m.set_power(self.cpu, Power::Off);
                if psci::is_last_running_vcpu(self.partition, self.cpu, m) {
                    // The partition's last vCPU going off is the partition going off, as
                    // SYSTEM_OFF would: reported, and counted for the machine's power-off.
                    return self.stop(StopReason::CpuOff, m);
                }
                stop::leave(self.cpu, m);
                Outcome::leave()
            }
            Action::CpuSuspend { .. } => Outcome {
                // Every suspend state is treated as standby: wait for an interrupt, return.
                standby: true,
                ..result(0)
            },
            Action::AffinityInfo { target, level } => {
                result(psci::affinity_info(self.partition, target, level, m))
            }
            Action::RingDoorbell { peer, intid } => result(match m.ring_doorbell(peer, intid) {
                Ok(()) => 0,
                Err(crate::doorbell::PeerDown) => VendorError::PeerDown.to_register(),
            }),
            Action::StackHighWater { vcpu } => {
                let cpu = self.partition.cpus.get(vcpu).copied();
                match cpu.and_then(|cpu| m.stack_high_water(cpu)) {
                    Some((high_water, size)) => outcome.with_result([0, high_water, size, 0]),
                    None => result(super::policy::invalid_parameters()),
                }
            }
            Action::TestConsoleInput { bytes, len } => {
                let bytes = bytes.get(..len).unwrap_or_default();
                let taken = m.test_console_input(self.partition, bytes);
                outcome.with_result([0, taken as u64, 0, 0])
            }
            Action::Manage { op, target } => {
                result(super::manage::result(self.system, op, target, m))
            }
            Action::TestOverflowStack => {
                // Does not return in a test-hooks build.
                m.test_overflow_stack();
                result(SmcccError::NotSupported.to_register())
            }
            Action::ForwardToFirmware { function, args } => {
                let [a1, a2, a3, ..] = args;
                let values = m.firmware_call(function, [a1, a2, a3]).unwrap_or([
                    SmcccError::NotSupported.to_register(),
                    0,
                    0,
                    0,
                ]);
                outcome.with_result(values)
            }
        }
    }

    /// Performs an emulated access at `ipa`: the device is found on the partition's bus, the
    /// access checked against the rules of [`access`], and a load's register written.
    #[inline(always)]
    fn mmio<M: Machine>(&self, ipa: u64, decoded: MmioAccess, m: &mut M) -> Outcome {
        let Some((device, offset)) = self.partition.bus.lookup(ipa) else {
            return self.fault(m);
        };
        let Ok(request) = access::check(&decoded, ipa, offset, self.vcpu) else {
            return self.fault(m);
        };
        let outcome = Outcome::step(self.trap.length());
        if decoded.write {
            let value = request.width.truncate(self.trap.register(decoded.register));
            return match m.mmio(self.partition, device, request, Some(value)) {
                Ok(_) if device == DeviceId::Management => {
                    super::mgmt_window::run_pending(self.system, self.partition, self.vcpu, m);
                    outcome
                }
                Ok(_) => outcome,
                Err(MmioFault::Unaligned | MmioFault::Width) => self.fault(m),
            };
        }
        match m.mmio(self.partition, device, request, None) {
            Ok(raw) => outcome.with_write(decoded.register, access::loaded_value(&decoded, raw)),
            Err(MmioFault::Unaligned | MmioFault::Width) => self.fault(m),
        }
    }

    /// Reports the trap as a fault and stops the partition.
    #[inline(always)]
    fn fault<M: Machine>(&self, m: &mut M) -> Outcome {
        let trap = FaultedTrap {
            exit: self.trap.exit,
            esr: self.trap.esr,
            elr: self.trap.elr,
        };
        stopped(report_fault(
            self.system,
            self.partition,
            self.vcpu,
            self.cpu,
            trap,
            m,
        ))
    }

    /// Stops (or restarts) the partition for `reason`.
    #[inline(always)]
    fn stop<M: Machine>(&self, reason: StopReason, m: &mut M) -> Outcome {
        stopped(stop_partition(
            self.system,
            self.partition,
            self.cpu,
            reason,
            m,
        ))
    }
}

/// A trapped system register access, copied out of the trap for the call out of line (as
/// [`FaultedTrap`]: the trap itself then stays in registers on the frequent paths).
struct SysRegTrap {
    register: SysRegId,
    rt: u8,
    read: bool,
    /// Xt (for a write).
    value: u64,
    esr: u64,
    elr: u64,
}

/// [`system_register`]'s answers (with a value in the second register for a load).
const SYSREG_DONE: u64 = 0;
const SYSREG_LOADED: u64 = 1;
const SYSREG_LEAVE: u64 = 2;
const SYSREG_POWER_OFF: u64 = 3;

/// Set/way, ID, PMU and debug registers (`sysreg`); anything else is a fault. Out of line and
/// cold (rare), returning two registers rather than an `Outcome` (which would put every path's
/// outcome in memory): what happened, and a load's value.
#[cold]
#[inline(never)]
fn system_register<M: Machine>(
    system: &System,
    partition: &Partition,
    vcpu: usize,
    cpu: usize,
    trap: SysRegTrap,
    m: &mut M,
) -> (u64, u64) {
    let SysRegTrap {
        register,
        rt,
        read,
        value,
        esr,
        elr,
    } = trap;
    match super::sysreg::access(partition, register, read, value, m) {
        Some(Some(loaded)) => (SYSREG_LOADED, loaded),
        Some(None) => (SYSREG_DONE, 0),
        None => {
            let exit = Exit::SysReg { register, rt, read };
            let faulted = FaultedTrap { exit, esr, elr };
            match report_fault(system, partition, vcpu, cpu, faulted, m) {
                Next::PowerOff => (SYSREG_POWER_OFF, 0),
                _ => (SYSREG_LEAVE, 0),
            }
        }
    }
}

/// What a fault report needs of the trap, copied out of it for the call out of line (the trap
/// itself then stays in registers on the paths that make no such call).
struct FaultedTrap {
    exit: Exit,
    esr: u64,
    elr: u64,
}

/// [`VcpuTrap::fault`]'s work, out of line (cold: once per partition run). Returns only where
/// the vCPU goes, in a register: an outcome returned through memory would put every path's
/// outcome in memory.
#[cold]
#[inline(never)]
fn report_fault<M: Machine>(
    system: &System,
    partition: &Partition,
    vcpu: usize,
    cpu: usize,
    trap: FaultedTrap,
    m: &mut M,
) -> Next {
    let FaultedTrap { exit, esr, elr } = trap;
    if super::inject::data_abort(partition, vcpu, &exit, m) {
        return Next::Resume;
    }
    let report = FaultReport {
        partition: &partition.name,
        id: partition.id,
        vcpu,
        cpu,
        exit,
        esr,
        elr,
        instruction: m.guest_instruction(partition, elr),
        emulated: match exit {
            Exit::DataAbort { ipa, .. } => partition.bus.contains(ipa),
            _ => false,
        },
        guest: m.guest_exception(),
    };
    m.print(format_args!("{report}"));
    stop_partition(system, partition, cpu, StopReason::Fault, m)
}

/// [`VcpuTrap::stop`]'s work, out of line (cold), returning where the vCPU goes.
#[cold]
#[inline(never)]
fn stop_partition<M: Machine>(
    system: &System,
    partition: &Partition,
    cpu: usize,
    reason: StopReason,
    m: &mut M,
) -> Next {
    stop::stop_partition(system, partition, cpu, reason, m)
}

/// The outcome of a stop that sends the vCPU to `next`: the machine powers off, or the vCPU
/// leaves its guest.
#[inline(always)]
fn stopped(next: Next) -> Outcome {
    match next {
        Next::PowerOff => Outcome {
            next: Next::PowerOff,
            ..Outcome::resume()
        },
        Next::Leave => Outcome::leave(),
        // Only an injected data abort resumes after a fault.
        Next::Resume => Outcome {
            inject: true,
            ..Outcome::resume()
        },
    }
}

/// PSCI's INVALID_PARAMETERS as a register value (for callers of [`psci`]).
pub(super) fn invalid_parameters() -> u64 {
    PsciError::InvalidParameters.to_register()
}
