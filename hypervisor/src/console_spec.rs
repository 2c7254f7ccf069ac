//! The console UART the hypervisor owns, as the build names it (`BULKHEAD_CONSOLE`, written by
//! `cargo xtask build` from the board's platform facts and the configuration's `console`
//! property), and the register values that set it up: pure values, computed here and written
//! by `arch` (the PL011's divisors, the mini UART's baud register, the GPIO function fields).
//!
//! The hypervisor programs its UART itself, from its first instructions, rather than trusting
//! the firmware: on the Raspberry Pi the firmware sets up whichever UART the device tree's
//! `serial0` alias names (the PL011 with Debian's DTB), and leaves the mini UART, the console
//! `stdout-path` names, disabled, with registers that cannot even be read (docs/rpi4.md).

/// The console's baud rate (8N1).
pub const BAUD: u64 = 115_200;

/// Which UART.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An Arm PL011.
    Pl011,
    /// The BCM2835-family mini UART.
    MiniUart,
}

/// The console UART as the build names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsoleSpec {
    /// Its kind.
    pub kind: Kind,
    /// Its registers' physical base.
    pub base: u64,
    /// Its reference clock in Hz.
    pub clock_hz: u64,
    /// The BCM2711 GPIO block whose GPIO14/15 are switched to it, if any.
    pub gpio: Option<u64>,
}

/// The build's console: `BULKHEAD_CONSOLE` at build time, `None` without it (a build outside
/// `cargo xtask`: the console is then the device tree's, as the firmware left it).
pub fn built() -> Option<ConsoleSpec> {
    option_env!("BULKHEAD_CONSOLE").and_then(parse)
}

fn number(text: &str) -> Option<u64> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// Parses `kind,base,clock,gpio` (`gpio` is `-` for none), as `cargo xtask` writes it.
pub fn parse(text: &str) -> Option<ConsoleSpec> {
    let mut fields = text.split(',');
    let kind = match fields.next()? {
        "pl011" => Kind::Pl011,
        "mini-uart" => Kind::MiniUart,
        _ => return None,
    };
    let base = number(fields.next()?)?;
    let clock_hz = number(fields.next()?)?;
    let gpio = match fields.next()? {
        "-" => None,
        value => Some(number(value)?),
    };
    (fields.next().is_none() && clock_hz > 0).then_some(ConsoleSpec {
        kind,
        base,
        clock_hz,
        gpio,
    })
}

/// The PL011's integer and fractional baud divisors (UARTIBRD, UARTFBRD) for `baud` from a
/// `clock_hz` UARTCLK: divisor = UARTCLK / (16 * baud), the fraction in 64ths, rounded (Arm DDI
/// 0183G, 3.3.6).
pub fn pl011_divisors(clock_hz: u64, baud: u64) -> (u32, u32) {
    let sixty_fourths = (clock_hz * 4 + baud / 2) / baud;
    ((sixty_fourths >> 6) as u32, (sixty_fourths & 63) as u32)
}

/// The mini UART's AUX_MU_BAUD_REG for `baud` from a `clock_hz` core clock: baud = clock / (8 *
/// (reg + 1)) (BCM2711 ARM Peripherals, 2.2.1), rounded to the nearest rate.
pub fn mini_uart_baud(clock_hz: u64, baud: u64) -> u32 {
    let divisor = (clock_hz + 4 * baud) / (8 * baud);
    divisor.saturating_sub(1).min(0xffff) as u32
}

/// The GPIO function of GPIO14/15 that carries `kind` (BCM2711 ARM Peripherals, 5.3: TXD0/RXD0
/// are ALT0, TXD1/RXD1 are ALT5).
pub fn pin_function(kind: Kind) -> u32 {
    match kind {
        Kind::Pl011 => 0b100,
        Kind::MiniUart => 0b010,
    }
}

/// GPFSEL1 (GPIO10-19, three bits each) with GPIO14 and 15 set to `function`, the other pins
/// as they were.
pub fn gpfsel1_with_uart(gpfsel1: u32, function: u32) -> u32 {
    let field = |pin: u32| 3 * (pin - 10);
    let mask = 0b111 << field(14) | 0b111 << field(15);
    (gpfsel1 & !mask) | function << field(14) | function << field(15)
}

/// GPIO_PUP_PDN_CNTRL_REG0 (GPIO0-15, two bits each) with no pull on GPIO14 (TXD, driven) and
/// a pull-up on GPIO15 (RXD idles high; an unconnected RX then reads no noise).
pub fn pulls_with_uart(pulls: u32) -> u32 {
    const NONE: u32 = 0b00;
    const UP: u32 = 0b01;
    let mask = 0b11 << 28 | 0b11 << 30;
    (pulls & !mask) | NONE << 28 | UP << 30
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_spec_is_parsed_and_a_bad_one_refused() {
        assert_eq!(
            parse("mini-uart,0xfe215040,500000000,0xfe200000"),
            Some(ConsoleSpec {
                kind: Kind::MiniUart,
                base: 0xfe21_5040,
                clock_hz: 500_000_000,
                gpio: Some(0xfe20_0000),
            })
        );
        assert_eq!(
            parse("pl011,0x9000000,24000000,-").map(|s| (s.kind, s.gpio)),
            Some((Kind::Pl011, None))
        );
        for bad in [
            "",
            "uart7,0x0,1,-",
            "pl011,0x9000000,0,-",
            "pl011,0x9000000",
            "pl011,zz,1,-",
            "pl011,0x0,1,-,extra",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_pl011_divisors_for_115200_match_the_trm_example_and_the_pis_clock() {
        // Arm DDI 0183G 3.3.6: 4 MHz and 230400 baud give IBRD 1, FBRD 5 (1.085 * 64 = 5.4).
        assert_eq!(pl011_divisors(4_000_000, 230_400), (1, 5));
        // The Pi's 48 MHz UARTCLK: 26.042 -> 26 + 3/64.
        assert_eq!(pl011_divisors(48_000_000, BAUD), (26, 3));
        // QEMU virt's 24 MHz: 13.021 -> 13 + 1/64.
        assert_eq!(pl011_divisors(24_000_000, BAUD), (13, 1));
    }

    #[test]
    fn the_mini_uart_baud_register_follows_the_pinned_core_clock() {
        // 500 MHz (core_freq=500): 500e6 / (8 * 543) = 115101 baud, 0.09 % slow.
        assert_eq!(mini_uart_baud(500_000_000, BAUD), 542);
        // 250 MHz (the old enable_uart=1 default): the register value Linux uses, 270.
        assert_eq!(mini_uart_baud(250_000_000, BAUD), 270);
        let rate = |reg: u32| 500_000_000 / (8 * (u64::from(reg) + 1));
        assert!(rate(542).abs_diff(BAUD) * 1000 / BAUD < 2, "within 0.2 %");
    }

    #[test]
    fn only_gpio14_and_15_change_function_and_pull() {
        let all_outputs = 0o1111111111; // every pin of GPFSEL1 an output (0b001)
        let muxed = gpfsel1_with_uart(all_outputs, pin_function(Kind::MiniUart));
        assert_eq!(muxed >> 12 & 0b111, 0b010, "GPIO14 ALT5");
        assert_eq!(muxed >> 15 & 0b111, 0b010, "GPIO15 ALT5");
        assert_eq!(muxed & 0xfff, all_outputs & 0xfff, "GPIO10-13 untouched");
        assert_eq!(muxed >> 18, all_outputs >> 18, "GPIO16-19 untouched");
        let pl011 = gpfsel1_with_uart(0, pin_function(Kind::Pl011));
        assert_eq!(pl011, 0b100 << 12 | 0b100 << 15, "ALT0");
        assert_eq!(pulls_with_uart(u32::MAX), 0x4fff_ffff);
    }
}
