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

use crate::arch::{self, GuestEntry, TrapFrame};
use crate::devices::{
    self, DeviceAccess, DeviceEffect, DeviceEffects, DeviceId, MmioDevice, MmioFault,
};
use crate::doorbell::PeerDown;
use crate::interrupts;
use crate::println;
use crate::smccc::function_id::psci::SYSTEM_OFF as PSCI_SYSTEM_OFF;
use crate::smccc::{self, Action, Call};
use crate::system::{Partition, System, VirtualConsole, SYSTEM};
use crate::trap::{Exit, Snapshot};
use crate::trap_stats;
use crate::vcpu::entry::try_enter;
use crate::vcpu::policy::{self, Trap};
use crate::vcpu::{Machine, Next, Outcome, Power};
use crate::MAX_CPUS;

mod sysreg_board;

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
        // A hypervisor failure elsewhere kicks every CPU: it parks here, at its next interrupt.
        if crate::fatal::failed() {
            arch::park()
        }
        interrupts::handle_physical(self.system, cpu);
    }

    fn smccc(&mut self, partition: &Partition, vcpu: usize, call: &Call) -> Action {
        let mut caller = crate::caller::RunningVcpu { partition, vcpu };
        smccc::dispatch(call, &mut caller)
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
            DeviceId::Distributor | DeviceId::Redistributors => {
                interrupts::vgic_access(self.system, partition, device, access, store)
            }
            DeviceId::Console => {
                let Some(console) = &partition.console else {
                    return Ok(0);
                };
                match store {
                    // A read makes no effects: no effect list to set up. The policy cuts the
                    // value to the access width.
                    None => MmioDevice::read(&mut console.state.lock().0, access),
                    Some(value) => console_write(partition, console, access, value),
                }
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
    }

    fn reload_images(&mut self, partition: &Partition) {
        crate::partition::images::load_images(partition, true);
    }

    fn reset_partition_interrupts(&mut self, partition: &Partition) {
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

    fn reset_vcpu(&mut self, cpu: usize) {
        interrupts::reset_vcpu(cpu);
        sysreg_board::reset_vcpu();
        if let Some(fast) = arch::fast_path::fast_counters(cpu) {
            trap_stats::reset(cpu, arch::counter(), &fast);
        }
    }
}

/// A write to `partition`'s virtual console: a byte written to its data register completes a
/// line, printed with the partition's name. Out of line: the trap path's reads need none of it.
#[inline(never)]
fn console_write(
    partition: &Partition,
    console: &VirtualConsole,
    access: DeviceAccess,
    value: u64,
) -> Result<u64, MmioFault> {
    let mut state = console.state.lock();
    let (uart, lines) = &mut *state;
    let mut effects = DeviceEffects::new();
    let value = devices::perform(uart, access, Some(value), &mut effects)?;
    for effect in &effects {
        if let DeviceEffect::ConsoleByte(byte) = *effect {
            if let Some(line) = lines.push(byte) {
                println!("[{}] {}", partition.name, line);
            }
        }
    }
    Ok(value)
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
        interrupts::handle_physical(system, cpu);
    }
}

/// [`cpu_loop`] as [`arch::reset_stack_and_call`] calls it.
extern "C" fn cpu_loop_entry(cpu: usize) -> ! {
    cpu_loop(cpu)
}

/// Handles one trap from the guest running on this CPU: decide, then apply.
pub fn handle_trap(frame: &mut TrapFrame, snapshot: &Snapshot) {
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
        elr: frame.elr,
    };
    let outcome = policy::handle_exit(system, cpu, &trap, &mut board);
    apply(system, cpu, &outcome, frame);
}

/// Carries out `outcome` on the trap frame (the only register writes of the trap path).
fn apply(system: &System, cpu: usize, outcome: &Outcome, frame: &mut TrapFrame) {
    if let Some(values) = outcome.result {
        if let Some(x) = frame.x.get_mut(..4) {
            x.copy_from_slice(&values);
        }
    }
    if let Some((register, value)) = outcome.load {
        if let Some(slot) = frame.x.get_mut(usize::from(register)) {
            *slot = value;
        }
    }
    frame.elr = frame.elr.wrapping_add(u64::from(outcome.step));
    if outcome.inject {
        sysreg_board::apply_injection(cpu, frame);
    }
    if outcome.standby {
        arch::wait_for_interrupt();
    }
    match outcome.next {
        Next::Resume => {}
        // SAFETY: the decision is over and applied: no lock guard or reference into this
        // CPU's stack is live (the frame is abandoned with the guest), so the loop may start
        // again from the stack's top.
        Next::Leave => unsafe { arch::reset_stack_and_call(cpu, cpu_loop_entry) },
        Next::PowerOff => power_off(system),
    }
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
        crate::board_reset::reset_through(base);
    }
    println!("HIL:HALT (no firmware power-off available)");
    arch::park()
}
