//! The SMMUv3 driver's logic: bring-up, stream assignment and event draining, sequenced over
//! the [`SmmuPort`] trait (register access and cache maintenance), which `arch` implements
//! with MMIO and host tests with a fake SMMU.
//!
//! Bring-up follows IHI 0070 3.21 and 6.3.9 (SMMU_CR0): with SMMUEN = 0, every transaction
//! aborts (SMMU_GBPA.ABORT); the tables and queues are programmed; the command queue is
//! enabled, every cached configuration and TLB entry invalidated, the event queue enabled, and
//! only then SMMUEN set. Each CR0 write waits for SMMU_CR0ACK to match.

use super::command::{Command, COMMAND_BYTES};
use super::event::{Event, EVENT_BYTES};
use super::queue::Ring;
use super::registers::{self as reg, Features, Unsupported};
use super::ste::{Ste, SteError};
use super::stream_table::{LinearTable, TableError};

/// How often the driver reads a register it waits on before it gives up.
pub const POLL_LIMIT: u32 = 1_000_000;
/// The command queue's log2 size: 256 commands, 4 KiB.
pub const CMDQ_LOG2SIZE: u8 = 8;
/// The event queue's log2 size: 128 records, 4 KiB.
pub const EVENTQ_LOG2SIZE: u8 = 7;

/// Register access and cache maintenance for one SMMU.
pub trait SmmuPort {
    /// Reads the 32-bit register at `offset`.
    fn read32(&mut self, offset: usize) -> u32;
    /// Writes the 32-bit register at `offset`.
    fn write32(&mut self, offset: usize, value: u32);
    /// Writes the 64-bit register at `offset`.
    fn write64(&mut self, offset: usize, value: u64);
    /// Makes CPU writes to `bytes` visible to a non-coherent SMMU (clean to the point of
    /// coherency) and orders them before the next register write.
    fn publish(&mut self, bytes: &[u8]);
    /// Makes the SMMU's writes to `bytes` visible to the CPU (invalidate), for a non-coherent
    /// SMMU.
    fn refresh(&mut self, bytes: &[u8]);
}

/// The memory the driver's structures live in, each block aligned to its size.
pub struct SmmuMemory<'m> {
    /// The linear stream table ([`LinearTable::bytes`]).
    pub table: &'m mut [u8],
    /// The command queue (2^[`CMDQ_LOG2SIZE`] × 16 bytes).
    pub cmdq: &'m mut [u8],
    /// The event queue (2^[`EVENTQ_LOG2SIZE`] × 32 bytes).
    pub eventq: &'m mut [u8],
}

/// What went wrong with the SMMU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DriverError {
    /// The SMMU lacks something the driver needs.
    Unsupported(Unsupported),
    /// A register never acknowledged a write (its offset).
    Timeout(usize),
    /// The stream table cannot take the stream.
    Table(TableError),
    /// An STE cannot be built.
    Ste(SteError),
    /// A block of [`SmmuMemory`] is too small.
    Memory,
    /// The command queue reported an error (CMDQ_CONS).
    Command(u32),
}

impl From<TableError> for DriverError {
    fn from(e: TableError) -> Self {
        DriverError::Table(e)
    }
}

impl From<SteError> for DriverError {
    fn from(e: SteError) -> Self {
        DriverError::Ste(e)
    }
}

/// A running SMMU: its port, features, table geometry and queue positions.
pub struct Smmu<'m, P: SmmuPort> {
    port: P,
    features: Features,
    table: LinearTable,
    memory: SmmuMemory<'m>,
    cmdq: Ring,
    cmdq_prod: u32,
    eventq: Ring,
    eventq_cons: u32,
}

/// Reads the ID registers and checks the driver can use the SMMU.
pub fn probe(port: &mut impl SmmuPort) -> Result<Features, Unsupported> {
    let features = Features::decode(
        port.read32(reg::IDR0),
        port.read32(reg::IDR1),
        port.read32(reg::IDR5),
    );
    features.check().map(|()| features)
}

fn wait_for(
    port: &mut impl SmmuPort,
    offset: usize,
    done: impl Fn(u32) -> bool,
) -> Result<u32, DriverError> {
    for _ in 0..POLL_LIMIT {
        let value = port.read32(offset);
        if done(value) {
            return Ok(value);
        }
    }
    Err(DriverError::Timeout(offset))
}

fn write_cr0(port: &mut impl SmmuPort, value: u32) -> Result<(), DriverError> {
    port.write32(reg::CR0, value);
    wait_for(port, reg::CR0ACK, |ack| ack == value).map(|_| ())
}

impl<'m, P: SmmuPort> Smmu<'m, P> {
    /// Brings the SMMU up with every stream aborting and streams up to `max_sid` in the
    /// table (see the module doc for the order).
    pub fn init(
        mut port: P,
        memory: SmmuMemory<'m>,
        max_sid: u32,
    ) -> Result<Smmu<'m, P>, DriverError> {
        let features = probe(&mut port).map_err(DriverError::Unsupported)?;
        let table = LinearTable::for_streams(max_sid, features.sid_bits)?;
        let cmdq = Ring::new(CMDQ_LOG2SIZE.min(features.cmdq_log2max));
        let eventq = Ring::new(EVENTQ_LOG2SIZE.min(features.eventq_log2max));
        let cmdq_bytes = (cmdq.entries() as usize).saturating_mul(COMMAND_BYTES);
        let eventq_bytes = (eventq.entries() as usize).saturating_mul(EVENT_BYTES);
        if memory.cmdq.len() < cmdq_bytes || memory.eventq.len() < eventq_bytes {
            return Err(DriverError::Memory);
        }
        // Abort everything while the SMMU is off (GBPA applies with SMMUEN = 0), then turn it
        // off if a previous owner left it on.
        port.write32(reg::GBPA, reg::GBPA_UPDATE | reg::GBPA_ABORT);
        wait_for(&mut port, reg::GBPA, |gbpa| gbpa & reg::GBPA_UPDATE == 0)?;
        write_cr0(&mut port, 0)?;
        table.fill_abort(memory.table)?;
        port.publish(memory.table);
        port.write32(reg::CR1, reg::CR1_WRITE_BACK_INNER_SHAREABLE);
        port.write32(reg::CR2, reg::CR2_RECINVSID_PTM);
        port.write64(
            reg::STRTAB_BASE,
            reg::strtab_base(memory.table.as_ptr() as u64),
        );
        port.write32(
            reg::STRTAB_BASE_CFG,
            reg::strtab_base_cfg_linear(table.log2size()),
        );
        port.write64(
            reg::CMDQ_BASE,
            reg::queue_base(memory.cmdq.as_ptr() as u64, cmdq.log2size()),
        );
        port.write32(reg::CMDQ_PROD, 0);
        port.write32(reg::CMDQ_CONS, 0);
        port.write64(
            reg::EVENTQ_BASE,
            reg::queue_base(memory.eventq.as_ptr() as u64, eventq.log2size()),
        );
        port.write32(reg::EVENTQ_PROD, 0);
        port.write32(reg::EVENTQ_CONS, 0);
        // The event queue is polled (the hypervisor's timer tick drains it): no interrupt.
        port.write32(reg::IRQ_CTRL, 0);
        wait_for(&mut port, reg::IRQ_CTRLACK, |ack| ack == 0)?;
        let mut smmu = Smmu {
            port,
            features,
            table,
            memory,
            cmdq,
            cmdq_prod: 0,
            eventq,
            eventq_cons: 0,
        };
        write_cr0(&mut smmu.port, reg::CR0_CMDQEN)?;
        smmu.issue(&[Command::CfgiAll, Command::TlbiNsnhAll, Command::Sync])?;
        write_cr0(&mut smmu.port, reg::CR0_CMDQEN | reg::CR0_EVENTQEN)?;
        write_cr0(
            &mut smmu.port,
            reg::CR0_CMDQEN | reg::CR0_EVENTQEN | reg::CR0_SMMUEN,
        )?;
        Ok(smmu)
    }

    /// What the SMMU supports.
    pub fn features(&self) -> Features {
        self.features
    }

    /// The stream table's geometry.
    pub fn table(&self) -> LinearTable {
        self.table
    }

    /// The entry stream `sid` has in the table.
    pub fn entry(&self, sid: u32) -> Option<Ste> {
        self.table.read(self.memory.table, sid)
    }

    /// Makes stream `sid` translate through `ste` (a stage-2 entry of its partition): writes
    /// the entry, then CMD_CFGI_STE for it, CMD_TLBI_S12_VMALL for its VMID (no stale
    /// translation of that VMID may outlive the change) and CMD_SYNC, and waits for them
    /// (IHI 0070 3.21.3.1, 4.3.2, 4.4.11, 4.7.3).
    pub fn set_stream(&mut self, sid: u32, ste: &Ste) -> Result<(), DriverError> {
        self.table.write(self.memory.table, sid, ste)?;
        let offset = usize::try_from(sid)
            .unwrap_or(usize::MAX)
            .saturating_mul(super::ste::STE_BYTES);
        if let Some(bytes) = self
            .memory
            .table
            .get(offset..offset.saturating_add(super::ste::STE_BYTES))
        {
            self.port.publish(bytes);
        }
        self.issue(&[
            Command::CfgiSte { sid },
            Command::TlbiS12Vmall { vmid: ste.vmid() },
            Command::Sync,
        ])
    }

    /// Makes stream `sid` abort again (a stopped partition's device): the abort entry, then
    /// the same invalidation as [`Smmu::set_stream`] for the VMID it had.
    pub fn abort_stream(&mut self, sid: u32) -> Result<(), DriverError> {
        let vmid = self.entry(sid).map(|ste| ste.vmid()).unwrap_or(0);
        self.table.write(self.memory.table, sid, &Ste::abort())?;
        self.port.publish(self.memory.table);
        self.issue(&[
            Command::CfgiSte { sid },
            Command::TlbiS12Vmall { vmid },
            Command::Sync,
        ])
    }

    /// Writes `commands` to the command queue, moves PROD past them and waits until the SMMU
    /// consumed them all (the last one is a CMD_SYNC: everything before it has completed).
    pub fn issue(&mut self, commands: &[Command]) -> Result<(), DriverError> {
        for command in commands {
            let cons = self.port.read32(reg::CMDQ_CONS);
            if self.cmdq.is_full(self.cmdq_prod, cons) {
                self.wait_for_commands()?;
            }
            let start = (self.cmdq.index(self.cmdq_prod) as usize).saturating_mul(COMMAND_BYTES);
            let slot = self
                .memory
                .cmdq
                .get_mut(start..start.saturating_add(COMMAND_BYTES))
                .ok_or(DriverError::Memory)?;
            slot.copy_from_slice(&command.to_bytes());
            self.port.publish(slot);
            self.cmdq_prod = self.cmdq.next(self.cmdq_prod);
        }
        self.port.write32(reg::CMDQ_PROD, self.cmdq_prod);
        self.wait_for_commands()
    }

    fn wait_for_commands(&mut self) -> Result<(), DriverError> {
        let (cmdq, prod) = (self.cmdq, self.cmdq_prod);
        for _ in 0..POLL_LIMIT {
            let cons = self.port.read32(reg::CMDQ_CONS);
            if self.port.read32(reg::GERROR) & reg::GERROR_CMDQ_ERR
                != self.port.read32(reg::GERRORN) & reg::GERROR_CMDQ_ERR
            {
                return Err(DriverError::Command(cons));
            }
            if cmdq.consumed(prod, cons) {
                return Ok(());
            }
        }
        Err(DriverError::Timeout(reg::CMDQ_CONS))
    }

    /// Takes every record the SMMU wrote since the last call, in order, gives each to
    /// `report`, and frees their entries. Returns whether records were lost (the queue
    /// overflowed: SMMU_EVENTQ_PROD.OVFLG differs from the one CONS acknowledged).
    pub fn drain_events(&mut self, mut report: impl FnMut(Event)) -> bool {
        let prod = self.port.read32(reg::EVENTQ_PROD);
        let overflow = (prod ^ self.eventq_cons) & reg::EVENTQ_OVERFLOW != 0;
        let mut drained = 0u32;
        while !self.eventq.is_empty(prod, self.eventq_cons) && drained < self.eventq.entries() {
            let start = (self.eventq.index(self.eventq_cons) as usize).saturating_mul(EVENT_BYTES);
            if let Some(slot) = self
                .memory
                .eventq
                .get(start..start.saturating_add(EVENT_BYTES))
            {
                self.port.refresh(slot);
                let mut record = [0; EVENT_BYTES];
                record.copy_from_slice(slot);
                report(Event::decode(&record));
            }
            self.eventq_cons =
                self.eventq.next(self.eventq_cons) | (self.eventq_cons & reg::EVENTQ_OVERFLOW);
            drained = drained.saturating_add(1);
        }
        // Acknowledge an overflow by mirroring OVFLG into CONS (IHI 0070 7.4.1).
        self.eventq_cons =
            (self.eventq_cons & !reg::EVENTQ_OVERFLOW) | (prod & reg::EVENTQ_OVERFLOW);
        self.port.write32(reg::EVENTQ_CONS, self.eventq_cons);
        overflow
    }
}

#[cfg(test)]
impl<P: SmmuPort> Smmu<'_, P> {
    fn port_mut(&mut self) -> &mut P {
        &mut self.port
    }

    fn cmdq_memory(&self) -> &[u8] {
        self.memory.cmdq
    }

    fn eventq_memory(&mut self) -> &mut [u8] {
        self.memory.eventq
    }
}

#[cfg(test)]
mod tests;
