//! The rates of the Raspberry Pi 4 clocks a partition cannot reach, for the fixed clocks that
//! stand in for them in a derived device tree.
//!
//! On the BCM2711 the clock manager (`brcm,bcm2711-cprman`) and the firmware's mailbox clocks
//! (`raspberrypi,firmware-clocks`) are shared by the whole SoC: the hypervisor grants neither to
//! a partition. A passed-through device that names one of their clocks gets a `fixed-clock`
//! with the rate the VideoCore firmware sets at boot instead. The rates come from the
//! firmware's documented defaults (Raspberry Pi `config.txt` documentation, *[docs]*: not yet
//! measured on a board) for the `config.txt` xtask writes, which sets none of them.

/// A clock a partition's device uses, by its provider and specifier, and the rate it has.
pub struct KnownClock {
    /// `compatible` of the provider node.
    pub provider: &'static str,
    /// The clock's specifier (the cells after the phandle).
    pub specifier: &'static [u32],
    /// The name of the fixed clock that replaces it (also its `clock-output-names`).
    pub name: &'static str,
    /// Its rate in Hz.
    pub rate: u32,
}

/// The PL011 reference clock: the firmware's `init_uart_clock`, 48 MHz by default.
const UART_HZ: u32 = 48_000_000;
/// The VPU (core) clock of the Pi 4: `core_freq`, 500 MHz by default. The I2C, SPI and
/// mini UART dividers count from it.
const CORE_HZ: u32 = 500_000_000;

/// The EMMC2 (SD card) controller's base clock on the Pi 4.
const EMMC2_HZ: u32 = 100_000_000;

/// Every clock xtask knows a rate for.
pub const KNOWN: &[KnownClock] = &[
    // include/dt-bindings/clock/bcm2835.h: BCM2835_CLOCK_UART = 19, BCM2835_CLOCK_VPU = 20.
    KnownClock {
        provider: "brcm,bcm2711-cprman",
        specifier: &[19],
        name: "uart",
        rate: UART_HZ,
    },
    KnownClock {
        provider: "brcm,bcm2711-cprman",
        specifier: &[20],
        name: "vpu",
        rate: CORE_HZ,
    },
    // BCM2711_CLOCK_EMMC2 = 51: the SD card controller's base clock. 100 MHz is what the
    // firmware is documented to leave it at *[docs, not measured]*; the controller divides it
    // for the card, so a different rate only changes the card's bus speed in proportion.
    KnownClock {
        provider: "brcm,bcm2711-cprman",
        specifier: &[51],
        name: "emmc2",
        rate: EMMC2_HZ,
    },
    // include/soc/bcm2835/raspberrypi-firmware.h: RPI_FIRMWARE_UART_CLK_ID = 2,
    // RPI_FIRMWARE_CORE_CLK_ID = 4.
    KnownClock {
        provider: "raspberrypi,firmware-clocks",
        specifier: &[2],
        name: "uart",
        rate: UART_HZ,
    },
    KnownClock {
        provider: "raspberrypi,firmware-clocks",
        specifier: &[4],
        name: "vpu",
        rate: CORE_HZ,
    },
];

/// The known clock a provider with `compatible` strings names by `specifier`.
pub fn lookup(compatible: &[String], specifier: &[u32]) -> Option<&'static KnownClock> {
    KNOWN
        .iter()
        .find(|k| k.specifier == specifier && compatible.iter().any(|c| c == k.provider))
}

/// The known clock called `name` (for the partition's virtual console).
pub fn by_name(name: &str) -> Option<&'static KnownClock> {
    KNOWN.iter().find(|k| k.name == name)
}
