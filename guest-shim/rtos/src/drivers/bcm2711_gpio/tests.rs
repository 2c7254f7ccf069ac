//! The GPIO driver against a fake register block in RAM.

use super::*;

/// A register block in memory, every register zero (the reset state: all inputs).
fn fake() -> Registers {
    Registers {
        gpfsel: core::array::from_fn(|_| ReadPureWrite(0)),
        _reserved_18: 0,
        gpset: [WriteOnly(0), WriteOnly(0)],
        _reserved_24: 0,
        gpclr: [WriteOnly(0), WriteOnly(0)],
        _reserved_30: 0,
        gplev: [ReadPure(0), ReadPure(0)],
        _reserved_3c: 0,
        gpeds: [ReadWrite(0), ReadWrite(0)],
        _reserved_48: 0,
        gpren: [ReadPureWrite(0), ReadPureWrite(0)],
        _reserved_54: 0,
        gpfen: [ReadPureWrite(0), ReadPureWrite(0)],
        _reserved_60: [0; 33],
        pup_pdn: core::array::from_fn(|_| ReadPureWrite(0)),
    }
}

#[test]
fn the_register_block_matches_the_datasheet_offsets() {
    // BCM2711 ARM Peripherals, 5.2: the last register (GPIO_PUP_PDN_CNTRL_REG3) is at 0xf0.
    assert_eq!(core::mem::size_of::<Registers>(), 0xf4);
    assert_eq!(core::mem::offset_of!(Registers, gpset), 0x1c);
    assert_eq!(core::mem::offset_of!(Registers, gpclr), 0x28);
    assert_eq!(core::mem::offset_of!(Registers, gplev), 0x34);
    assert_eq!(core::mem::offset_of!(Registers, gpeds), 0x40);
    assert_eq!(core::mem::offset_of!(Registers, gpren), 0x4c);
    assert_eq!(core::mem::offset_of!(Registers, gpfen), 0x58);
    assert_eq!(core::mem::offset_of!(Registers, pup_pdn), 0xe4);
}

#[test]
fn listening_clears_a_stale_event_and_enables_only_the_chosen_edges_of_its_pin() {
    let mut regs = fake();
    regs.gpren[0].0 = 1 << 3; // another pin's rising edge: kept
    regs.gpfen[0].0 = 1 << 17; // a falling edge left from before: dropped for Rising
    {
        let gpio = Gpio::new();
        gpio.attach(UniqueMmioPointer::from(&mut regs));
        let mut sensor = gpio.input(17, Pull::Down).unwrap();
        sensor.listen(Edges::Rising);
        let mut high = gpio.input(40, Pull::None).unwrap();
        high.listen(Edges::Both);
    }
    assert_eq!(regs.gpren[0].0, 1 << 3 | 1 << 17);
    assert_eq!(regs.gpfen[0].0, 0);
    assert_eq!(regs.gpren[1].0, 1 << 8, "GPIO40 is bit 8 of GPREN1");
    assert_eq!(regs.gpfen[1].0, 1 << 8);
    assert_eq!(
        regs.gpeds[0].0,
        1 << 17,
        "its event bit written back (cleared)"
    );
    assert_eq!(regs.gpeds[1].0, 1 << 8);
}

#[test]
fn taking_events_returns_and_clears_only_the_masked_bits() {
    let mut regs = fake();
    regs.gpeds[0].0 = 1 << 17 | 1 << 4;
    {
        let gpio = Gpio::new();
        gpio.attach(UniqueMmioPointer::from(&mut regs));
        assert_eq!(gpio.take_events(0, 1 << 17), 1 << 17);
        assert_eq!(gpio.take_events(0, 1 << 20), 0);
        assert_eq!(gpio.take_events(2, u32::MAX), 0, "no third register");
    }
    // The fake keeps the last write: the 1 written back to clear GPIO17's event.
    assert_eq!(regs.gpeds[0].0, 1 << 17);
}

#[test]
fn an_output_selects_function_001_and_writes_set_and_clear() {
    let mut regs = fake();
    regs.gpfsel[4].0 = 0o7777_7777; // GPIO40..49 with other functions: must be kept
    {
        let gpio = Gpio::new();
        gpio.attach(UniqueMmioPointer::from(&mut regs));
        let mut led = gpio.output(42).unwrap();
        led.set_high().unwrap();
    }
    // GPIO42 is field 2 of GPFSEL4: bits 8..6 become 001.
    assert_eq!(regs.gpfsel[4].0, 0o7777_7177);
    assert_eq!(regs.gpset[1].0, 1 << 10, "GPIO42 is bit 10 of GPSET1");
    assert_eq!(
        regs.gpclr[1].0,
        1 << 10,
        "driven low before becoming an output"
    );
}

#[test]
fn set_low_writes_only_the_clear_register_for_its_own_pin() {
    let mut regs = fake();
    {
        let gpio = Gpio::new();
        gpio.attach(UniqueMmioPointer::from(&mut regs));
        let mut five = gpio.output(5).unwrap();
        let _six = gpio.output(6).unwrap();
        five.set_low().unwrap();
    }
    assert_eq!(regs.gpclr[0].0, 1 << 5, "the last write: GPIO5's bit only");
    assert_eq!(regs.gpset[0].0, 0, "never driven high");
}

#[test]
fn an_input_reads_its_level_and_sets_its_pull() {
    let mut regs = fake();
    regs.gplev[0].0 = 1 << 17;
    regs.pup_pdn[1].0 = 0xffff_ffff;
    {
        let gpio = Gpio::new();
        gpio.attach(UniqueMmioPointer::from(&mut regs));
        let mut button = gpio.input(17, Pull::Up).unwrap();
        assert!(button.is_high().unwrap());
        let mut other = gpio.input(16, Pull::None).unwrap();
        assert!(other.is_low().unwrap());
    }
    // GPIO17 is field 1 of REG1 (bits 3..2 = 01), GPIO16 field 0 (bits 1..0 = 00).
    assert_eq!(regs.pup_pdn[1].0, 0xffff_fff4);
    assert_eq!(regs.gpfsel[1].0, 0, "both are inputs (000)");
}

#[test]
fn a_pin_is_handed_out_once_and_must_exist() {
    let mut regs = fake();
    let gpio = Gpio::new();
    assert!(matches!(gpio.output(1), Err(GpioError::NoBlock)));
    gpio.attach(UniqueMmioPointer::from(&mut regs));
    let _first = gpio.output(1).unwrap();
    assert!(matches!(
        gpio.input(1, Pull::None),
        Err(GpioError::PinTaken(1))
    ));
    assert!(matches!(gpio.output(58), Err(GpioError::NoSuchPin(58))));
}

#[test]
fn an_output_reads_back_its_level() {
    let mut regs = fake();
    regs.gplev[0].0 = 1 << 3;
    let gpio = Gpio::new();
    gpio.attach(UniqueMmioPointer::from(&mut regs));
    let mut pin = gpio.output(3).unwrap();
    assert!(pin.is_set_high().unwrap());
}
