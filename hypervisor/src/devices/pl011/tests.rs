//! The virtual PL011 against the rules of the PL011 TRM (r1p5, DDI 0183G); each test names the
//! section it checks.

use super::model::{VirtualPl011, STAGE};
use super::port::{ConsoleHooks, ConsolePort};
use super::registers::{self as reg, fr, int, lcr_h};
use bulkhead_config::range::Range;

fn uart_with_fifos() -> VirtualPl011 {
    let mut uart = VirtualPl011::new();
    uart.write(reg::LCR_H, lcr_h::FEN | 0x60);
    uart
}

fn drain(uart: &mut VirtualPl011) -> Vec<u8> {
    uart.take_output().to_vec()
}

#[test]
fn reset_values_are_those_of_table_3_1() {
    // TRM 3.2, table 3-1: UARTFR 0b-10010---, UARTCR 0x300, UARTIFLS 0x12, the rest 0.
    let mut uart = VirtualPl011::new();
    assert_eq!(uart.read(reg::FR), fr::TXFE | fr::RXFE);
    assert_eq!(uart.read(reg::CR), 0x300);
    assert_eq!(uart.read(reg::IFLS), 0x12);
    for offset in [
        reg::RSR,
        reg::ILPR,
        reg::IBRD,
        reg::FBRD,
        reg::LCR_H,
        reg::IMSC,
        reg::RIS,
    ] {
        assert_eq!(uart.read(offset), 0, "{offset:#x}");
    }
    assert_eq!(uart.read(reg::MIS), 0);
    assert_eq!(uart.read(reg::DMACR), 0);
}

#[test]
fn identification_registers_match_a_pl011_r1p5() {
    // TRM 3.3.15/3.3.16: PeriphID = 0x00341011 (part 0x011, Arm, revision 3), PCellID =
    // 0xb105f00d.
    let mut uart = VirtualPl011::new();
    let ids: Vec<u32> = (0..8).map(|i| uart.read(0xfe0 + i * 4)).collect();
    assert_eq!(ids, [0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1]);
}

#[test]
fn control_registers_read_back_their_implemented_bits() {
    // TRM 3.3.4-3.3.9 and 3.3.14: ILPR [7:0], IBRD [15:0], FBRD [5:0], LCR_H [7:0], CR
    // without its reserved [6:3], IFLS [5:0], DMACR [2:0].
    let mut uart = VirtualPl011::new();
    let cases = [
        (reg::ILPR, 0xff),
        (reg::IBRD, 0xffff),
        (reg::FBRD, 0x3f),
        (reg::LCR_H, 0xff),
        (reg::CR, 0xff87),
        (reg::IFLS, 0x3f),
        (reg::IMSC, 0x7ff),
        (reg::DMACR, 0x7),
    ];
    for (offset, mask) in cases {
        uart.write(offset, u32::MAX);
        assert_eq!(uart.read(offset), mask, "{offset:#x}");
    }
}

#[test]
fn read_only_and_reserved_offsets_are_raz_wi_and_counted() {
    // TRM 3.2: reserved offsets; UARTFR, UARTRIS and UARTMIS are read-only, UARTICR
    // write-only.
    let mut uart = VirtualPl011::new();
    uart.write(reg::FR, 0);
    uart.write(reg::RIS, u32::MAX);
    uart.write(0x800, 1);
    assert_eq!(uart.read(reg::FR), fr::TXFE | fr::RXFE);
    assert_eq!(uart.read(reg::RIS), 0);
    assert_eq!(uart.read(0x008), 0);
    assert_eq!(uart.read(reg::ICR), 0);
    assert_eq!(uart.ignored_accesses, 5);
}

#[test]
fn data_writes_transmit_the_low_byte_at_once() {
    // TRM 3.3.1: a write's bits [7:0] are the data; 3.3.3: the transmitter here is
    // infinitely fast, the FIFO is empty again (TXFE, not BUSY, not TXFF).
    let mut uart = uart_with_fifos();
    uart.write(reg::DR, 0x141);
    assert_eq!(
        uart.read(reg::FR) & (fr::TXFE | fr::BUSY | fr::TXFF),
        fr::TXFE
    );
    assert_eq!(drain(&mut uart), b"A");
}

#[test]
fn output_is_handed_over_by_the_line() {
    // The batching rule (module doc): a FR, DR, FR, DR stream is due at its newline.
    let mut uart = VirtualPl011::new();
    for &byte in b"hello\n" {
        assert!(!uart.output_due());
        uart.read(reg::FR);
        uart.write(reg::DR, u32::from(byte));
    }
    assert!(uart.output_due());
    assert_eq!(drain(&mut uart), b"hello\n");
    assert!(!uart.output_due());
}

#[test]
fn a_prompt_is_handed_over_when_the_guest_polls_or_does_anything_else() {
    let mut uart = VirtualPl011::new();
    for &byte in b"=> " {
        uart.read(reg::FR);
        uart.write(reg::DR, u32::from(byte));
    }
    uart.read(reg::FR);
    uart.read(reg::FR);
    assert!(
        !uart.output_due(),
        "two flag reads after data (earlycon: BUSY, then TXFF): still streaming"
    );
    uart.read(reg::FR);
    assert!(uart.output_due(), "the third flag read in a row: polling");
    assert_eq!(drain(&mut uart), b"=> ");
    uart.write(reg::DR, u32::from(b'x'));
    uart.read(reg::MIS);
    assert!(uart.output_due(), "any other register");
}

#[test]
fn a_full_stage_is_due() {
    let mut uart = VirtualPl011::new();
    for _ in 0..STAGE {
        uart.write(reg::DR, u32::from(b'x'));
    }
    assert!(uart.output_due());
    assert_eq!(drain(&mut uart).len(), STAGE);
}

#[test]
fn received_bytes_come_out_of_the_data_register_in_order() {
    // TRM 3.3.1: a read gives the oldest received byte, error bits [11:8] zero; 3.3.3: RXFE
    // clear while the FIFO holds data, RXFF when it is full.
    let mut uart = uart_with_fifos();
    assert_eq!(uart.receive(b"ok"), 2);
    assert_eq!(uart.read(reg::FR) & (fr::RXFE | fr::RXFF), 0);
    assert_eq!(uart.read(reg::DR), u32::from(b'o'));
    assert_eq!(uart.read(reg::DR), u32::from(b'k'));
    assert_ne!(uart.read(reg::FR) & fr::RXFE, 0);
    assert_eq!(uart.read(reg::DR), 0, "empty");
    assert_eq!(uart.read(reg::RSR), 0, "no errors (3.3.2)");
}

#[test]
fn the_receive_fifo_is_32_deep_with_fen_and_1_without() {
    // TRM 3.3.7, FEN: 1 = FIFOs enabled (32 entries, chapter 2 "Receive FIFO"); 0 = 1-byte
    // holding register.
    let mut uart = VirtualPl011::new();
    assert_eq!(uart.receive_space(), 1);
    assert_eq!(uart.receive(b"ab"), 1);
    assert_ne!(uart.read(reg::FR) & fr::RXFF, 0);
    assert_eq!(uart.read(reg::DR), u32::from(b'a'));
    let mut uart = uart_with_fifos();
    assert_eq!(uart.receive(&[b'x'; 40]), 32);
    assert_ne!(uart.read(reg::FR) & fr::RXFF, 0);
    assert_eq!(uart.receive_space(), 0);
}

#[test]
fn the_receive_interrupt_follows_the_ifls_trigger_level() {
    // TRM 2.8 "Interrupts", UARTRXINTR: with FIFOs, asserted when the level reaches RXIFLSEL
    // (3.3.9, reset 1/2 = 16), cleared when reading takes it below.
    let mut uart = uart_with_fifos();
    uart.write(reg::IMSC, int::RX);
    uart.receive(&[b'a'; 15]);
    assert_eq!(uart.read(reg::RIS) & int::RX, 0);
    uart.receive(b"b");
    assert_eq!(uart.read(reg::MIS), int::RX, "level 16 reached, RT masked");
    assert!(uart.line());
    uart.read(reg::DR);
    assert_eq!(uart.read(reg::RIS) & int::RX, 0, "15 < 16");
    assert!(!uart.line());
    // 1/8 full (b000): 4 entries.
    uart.write(reg::IFLS, 0);
    uart.receive(b"c");
    assert_ne!(uart.read(reg::RIS) & int::RX, 0);
}

#[test]
fn without_fifos_a_received_byte_interrupts_until_it_is_read() {
    // TRM 2.8, UARTRXINTR: FIFOs disabled: asserted when data fills the location, cleared by
    // a single read.
    let mut uart = VirtualPl011::new();
    uart.write(reg::IMSC, int::RX);
    uart.receive(b"z");
    assert!(uart.line());
    uart.read(reg::DR);
    assert!(!uart.line());
}

#[test]
fn the_receive_timeout_fires_after_a_batch_and_clears_when_the_fifo_empties() {
    // TRM 2.8, UARTRTINTR: asserted while the FIFO is not empty and no more data arrives;
    // cleared when the FIFO becomes empty through reading, or by UARTICR.RTIC.
    let mut uart = uart_with_fifos();
    uart.write(reg::IMSC, int::RT);
    uart.receive(b"ls");
    assert_eq!(uart.read(reg::MIS), int::RT);
    uart.read(reg::DR);
    assert_eq!(uart.read(reg::MIS), int::RT, "one byte left");
    uart.read(reg::DR);
    assert_eq!(uart.read(reg::MIS), 0, "empty");
    uart.receive(b"x");
    uart.write(reg::ICR, int::RT);
    assert_eq!(uart.read(reg::MIS), 0, "cleared by RTIC");
}

#[test]
fn the_transmit_interrupt_is_set_by_data_leaving_the_fifo_and_cleared_by_icr() {
    // TRM 2.8, UARTTXINTR: based on a transition through the trigger level, not set before
    // data is written; 3.3.13: TXIC clears it.
    let mut uart = uart_with_fifos();
    uart.write(reg::IMSC, int::TX);
    assert!(!uart.line(), "enabled before any data: not set");
    assert!(
        !uart.data_write_is_plain(),
        "the first write raises the line"
    );
    uart.write(reg::DR, u32::from(b'a'));
    assert_eq!(uart.read(reg::MIS), int::TX);
    assert!(
        uart.data_write_is_plain(),
        "already set: a write changes nothing"
    );
    uart.write(reg::ICR, int::TX);
    assert!(!uart.line());
    uart.write(reg::IMSC, 0);
    assert!(uart.data_write_is_plain(), "masked");
}

#[test]
fn mis_is_ris_masked_by_imsc_and_icr_clears_only_what_it_names() {
    // TRM 3.3.10-3.3.13.
    let mut uart = uart_with_fifos();
    uart.write(reg::DR, u32::from(b'a'));
    uart.receive(b"b");
    assert_eq!(uart.read(reg::RIS), int::TX | int::RT);
    assert_eq!(uart.read(reg::MIS), 0);
    uart.write(reg::IMSC, int::RT);
    assert_eq!(uart.read(reg::MIS), int::RT);
    uart.write(reg::ICR, int::TX);
    assert_eq!(uart.read(reg::RIS), int::RT);
}

#[test]
fn narrow_writes_reach_only_the_low_lane() {
    use crate::devices::{AccessWidth, DeviceAccess, DeviceEffects, MmioDevice};
    let mut uart = VirtualPl011::new();
    let byte = |offset| DeviceAccess {
        offset,
        width: AccessWidth::Byte,
        vcpu: 0,
    };
    let mut effects = DeviceEffects::new();
    MmioDevice::write(&mut uart, byte(0), u64::from(b'k'), &mut effects).unwrap();
    MmioDevice::write(&mut uart, byte(1), 0x55, &mut effects).unwrap();
    assert_eq!(drain(&mut uart), b"k");
    assert_eq!(uart.ignored_accesses, 1);
    // UARTPeriphID2's byte lanes.
    assert_eq!(
        MmioDevice::read(&mut uart, byte(0xfe8)).unwrap() & 0xff,
        0x34
    );
}

#[derive(Default)]
struct Edges(Vec<bool>);

impl ConsoleHooks for Edges {
    fn line(&mut self, _partition: usize, intid: u32, high: bool) {
        assert_eq!(intid, 33);
        self.0.push(high);
    }
}

#[test]
fn the_port_reports_each_edge_of_the_line_once() {
    let port = ConsolePort::new(Range::new(0x0900_0000, 0x1000), 33);
    let mut edges = Edges::default();
    port.run(0, &mut edges, |uart| {
        uart.write(reg::IMSC, int::RX | int::RT)
    });
    assert!(edges.0.is_empty());
    port.run(0, &mut edges, |uart| uart.receive(b"a"));
    port.run(0, &mut edges, |uart| uart.receive(b"b"));
    assert_eq!(edges.0, [true], "already high: no second edge");
    port.run(0, &mut edges, |uart| uart.read(reg::DR));
    assert_eq!(edges.0, [true, false]);
    port.reset();
    assert!(!port.state.lock().line());
}

/// Hooks whose fast path staged `fast` and counted `reads` flag reads.
struct FastHooks {
    fast: Vec<u8>,
    reads: u32,
}

impl ConsoleHooks for FastHooks {
    fn line(&mut self, _partition: usize, _intid: u32, _high: bool) {}
    fn take_fast(&mut self, _partition: usize, emit: &mut dyn FnMut(&[u8])) -> Option<u32> {
        if !self.fast.is_empty() {
            emit(&core::mem::take(&mut self.fast));
        }
        Some(self.reads)
    }
}

#[test]
fn fast_path_bytes_set_txris_and_the_flag_read_count_carries_over() {
    // The model staged "a" (no newline: not due); the fast path then took "bc" and two flag
    // reads. The next access sees TXRIS (data left the FIFO) and counts the third flag read.
    let port = ConsolePort::new(Range::new(0x0900_0000, 0x1000), 33);
    let mut hooks = FastHooks {
        fast: Vec::new(),
        reads: 0,
    };
    port.run(0, &mut hooks, |uart| uart.write(reg::DR, u32::from(b'a')));
    port.run(0, &mut hooks, |uart| uart.write(reg::ICR, int::TX));
    hooks.fast = b"bc".to_vec();
    hooks.reads = 2;
    let ris = port.run(0, &mut hooks, |uart| uart.read(reg::RIS));
    assert_eq!(ris & int::TX, int::TX);
    hooks.reads = 2;
    port.run(0, &mut hooks, |uart| {
        uart.write(reg::DR, u32::from(b'd'));
    });
    port.run(0, &mut hooks, |uart| {
        uart.read(reg::FR);
        uart.read(reg::FR);
        uart.read(reg::FR);
    });
    assert!(!port.state.lock().holds_output(), "polling handed 'd' over");
}
