//! The board's pins: the Raspberry Pi 4's GPIO when the device tree has a `brcm,bcm2711-gpio`
//! block (the activity LED on GPIO42, a sensor on GPIO17 whose edges interrupt: see
//! `sensor_edges`), simulated pins otherwise. Called once interrupts are started.
#![forbid(unsafe_code)]

use embedded_hal::digital::{ErrorType, InputPin, OutputPin, StatefulOutputPin};
use rtos::arch::{mmio, GenericTimer};
use rtos::devicetree::Platform;
use rtos::drivers::bcm2711_gpio::{Gpio, Input, Output, Pull};
use rtos::drivers::sim_pin::{SimulatedOutput, SquareWaveInput};

/// The Raspberry Pi 4's activity LED.
const LED_PIN: u8 = 42;
/// The sensor input.
const SENSOR_PIN: u8 = 17;
/// The simulated sensor's square wave period.
const SENSOR_PERIOD_MS: u64 = 50;

static GPIO: Gpio<'static> = Gpio::new();

/// The heartbeat LED.
pub enum Led {
    /// A GPIO output.
    Gpio(Output<'static, 'static>),
    /// No GPIO: a simulated output.
    Simulated(SimulatedOutput),
}

/// The sensor input.
pub enum Sensor {
    /// A GPIO input.
    Gpio(Input<'static, 'static>),
    /// No GPIO: a square wave.
    Simulated(SquareWaveInput<GenericTimer>),
}

/// The LED and the sensor of this board.
pub fn pins(platform: &Platform<'_>) -> (Led, Sensor) {
    if let Some(regs) = mmio::bcm2711_gpio(platform) {
        GPIO.attach(regs);
        if let (Ok(led), Ok(mut sensor)) =
            (GPIO.output(LED_PIN), GPIO.input(SENSOR_PIN, Pull::Down))
        {
            crate::sensor_edges::listen(&GPIO, &mut sensor, platform);
            return (Led::Gpio(led), Sensor::Gpio(sensor));
        }
    }
    let period = rtos::arch::cpu::frequency().millis(SENSOR_PERIOD_MS).0;
    (
        Led::Simulated(SimulatedOutput::new()),
        Sensor::Simulated(SquareWaveInput::new(GenericTimer, period)),
    )
}

impl ErrorType for Led {
    type Error = core::convert::Infallible;
}

impl OutputPin for Led {
    fn set_low(&mut self) -> Result<(), Self::Error> {
        match self {
            Led::Gpio(pin) => pin.set_low(),
            Led::Simulated(pin) => pin.set_low(),
        }
    }

    fn set_high(&mut self) -> Result<(), Self::Error> {
        match self {
            Led::Gpio(pin) => pin.set_high(),
            Led::Simulated(pin) => pin.set_high(),
        }
    }
}

impl StatefulOutputPin for Led {
    fn is_set_high(&mut self) -> Result<bool, Self::Error> {
        match self {
            Led::Gpio(pin) => pin.is_set_high(),
            Led::Simulated(pin) => pin.is_set_high(),
        }
    }

    fn is_set_low(&mut self) -> Result<bool, Self::Error> {
        self.is_set_high().map(|high| !high)
    }
}

impl ErrorType for Sensor {
    type Error = core::convert::Infallible;
}

impl InputPin for Sensor {
    fn is_high(&mut self) -> Result<bool, Self::Error> {
        match self {
            Sensor::Gpio(pin) => pin.is_high(),
            Sensor::Simulated(pin) => pin.is_high(),
        }
    }

    fn is_low(&mut self) -> Result<bool, Self::Error> {
        self.is_high().map(|high| !high)
    }
}
