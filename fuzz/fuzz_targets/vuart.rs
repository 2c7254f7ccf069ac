//! The virtual PL011 (`bulkhead::devices::pl011`) under random reads, writes and console input
//! in its window: it never panics; every byte written to UARTDR is handed to the console once,
//! in order; every byte the receive FIFO took comes out of UARTDR once, in order; UARTFR always
//! says the transmitter is empty and idle and agrees with the FIFO; UARTMIS is UARTRIS masked
//! by UARTIMSC and the interrupt line is high exactly when it is non-zero; reads of registers
//! other than UARTDR have no side effect on what they read.
#![no_main]

use arbitrary::Arbitrary;
use bulkhead::devices::pl011::{VirtualPl011, WINDOW_SIZE};
use libfuzzer_sys::fuzz_target;

const DR: u64 = 0x000;
const FR: u64 = 0x018;
const IMSC: u64 = 0x038;
const RIS: u64 = 0x03c;
const MIS: u64 = 0x040;
const FR_BUSY: u32 = 1 << 3;
const FR_RXFE: u32 = 1 << 4;
const FR_TXFF: u32 = 1 << 5;
const FR_TXFE: u32 = 1 << 7;

#[derive(Arbitrary, Debug)]
enum Op {
    Read { offset: u16 },
    Write { offset: u16, value: u32 },
    Input { bytes: Vec<u8> },
}

fuzz_target!(|ops: Vec<Op>| {
    let mut uart = VirtualPl011::new();
    let (mut written, mut output) = (Vec::new(), Vec::new());
    let (mut received, mut read_back) = (Vec::new(), Vec::new());
    for op in ops.iter().take(512) {
        match op {
            Op::Read { offset } => {
                // The trap path hands the model word-aligned offsets inside its window.
                let offset = u64::from(*offset) % WINDOW_SIZE & !3;
                let flags = uart.flags();
                let value = uart.read(offset);
                if offset == DR {
                    if flags & FR_RXFE == 0 {
                        read_back.push(value as u8);
                    } else {
                        assert_eq!(value, 0, "an empty FIFO reads as 0");
                    }
                } else {
                    assert_eq!(value, uart.read(offset), "reading {offset:#x} changed it");
                }
                if offset == FR {
                    assert_eq!(value & (FR_TXFE | FR_BUSY | FR_TXFF), FR_TXFE);
                }
            }
            Op::Write { offset, value } => {
                let offset = u64::from(*offset) % WINDOW_SIZE & !3;
                uart.write(offset, *value);
                if offset == DR {
                    written.push(*value as u8);
                }
            }
            Op::Input { bytes } => {
                let room = uart.receive_space();
                let taken = uart.receive(bytes);
                assert_eq!(taken, room.min(bytes.len()));
                received.extend_from_slice(&bytes[..taken]);
            }
        }
        let (ris, imsc) = (uart.read(RIS), uart.read(IMSC));
        assert_eq!(uart.read(MIS), ris & imsc);
        assert_eq!(uart.line(), ris & imsc != 0);
        if uart.output_due() {
            output.extend(uart.take_output());
        }
    }
    output.extend(uart.take_output());
    assert_eq!(output, written, "every byte written, once, in order");
    assert!(
        received.starts_with(&read_back),
        "received bytes come out in order"
    );
});
