//! What each physical CPU does, over the hardware: the board's [`Machine`] (the hypervisor's
//! globals, the device models behind their locks, the GIC and the firmware), the CPU loop
//! between guests, and applying each trap's [`Outcome`].
//!
//! The decisions are in [`crate::vcpu`] (pure, host-tested over a fake machine); this file
//! only carries them out. Its two `unsafe` calls are `arch` contracts only the board side can
//! vouch for (which stage-2 table belongs to this CPU's partition, and that nothing on the stack
//! is used after leaving a guest); each says why it holds.

use core::fmt;
use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use crate::arch::{self, GuestEntry, Resume, TrapFrame};
use crate::devices::sbsa_watchdog::Frame;
use crate::devices::{self, DeviceAccess, DeviceId, MmioFault};
use crate::doorbell::PeerDown;
use crate::interrupts;
use crate::println;
use crate::smccc::function_id::psci::SYSTEM_OFF as PSCI_SYSTEM_OFF;
use crate::smccc::{self, Action, Call};
use crate::system::{Partition, System, SYSTEM};
use crate::trap::{Exit, Snapshot};
use crate::trap_stats;
use crate::vcpu::entry::try_enter;
use crate::vcpu::policy::{self, Trap};
use crate::vcpu::watchdog;
use crate::vcpu::{Machine, Next, Outcome, Power};
use crate::MAX_CPUS;

mod sysreg_board;
mod virtio_board;
mod vsock_board;

static POWER: [AtomicU8; MAX_CPUS] = [const { AtomicU8::new(Power::Off as u8) }; MAX_CPUS];
/// Whether each physical CPU is currently inside its guest (between entry and its last trap).
static IN_GUEST: [AtomicBool; MAX_CPUS] = [const { AtomicBool::new(false) }; MAX_CPUS];
/// Entry point and context id of a pending CPU_ON (or restart), per physical CPU.
static BOOT_REQUEST: [spin::Mutex<(u64, u64)>; MAX_CPUS] =
    [const { spin::Mutex::new((0, 0)) }; MAX_CPUS];

/// The machine as the trap policy sees it, on the board.
struct Board<'a> {
    system: &'a System,
}

impl Machine for Board<'_> {
    fn power(&self, cpu: usize) -> Power {
        Power::from_u8(POWER.get(cpu).map_or(0, |p| p.load(Ordering::Acquire)))
    }

    fn set_power(&mut self, cpu: usize, power: Power) {
        if let Some(p) = POWER.get(cpu) {
            p.store(power as u8, Ordering::Release);
        }
    }

    fn claim_power_on(&mut self, cpu: usize) -> Result<(), Power> {
        let state = POWER.get(cpu).ok_or(Power::Off)?;
        state
            .compare_exchange(
                Power::Off as u8,
                Power::OnPending as u8,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .map(|_| ())
            .map_err(Power::from_u8)
    }

    fn set_boot_request(&mut self, cpu: usize, entry: u64, context: u64) {
        if let Some(request) = BOOT_REQUEST.get(cpu) {
            *request.lock() = (entry, context);
        }
    }

    fn boot_request(&self, cpu: usize) -> (u64, u64) {
        BOOT_REQUEST.get(cpu).map_or((0, 0), |r| *r.lock())
    }

    fn in_guest(&self, cpu: usize) -> bool {
        IN_GUEST
            .get(cpu)
            .is_some_and(|flag| flag.load(Ordering::SeqCst))
    }

    fn set_in_guest(&mut self, cpu: usize, inside: bool) {
        if let Some(flag) = IN_GUEST.get(cpu) {
            flag.store(inside, Ordering::SeqCst);
        }
    }

    fn wait_until_out(&mut self, cpu: usize) {
        while self.in_guest(cpu) {
            core::hint::spin_loop();
        }
    }

    fn kick(&mut self, cpu: usize) {
        interrupts::kick(self.system, cpu);
    }

    fn wait_for_interrupt(&mut self) {
        arch::wait_for_interrupt();
    }

    fn handle_interrupts(&mut self, cpu: usize) {
        // A hypervisor failure or a halt elsewhere kicks every CPU: it parks here, at its
        // next interrupt.
        if must_park() {
            arch::park()
        }
        interrupts::handle_physical(self.system, cpu);
    }

    fn smccc(&mut self, partition: &Partition, vcpu: usize, call: &Call) -> Action {
        let mut caller = crate::caller::RunningVcpu { partition, vcpu };
        smccc::dispatch(call, &mut caller)
    }

    fn smccc_window(
        &mut self,
        partition: &Partition,
        vcpu: usize,
        call: &Call,
        data_ipa: u64,
    ) -> (Action, [u8; devices::mgmt_window::DATA_SIZE]) {
        let inner = crate::caller::RunningVcpu { partition, vcpu };
        let mut caller = smccc::window_caller::WindowCaller {
            inner: &inner,
            data_ipa,
            data: core::cell::RefCell::new([0; devices::mgmt_window::DATA_SIZE]),
        };
        let action = smccc::dispatch(call, &mut caller);
        (action, caller.data.into_inner())
    }

    fn firmware_call(&mut self, function: u32, args: [u64; 3]) -> Option<[u64; 4]> {
        let [a1, a2, a3] = args;
        self.system
            .firmware_psci
            .then(|| arch::smc_call(function, a1, a2, a3))
    }

    fn ring_doorbell(&mut self, peer: usize, intid: u32) -> Result<(), PeerDown> {
        interrupts::ring_doorbell(self.system, peer, intid)
    }

    #[inline(always)]
    fn mmio(
        &mut self,
        partition: &Partition,
        device: DeviceId,
        access: DeviceAccess,
        store: Option<u64>,
    ) -> Result<u64, MmioFault> {
        match device {
            // One call site for every device but the console: the console's reads keep the
            // small frame they had with the vGIC alone (benchmarks.md, group 3).
            DeviceId::Distributor
            | DeviceId::Redistributors
            | DeviceId::WatchdogControl
            | DeviceId::WatchdogRefresh => device_access(self, partition, device, access, store),
            DeviceId::Management => crate::vcpu::mgmt_window::access(partition, access, store),
            DeviceId::Virtio(index) => {
                virtio_board::access(self.system, partition, index, access, store)
            }
            DeviceId::Console => {
                let Some(console) = &partition.console else {
                    return Ok(0);
                };
                devices::pl011::port::guest_access(
                    self.system,
                    partition.id - 1,
                    console,
                    access,
                    store,
                )
            }
        }
    }

    fn send_sgis(&mut self, partition: &Partition, sender: usize, intid: u32, targets: u64) {
        interrupts::send_sgis(self.system, partition.id - 1, sender, intid, targets);
    }

    fn count_ignored_write(&mut self, partition: &Partition) {
        interrupts::count_foreign_write(partition.id - 1);
    }

    fn guest_instruction(&self, partition: &Partition, elr: u64) -> Option<u32> {
        let pa = arch::translate_guest_va(elr)?;
        arch::partition_ram::PartitionRam::of(partition).read_u32(pa)
    }

    fn print(&mut self, line: fmt::Arguments<'_>) {
        println!("{}", line);
    }

    fn report_stop_statistics(&mut self, partition: &Partition) {
        for &vcpu_cpu in &partition.cpus {
            let mut line: heapless::String<256> = heapless::String::new();
            let [calls, irqs] = arch::fast_path::fast_counts(vcpu_cpu);
            let fast = [calls, arch::console_fast_path::count(vcpu_cpu), irqs];
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
    }

    fn reload_images(&mut self, partition: &Partition) {
        crate::partition::images::load_images(partition, true);
    }

    fn reset_partition_interrupts(&mut self, partition: &Partition) {
        if let Some(console) = &partition.console {
            console.reset();
        }
        virtio_board::reset(partition);
        interrupts::reset_partition(partition.id - 1);
    }

    fn quiesce_vcpu(&mut self, cpu: usize) {
        interrupts::quiesce_vcpu(cpu);
    }

    fn stack_high_water(&self, cpu: usize) -> Option<(u64, u64)> {
        arch::stack::high_water(cpu)
    }

    fn test_overflow_stack(&mut self) {
        #[cfg(feature = "test-hooks")]
        crate::test_hooks::overflow_stack();
    }

    fn test_console_input(&mut self, partition: &Partition, bytes: &[u8]) -> usize {
        #[cfg(feature = "test-hooks")]
        return devices::pl011::console_input(partition.id - 1, bytes);
        #[cfg(not(feature = "test-hooks"))]
        {
            let _ = (partition, bytes);
            0
        }
    }

    fn counter_frequency(&self) -> u64 {
        arch::counter_frequency()
    }

    fn reset_vcpu(&mut self, cpu: usize) {
        interrupts::reset_vcpu(cpu);
        sysreg_board::reset_vcpu();
        if let (Some([calls, irqs]), Some(console)) = (
            arch::fast_path::fast_counters(cpu),
            arch::console_fast_path::counter(cpu),
        ) {
            trap_stats::reset(cpu, arch::counter(), &[calls, console, irqs]);
        }
        // The console fast path answers for this vCPU's virtual PL011 (published afresh by its
        // model at the first access the general path takes; until then: reset values).
        let console = self
            .system
            .slot(cpu)
            .and_then(|(partition, _)| partition.console.as_ref());
        if let Some(console) = console {
            use arch::console_fast_path::{publish, WRITE_OK};
            let uart = console.state.lock();
            publish(
                cpu,
                uart.flags(),
                if uart.data_write_is_plain() {
                    WRITE_OK
                } else {
                    0
                },
            );
        }
        arch::console_fast_path::set_window(cpu, console.map(|c| c.window.start));
    }

    fn counter(&self) -> u64 {
        arch::counter()
    }

    fn set_hyp_timer(&mut self, deadline: Option<u64>) {
        arch::hyp_timer::set(arch::hyp_timer::Alarm::Watchdog, deadline);
    }
}

/// An access to `partition`'s virtual GIC or watchdog; out of line, as the console's writes.
#[inline(never)]
fn device_access(
    board: &mut Board<'_>,
    partition: &Partition,
    device: DeviceId,
    access: DeviceAccess,
    store: Option<u64>,
) -> Result<u64, MmioFault> {
    let frame = match device {
        DeviceId::WatchdogControl => Frame::Control,
        DeviceId::WatchdogRefresh => Frame::Refresh,
        _ => return interrupts::vgic_access(board.system, partition, device, access, store),
    };
    watchdog::access(partition, frame, access, store, board)
}

/// Carries out a management operation typed at the hypervisor console (`Ctrl-] s`, `g`,
/// `r`: docs/console.md), the same one the management calls make, and says how it went. Runs
/// on the CPU that took the console UART's interrupt, so it refuses a partition with a vCPU on
/// this CPU: waiting for that vCPU to leave its guest would wait for itself.
pub fn manage_from_console(system: &System, op: crate::vcpu::manage::ManageOp, target: usize) {
    use crate::vcpu::manage::{manage, ManageError};
    let Some(partition) = system.partitions.get(target) else {
        return;
    };
    let cpu = arch::current_cpu();
    if partition.cpus.contains(&cpu) {
        println!(
            "console: {} runs on CPU {cpu}, which takes the console's interrupt: use a \
             management call (docs/guest-abi.md)",
            partition.name
        );
        return;
    }
    let outcome = match manage(system, op, target, &mut Board { system }) {
        Ok(()) => "ok",
        Err(ManageError::WrongState) => "not in a state for that",
        Err(ManageError::NoSuchPartition) => "no such partition",
    };
    println!("console: {op:?} {}: {outcome}", partition.name);
}

/// Stops partition `target` because a device of its faulted in the SMMU (its `on-fault =
/// "stop"`), as a management STOP would, with reason `device-fault`. Runs on the CPU that drains the SMMU's event queue, so
/// a partition with a vCPU on this CPU is left running (waiting for that vCPU to leave its
/// guest would wait for itself), and the console says so.
pub fn stop_for_device_fault(system: &System, target: usize) {
    use crate::vcpu::manage::{manage_for, ManageOp};
    let Some(partition) = system.partitions.get(target) else {
        return;
    };
    let cpu = arch::current_cpu();
    if partition.cpus.contains(&cpu) {
        println!(
            "SMMU: partition \"{}\" runs on CPU {cpu}, which drains the SMMU's events: not stopped",
            partition.name
        );
        return;
    }
    let reason = crate::partition::StopReason::DeviceFault;
    if manage_for(
        system,
        ManageOp::Stop,
        target,
        reason,
        &mut Board { system },
    )
    .is_ok()
    {
        println!(
            "SMMU: partition \"{}\" stopped for its device's fault",
            partition.name
        );
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
        crate::console::init_cpu(cpu);
    }
    let Some((partition, vcpu)) = system.slot(cpu) else {
        idle(system, cpu)
    };
    // SAFETY: the partition's stage-2 table was built from its validated configuration, maps
    // only what it owns, and lives in the static table pool for ever.
    unsafe { arch::prepare_el2_for_guests(system.vtcr, partition.vttbr, system.gic_sysregs) };
    sysreg_board::set_trap_controls(partition);
    let mut board = Board { system };
    if vcpu == 0 && partition.state() == crate::partition::PartitionState::Running {
        board.set_boot_request(cpu, partition.entry, partition.dtb);
        board.set_power(cpu, Power::OnPending);
    }
    cpu_loop(cpu)
}

/// A CPU without a vCPU: takes (and ignores) interrupts for ever.
fn idle(system: &System, cpu: usize) -> ! {
    loop {
        arch::wait_for_interrupt();
        if must_park() {
            arch::park()
        }
        interrupts::handle_physical(system, cpu);
    }
}

/// The CPU's loop between guests: waits until its vCPU is switched on, then enters the guest.
/// Every exit from a guest for good comes back here, never deeper.
fn cpu_loop(cpu: usize) -> ! {
    let Some(system) = SYSTEM.get() else {
        arch::park()
    };
    let mut board = Board { system };
    loop {
        if let Some(entry) = try_enter(system, cpu, &mut board) {
            arch::enter_guest(&GuestEntry {
                entry: entry.entry,
                x0: entry.x0,
                vmpidr: entry.vmpidr,
            });
        }
        arch::wait_for_interrupt();
        if must_park() {
            arch::park()
        }
        interrupts::handle_physical(system, cpu);
        // A vCPU that is off still has its partition's watchdog to keep time for.
        if let Some(Next::PowerOff) = watchdog::tick_between_guests(system, cpu, &mut board) {
            power_off(system);
        }
    }
}

/// [`cpu_loop`] as [`arch::reset_stack_and_call`] calls it.
extern "C" fn cpu_loop_entry(cpu: usize) -> ! {
    cpu_loop(cpu)
}

/// Handles one trap from the guest running on this CPU, which was at `elr`: decide, then apply.
pub fn handle_trap(frame: &mut TrapFrame, snapshot: &Snapshot, elr: u64) -> Resume {
    let cpu = arch::current_cpu();
    let Some(system) = SYSTEM.get() else {
        arch::park()
    };
    let exit = Exit::decode(snapshot);
    trap_stats::count(cpu, policy::cause(&exit));
    let mut board = Board { system };
    let trap = Trap {
        exit,
        esr: snapshot.esr,
        x: &frame.x,
        elr,
    };
    let outcome = policy::handle_exit(system, cpu, &trap, &mut board);
    apply(system, cpu, &outcome, frame, elr)
}

/// The first callee-saved general register (AAPCS64: x19..x29).
const FIRST_CALLEE_SAVED: u8 = 19;

/// Carries out `outcome` on the trap frame of the guest at `elr` (the only register writes of
/// the trap path), returning where the guest resumes and whether one of x19..x29 was written (the
/// return path reloads those only then).
fn apply(
    system: &System,
    cpu: usize,
    outcome: &Outcome,
    frame: &mut TrapFrame,
    elr: u64,
) -> Resume {
    let mut callee_saved_written = false;
    if let Some(values) = outcome.result {
        if let Some(x) = frame.x.get_mut(..4) {
            x.copy_from_slice(&values);
        }
    }
    if let Some((register, value)) = outcome.load {
        if let Some(slot) = frame.x.get_mut(usize::from(register)) {
            *slot = value;
            callee_saved_written = register >= FIRST_CALLEE_SAVED;
        }
    }
    if outcome.standby {
        arch::wait_for_interrupt();
    }
    match outcome.next {
        Next::Resume => {
            let mut elr = elr.wrapping_add(u64::from(outcome.step));
            if outcome.inject {
                elr = sysreg_board::apply_injection(cpu, elr);
            }
            Resume {
                callee_saved_written: u64::from(callee_saved_written),
                elr,
            }
        }
        // SAFETY: the decision is over and applied: no lock guard or reference into this
        // CPU's stack is live (the frame is abandoned with the guest), so the loop may start
        // again from the stack's top.
        Next::Leave => unsafe { arch::reset_stack_and_call(cpu, cpu_loop_entry) },
        Next::PowerOff => power_off(system),
    }
}

/// Powers the machine off once no partition runs: PSCI SYSTEM_OFF where the firmware has it;
/// else (the Raspberry Pi's stock firmware) every CPU parks with the halt marker, or, when the
/// configuration says `on-last-stop = "reset"`, the board resets through its power-management
/// watchdog. A reset by default would boot the card again and again on a bench.
pub fn power_off(system: &System) -> ! {
    println!("all partitions are off: powering off");
    if system.firmware_psci {
        arch::smc_call(PSCI_SYSTEM_OFF, 0, 0, 0);
    }
    if let (true, Some(base)) = (system.reset_on_last_stop, system.pm_watchdog) {
        println!("HIL:HALT no PSCI: resetting the board through the PM watchdog");
        crate::board_reset::reset_through(base);
    }
    HALTED.store(true, Ordering::Release);
    let cpu = arch::current_cpu();
    for other in (0..system.cpus.len()).filter(|&c| c != cpu) {
        interrupts::kick(system, other);
    }
    println!("HIL:HALT all partitions stopped; every CPU parked (no firmware power-off)");
    arch::park()
}

/// Set once the machine halted: every CPU parks at its next interrupt.
static HALTED: AtomicBool = AtomicBool::new(false);

/// Whether the machine halted or the hypervisor failed: this CPU must park.
fn must_park() -> bool {
    HALTED.load(Ordering::Acquire) || crate::fatal::failed()
}
