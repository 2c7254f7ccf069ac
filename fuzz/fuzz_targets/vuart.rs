//! The virtual PL011 (`bulkhead::vuart`) under random reads and writes in its window: it never
//! panics, a data register write prints exactly its low byte, the flag register always says
//! "transmitter empty, nothing to receive", reads have no side effects and writing back what
//! a register reads leaves it unchanged.
#![no_main]

use arbitrary::Arbitrary;
use bulkhead::vuart::{UartEffect, VirtualPl011, WINDOW_SIZE};
use libfuzzer_sys::fuzz_target;

const DR: u64 = 0x000;
const FR: u64 = 0x018;
const FR_TXFE_RXFE: u32 = (1 << 7) | (1 << 4);

#[derive(Arbitrary, Debug)]
struct Access {
    write: bool,
    offset: u16,
    value: u32,
}

fuzz_target!(|accesses: Vec<Access>| {
    let mut uart = VirtualPl011::new();
    for access in accesses.iter().take(256) {
        // The trap path hands the model word-aligned offsets inside its window.
        let offset = u64::from(access.offset) % WINDOW_SIZE & !3;
        if access.write {
            let effect = uart.write(offset, access.value);
            if offset == DR {
                assert_eq!(effect, UartEffect::Output(access.value as u8));
            } else {
                assert_eq!(effect, UartEffect::None, "offset {offset:#x}");
            }
        } else {
            let value = uart.read(offset);
            assert_eq!(value, uart.read(offset), "reading {offset:#x} changed it");
            if offset == FR {
                assert_eq!(value, FR_TXFE_RXFE);
            }
            if offset != DR {
                assert_eq!(uart.write(offset, value), UartEffect::None);
                assert_eq!(uart.read(offset), value, "write-back of {offset:#x}");
            }
        }
    }
});
