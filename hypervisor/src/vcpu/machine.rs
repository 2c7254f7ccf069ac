//! What the trap policy may ask of the machine.

use core::fmt;

use crate::devices::{DeviceAccess, DeviceId, MmioFault};
use crate::doorbell::PeerDown;
use crate::smccc::{Action, Call};
use crate::system::Partition;

/// A vCPU's power state (one vCPU per physical CPU).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Power {
    /// Off: its CPU waits at EL2 for a CPU_ON.
    Off = 0,
    /// CPU_ON (or a restart) was requested; its CPU has not entered the guest yet.
    OnPending = 1,
    /// Running its guest.
    On = 2,
}

impl Power {
    /// Decodes the value stored in an atomic.
    pub fn from_u8(value: u8) -> Self {
        match value {
            1 => Power::OnPending,
            2 => Power::On,
            _ => Power::Off,
        }
    }
}

/// The machine as the trap policy sees it: the hypervisor's globals and hardware on a board,
/// a fake in host tests. CPUs are logical physical CPU indices; partitions are passed by
/// reference and identified by [`Partition::id`].
pub trait Machine: super::sysreg::SysRegMachine {
    /// The power state of the vCPU on `cpu`.
    fn power(&self, cpu: usize) -> Power;
    /// Sets the power state of the vCPU on `cpu`.
    fn set_power(&mut self, cpu: usize, power: Power);
    /// Moves the vCPU on `cpu` from off to on-pending, atomically; else its current state.
    fn claim_power_on(&mut self, cpu: usize) -> Result<(), Power>;
    /// Records where the vCPU on `cpu` starts when it next enters its guest.
    fn set_boot_request(&mut self, cpu: usize, entry: u64, context: u64);
    /// Where the vCPU on `cpu` starts: (entry IPA, x0).
    fn boot_request(&self, cpu: usize) -> (u64, u64);
    /// Whether `cpu` is between entering its guest and leaving it for good.
    fn in_guest(&self, cpu: usize) -> bool;
    /// Marks `cpu` inside (or outside) its guest (sequentially consistent).
    fn set_in_guest(&mut self, cpu: usize, inside: bool);
    /// Waits until `cpu` has left its guest.
    fn wait_until_out(&mut self, cpu: usize);
    /// Makes `cpu` take an interrupt at EL2 (and look at its power state and queues).
    fn kick(&mut self, cpu: usize);
    /// Waits on this CPU until an interrupt is pending.
    fn wait_for_interrupt(&mut self);
    /// Takes every pending physical interrupt on `cpu` (this CPU).
    fn handle_interrupts(&mut self, cpu: usize);

    /// Dispatches an SMCCC call of `partition`'s vCPU `vcpu` (the pure dispatcher).
    fn smccc(&mut self, partition: &Partition, vcpu: usize, call: &Call) -> Action;
    /// Dispatches a call made through `partition`'s management window, its memory the
    /// window's DATA area at `data_ipa` (starting zeroed): the action and the DATA area after.
    fn smccc_window(
        &mut self,
        partition: &Partition,
        vcpu: usize,
        call: &Call,
        data_ipa: u64,
    ) -> (Action, [u8; crate::devices::mgmt_window::DATA_SIZE]);
    /// Makes a call to the platform firmware over SMC; `None` if it has no SMC conduit.
    fn firmware_call(&mut self, function: u32, args: [u64; 3]) -> Option<[u64; 4]>;
    /// Rings doorbell `intid` of partition `peer` (index in configuration order).
    fn ring_doorbell(&mut self, peer: usize, intid: u32) -> Result<(), PeerDown>;

    /// Performs one access on an emulated device of `partition` by its vCPU `vcpu` (a read if
    /// `store` is `None`), applying the effects; the value read.
    fn mmio(
        &mut self,
        partition: &Partition,
        device: DeviceId,
        access: DeviceAccess,
        store: Option<u64>,
    ) -> Result<u64, MmioFault>;
    /// Makes SGI `intid` from vCPU `sender` pending on the vCPUs of `partition` in the bitmap
    /// `targets`.
    fn send_sgis(&mut self, partition: &Partition, sender: usize, intid: u32, targets: u64);
    /// Counts a guest write that named something outside its partition (ignored).
    fn count_ignored_write(&mut self, partition: &Partition);

    /// The instruction word at guest VA `elr` of `partition`, if it can be read (reports).
    fn guest_instruction(&self, partition: &Partition, elr: u64) -> Option<u32>;
    /// Prints one line on the hypervisor console.
    fn print(&mut self, line: fmt::Arguments<'_>);
    /// Prints the statistics of a partition that stopped (trap counts, vGIC counters).
    fn report_stop_statistics(&mut self, partition: &Partition);
    /// Scrubs `partition`'s RAM and copies its pristine images in again.
    fn reload_images(&mut self, partition: &Partition);
    /// Resets `partition`'s virtual distributor and disables its hardware SPIs.
    fn reset_partition_interrupts(&mut self, partition: &Partition);
    /// Silences the virtual CPU interface of the vCPU leaving `cpu`.
    fn quiesce_vcpu(&mut self, cpu: usize);
    /// The EL2 stack of `cpu`: (deepest use since boot, size), in bytes.
    fn stack_high_water(&self, cpu: usize) -> Option<(u64, u64)>;
    /// Overflows this CPU's EL2 stack on purpose (test-hooks builds; a no-op otherwise).
    fn test_overflow_stack(&mut self);
    /// Feeds `bytes` to `partition`'s virtual PL011 as console input, as the console would
    /// (test-hooks builds; takes nothing otherwise). Returns how many it took.
    fn test_console_input(&mut self, partition: &Partition, bytes: &[u8]) -> usize;
    /// Resets the virtual CPU interface and EL1-visible interrupt state before `cpu` enters.
    fn reset_vcpu(&mut self, cpu: usize);

    /// The system counter as partitions see it (CNTVCT; CNTVOFF_EL2 is 0).
    fn counter(&self) -> u64;
    /// Arms this CPU's EL2 physical timer (CNTHP) to interrupt at counter value `deadline`,
    /// or disarms it (`None`): how a watchdog's deadline reaches EL2 whatever its guest does.
    fn set_hyp_timer(&mut self, deadline: Option<u64>);
    /// The generic counter's frequency in Hz.
    fn counter_frequency(&self) -> u64;
}
