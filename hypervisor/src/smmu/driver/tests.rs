#![allow(clippy::arithmetic_side_effects)]
//! The driver against a fake SMMU that acknowledges CR0, GBPA and IRQ_CTRL writes and consumes
//! commands as soon as PROD moves (as QEMU's model does).

use super::*;
use crate::pagetable::stage2;
use crate::smmu::ste::Stage2;
use std::collections::BTreeMap;
use std::vec;
use std::vec::Vec;

#[derive(Default)]
struct FakeSmmu {
    regs: BTreeMap<usize, u64>,
    writes: Vec<(usize, u64)>,
    published: usize,
    /// CONS stays where it is (an SMMU that never consumes).
    stuck: bool,
}

impl FakeSmmu {
    fn stage2() -> FakeSmmu {
        let mut fake = FakeSmmu::default();
        fake.regs
            .insert(reg::IDR0, 1 | (0b10 << 2) | (1 << 4) | (1 << 18));
        fake.regs.insert(reg::IDR1, 16 | (19 << 16) | (19 << 21));
        fake.regs.insert(reg::IDR5, 4 | (0b111 << 4));
        fake
    }

    fn reg(&self, offset: usize) -> u64 {
        self.regs.get(&offset).copied().unwrap_or(0)
    }

    fn written(&self, offset: usize) -> Vec<u64> {
        self.writes
            .iter()
            .filter(|(o, _)| *o == offset)
            .map(|(_, v)| *v)
            .collect()
    }
}

impl SmmuPort for FakeSmmu {
    fn read32(&mut self, offset: usize) -> u32 {
        self.reg(offset) as u32
    }

    fn write32(&mut self, offset: usize, value: u32) {
        self.writes.push((offset, value.into()));
        let stored = match offset {
            reg::GBPA => value & !reg::GBPA_UPDATE,
            _ => value,
        };
        self.regs.insert(offset, stored.into());
        match offset {
            reg::CR0 => {
                self.regs.insert(reg::CR0ACK, value.into());
            }
            reg::IRQ_CTRL => {
                self.regs.insert(reg::IRQ_CTRLACK, value.into());
            }
            reg::CMDQ_PROD if !self.stuck => {
                self.regs.insert(reg::CMDQ_CONS, value.into());
            }
            _ => {}
        }
    }

    fn write64(&mut self, offset: usize, value: u64) {
        self.writes.push((offset, value));
        self.regs.insert(offset, value);
    }

    fn publish(&mut self, _bytes: &[u8]) {
        self.published += 1;
    }

    fn refresh(&mut self, _bytes: &[u8]) {}
}

struct Blocks {
    table: Vec<u8>,
    cmdq: Vec<u8>,
    eventq: Vec<u8>,
}

impl Blocks {
    fn new() -> Blocks {
        Blocks {
            table: vec![0; 256 * 64],
            cmdq: vec![0; 256 * 16],
            eventq: vec![0; 128 * 32],
        }
    }

    fn memory(&mut self) -> SmmuMemory<'_> {
        SmmuMemory {
            table: &mut self.table,
            cmdq: &mut self.cmdq,
            eventq: &mut self.eventq,
        }
    }
}

fn command(memory: &[u8], index: usize) -> [u64; 2] {
    let bytes = &memory[index * 16..index * 16 + 16];
    [
        u64::from_le_bytes(bytes[..8].try_into().unwrap()),
        u64::from_le_bytes(bytes[8..].try_into().unwrap()),
    ]
}

fn partition_ste() -> Ste {
    Ste::stage2(
        Stage2 {
            root: 0x4300_0000,
            vmid: 2,
            vtcr: stage2::vtcr(2),
        },
        4,
    )
    .unwrap()
}

#[test]
fn bring_up_aborts_everything_then_enables_queues_then_translation() {
    let mut blocks = Blocks::new();
    let smmu = Smmu::init(FakeSmmu::stage2(), blocks.memory(), 0x10).unwrap();
    let table_pa = smmu.memory.table.as_ptr() as u64;
    let cmdq_pa = smmu.memory.cmdq.as_ptr() as u64;
    // IHI 0070 6.3.14: GBPA.ABORT while SMMUEN = 0.
    assert_eq!(
        smmu.port.written(reg::GBPA),
        [u64::from(reg::GBPA_UPDATE | reg::GBPA_ABORT)]
    );
    // IHI 0070 6.3.9: off, then CMDQEN, then EVENTQEN, then SMMUEN, each acknowledged.
    assert_eq!(smmu.port.written(reg::CR0), [0, 0b1000, 0b1100, 0b1101]);
    assert_eq!(
        smmu.port.written(reg::STRTAB_BASE),
        [(1 << 62) | (table_pa & !0x3f)]
    );
    assert_eq!(smmu.port.written(reg::STRTAB_BASE_CFG), [8]);
    assert_eq!(
        smmu.port.written(reg::CMDQ_BASE),
        [(1 << 62) | (cmdq_pa & !0x1f) | 8]
    );
    assert_eq!(smmu.port.written(reg::CR2), [0b110]);
    // Invalidate every cached STE and TLB entry before translating: CFGI_ALL, NSNH_ALL, SYNC.
    let cmdq = smmu.cmdq_memory();
    assert_eq!(command(cmdq, 0), [0x04, 31]);
    assert_eq!(command(cmdq, 1), [0x30, 0]);
    assert_eq!(command(cmdq, 2)[0] & 0xff, 0x46);
    assert_eq!(smmu.port.written(reg::CMDQ_PROD), [0, 3]);
    for sid in 0..256 {
        assert!(smmu.entry(sid).unwrap().is_abort());
    }
}

#[test]
fn assigning_a_stream_writes_its_ste_and_invalidates_it_and_its_vmid() {
    let mut blocks = Blocks::new();
    let mut smmu = Smmu::init(FakeSmmu::stage2(), blocks.memory(), 0x10).unwrap();
    let ste = partition_ste();
    smmu.set_stream(0x10, &ste).unwrap();
    assert_eq!(smmu.entry(0x10), Some(ste));
    assert!(smmu.entry(0x08).unwrap().is_abort());
    let cmdq = smmu.cmdq_memory();
    // IHI 0070 3.21.3.1: CMD_CFGI_STE(sid), then (4.4.11) TLBI_S12_VMALL(vmid), then SYNC.
    assert_eq!(command(cmdq, 3), [0x10_0000_0003, 1]);
    assert_eq!(command(cmdq, 4), [0x2_0000_0028, 0]);
    assert_eq!(command(cmdq, 5)[0] & 0xff, 0x46);
    assert_eq!(smmu.port.written(reg::CMDQ_PROD), [0, 3, 6]);
    smmu.abort_stream(0x10).unwrap();
    assert!(smmu.entry(0x10).unwrap().is_abort());
    let cmdq = smmu.cmdq_memory();
    assert_eq!(command(cmdq, 6), [0x10_0000_0003, 1]);
    assert_eq!(command(cmdq, 7), [0x2_0000_0028, 0]);
}

#[test]
fn a_stream_the_table_cannot_hold_is_refused() {
    let mut blocks = Blocks::new();
    let mut smmu = Smmu::init(FakeSmmu::stage2(), blocks.memory(), 0x10).unwrap();
    assert_eq!(
        smmu.set_stream(0x100, &partition_ste()),
        Err(DriverError::Table(TableError::StreamTooLarge(0x100)))
    );
}

#[test]
fn an_smmu_without_stage2_is_refused() {
    let mut blocks = Blocks::new();
    let mut fake = FakeSmmu::stage2();
    fake.regs.insert(reg::IDR0, 0b10 | (0b10 << 2));
    assert_eq!(
        Smmu::init(fake, blocks.memory(), 0x10).err(),
        Some(DriverError::Unsupported(Unsupported::NoStage2))
    );
}

#[test]
fn commands_that_are_never_consumed_time_out() {
    let mut blocks = Blocks::new();
    let mut fake = FakeSmmu::stage2();
    fake.stuck = true;
    assert_eq!(
        Smmu::init(fake, blocks.memory(), 0x10).err(),
        Some(DriverError::Timeout(reg::CMDQ_CONS))
    );
}

#[test]
fn a_command_error_is_reported_with_cons() {
    let mut blocks = Blocks::new();
    let mut smmu = Smmu::init(FakeSmmu::stage2(), blocks.memory(), 0x10).unwrap();
    // IHI 0070 6.3.18: GERROR.CMDQ_ERR toggles; CMDQ_CONS.ERR says which.
    smmu.port_mut().regs.insert(reg::GERROR, 1);
    smmu.port_mut().stuck = true;
    smmu.port_mut().regs.insert(reg::CMDQ_CONS, (1 << 24) | 3);
    assert_eq!(
        smmu.issue(&[Command::Sync]),
        Err(DriverError::Command((1 << 24) | 3))
    );
}

#[test]
fn drained_events_come_in_order_and_free_their_entries() {
    let mut blocks = Blocks::new();
    let mut smmu = Smmu::init(FakeSmmu::stage2(), blocks.memory(), 0x10).unwrap();
    // Two F_TRANSLATION records for stream 0x10 at entries 0 and 1; PROD = 2.
    for (i, addr) in [0x4000_0000u64, 0x4020_0000].into_iter().enumerate() {
        let q = smmu.eventq_memory();
        q[i * 32..i * 32 + 8].copy_from_slice(&0x10_0000_0010u64.to_le_bytes());
        q[i * 32 + 8..i * 32 + 16].copy_from_slice(&(1u64 << 39).to_le_bytes());
        q[i * 32 + 16..i * 32 + 24].copy_from_slice(&addr.to_le_bytes());
    }
    smmu.port_mut().regs.insert(reg::EVENTQ_PROD, 2);
    let mut seen = Vec::new();
    assert!(!smmu.drain_events(|e| seen.push(e)));
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].input_addr, Some(0x4000_0000));
    assert_eq!(seen[1].input_addr, Some(0x4020_0000));
    assert!(seen.iter().all(|e| e.sid == 0x10 && e.stage2));
    assert_eq!(smmu.port.written(reg::EVENTQ_CONS), [0, 2]);
    // Nothing new: nothing reported, CONS stays.
    assert!(!smmu.drain_events(|_| panic!("no record")));
}

#[test]
fn an_overflow_is_reported_and_acknowledged() {
    let mut blocks = Blocks::new();
    let mut smmu = Smmu::init(FakeSmmu::stage2(), blocks.memory(), 0x10).unwrap();
    // IHI 0070 7.4.1: OVFLG toggles in PROD; CONS mirrors it to acknowledge.
    smmu.port_mut()
        .regs
        .insert(reg::EVENTQ_PROD, u64::from(reg::EVENTQ_OVERFLOW));
    assert!(smmu.drain_events(|_| panic!("no record")));
    assert_eq!(
        smmu.port.written(reg::EVENTQ_CONS).last(),
        Some(&u64::from(reg::EVENTQ_OVERFLOW))
    );
    assert!(!smmu.drain_events(|_| panic!("no record")));
}

#[test]
fn a_wrapping_event_queue_keeps_its_place() {
    let mut blocks = Blocks::new();
    let mut smmu = Smmu::init(FakeSmmu::stage2(), blocks.memory(), 0x10).unwrap();
    // 128 entries: PROD 130 = wrap flag 1, index 2.
    smmu.port_mut().regs.insert(reg::EVENTQ_PROD, 128);
    let mut count = 0;
    smmu.drain_events(|_| count += 1);
    assert_eq!(count, 128);
    smmu.port_mut().regs.insert(reg::EVENTQ_PROD, 128 | 2);
    smmu.drain_events(|_| count += 1);
    assert_eq!(count, 130);
    assert_eq!(smmu.port.written(reg::EVENTQ_CONS).last(), Some(&130));
}
