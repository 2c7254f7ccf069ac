//! The physical GIC as the interrupt glue drives it: one trait over both generations, so the
//! glue runs on the host against a fake.

use crate::vgic::list_registers::ListEntry;

/// Where a doorbell fast-path ring goes (see [`PhysicalGic::set_fast_ring`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FastRing {
    /// The physical CPU of the vCPU the peer routes its doorbell to.
    pub target_cpu: usize,
    /// The peer's doorbell index (its flag on that CPU).
    pub slot: usize,
    /// The address of the peer partition's state byte.
    pub peer_state: usize,
}

/// The physical GIC, this CPU's virtual CPU interface, and the timer fast path's per-CPU data.
/// Interrupts are named by their raw acknowledge value where the GICv2 needs the source CPU.
pub trait PhysicalGic {
    /// Whether the hardware is a GICv3 (else a GICv2, or none).
    fn is_v3(&self) -> bool;
    /// The logical index of the CPU this runs on.
    fn current_cpu(&self) -> usize;
    /// Sets up CPU `cpu`'s interfaces (it runs on that CPU).
    fn init_cpu(&self, cpu: usize, mpidr: u64);
    /// Acknowledges the highest-priority pending interrupt: its raw value (1023: none).
    fn acknowledge(&self) -> u32;
    /// Drops the running priority of `raw` (EOImode = 1: no deactivation).
    fn priority_drop(&self, raw: u32);
    /// Deactivates `raw`.
    fn deactivate(&self, raw: u32);
    /// Deactivates a hardware interrupt a guest left active.
    fn deactivate_intid(&self, intid: u32);
    /// Sends physical SGI `sgi` to CPU `cpu`.
    fn send_sgi(&self, cpu: usize, sgi: u32);
    /// Enables or disables SPI `intid`.
    fn set_spi_enabled(&self, intid: u32, enabled: bool);
    /// Enables or disables SGI/PPI `intid` of CPU `cpu`.
    fn set_private_enabled(&self, cpu: usize, intid: u32, enabled: bool);
    /// Sets or clears SPI `intid`'s pending state.
    fn set_spi_pending(&self, intid: u32, pending: bool);
    /// Routes SPI `intid` to CPU `cpu`.
    fn route_spi(&self, intid: u32, cpu: usize);
    /// Sets SPI `intid` edge- (true) or level-triggered.
    fn set_spi_edge(&self, intid: u32, edge: bool);
    /// How many list registers this CPU has.
    fn list_register_count(&self) -> usize;
    /// The empty list registers, as a bitmap.
    fn empty_list_registers(&self) -> u64;
    /// Reads list register `index`.
    fn read_lr(&self, index: usize) -> ListEntry;
    /// Writes list register `index`.
    fn write_lr(&self, index: usize, entry: &ListEntry);
    /// Turns the underflow maintenance interrupt on or off.
    fn set_underflow_interrupt(&self, enabled: bool);
    /// Resets the virtual CPU interface's control and active priorities.
    fn reset_virtual_interface(&self);
    /// Sets the list register value the timer fast path injects for CPU `cpu` (0: off).
    fn set_vtimer_lr(&self, cpu: usize, value: u64);
    /// Takes the interrupt the fast path acknowledged on `cpu` and passed on, if any.
    fn take_pending_ack(&self, cpu: usize) -> Option<u32>;
    /// Handles `intid` if it is one the hypervisor keeps for itself (the console's UART and
    /// timer); `false` if it is not.
    fn hypervisor_interrupt(&self, _intid: u32) -> bool {
        false
    }
    /// This CPU took the kick SGI (the console may have asked it to drain its partition's
    /// output).
    fn kicked(&self) {}
    /// Sets sender CPU `cpu`'s doorbell fast-path entry for its doorbell `index`: raise flag
    /// `slot` of `target_cpu` and send it the doorbell SGI while the byte at `peer_state` (the
    /// peer partition's state) reads running; `None`: the general path.
    fn set_fast_ring(&self, _cpu: usize, _index: usize, _ring: Option<FastRing>) {}
    /// Sets the list register value receiving CPU `cpu`'s fast path injects its doorbell `slot`
    /// with (0: the general path).
    fn set_fast_doorbell_lr(&self, _cpu: usize, _slot: usize, _value: u64) {}
    /// Takes (clears) the doorbell flags raised for receiving CPU `cpu`: bit `slot` for each.
    fn take_fast_doorbells(&self, _cpu: usize) -> u32 {
        0
    }
    /// This CPU's EL2 physical timer fired: forgets the deadlines that passed (their owners arm
    /// it again), so its level is not taken again at once.
    fn mask_hyp_timer(&self);
}
