//! The sensor's edges by interrupt: on the Raspberry Pi 4 the sensor pin (GPIO17, bank 0)
//! detects both edges, which raise the GPIO block's bank-0 interrupt (the first of its node's
//! `interrupts`, INTID 145). The RTOS routes it to its CPU, enables it at its GIC (under
//! Bulkhead the virtual one; the hypervisor routes the physical SPI to the CPU the partition
//! runs on) and takes it here: the handler clears the pin's event at the block, which drops the
//! line, and counts it. The `control` task still samples the level every millisecond; the
//! edges are the events between samples.
//!
//! Each of the first few interrupts is reported as
//! `HIL:RTOS gpio-irq intid=N count=K events=0xE edges=T level=high|low` (scenario
//! `spis_reach_cpus_2_3` pends it once at the physical GIC, as QEMU's GPIO model raises no
//! interrupt of its own).
#![forbid(unsafe_code)]

use core::cell::Cell;

use critical_section::Mutex;
use rtos::devicetree::Platform;
use rtos::drivers::bcm2711_gpio::{Edges, Gpio, Input};
use rtos::println;

/// The pins whose edges bank 0's interrupt reports (GPIO0..27).
const BANK0_PINS: u8 = 28;
/// The most interrupts reported on the console.
const REPORTED: u32 = 4;

/// What the handler needs: the block, the event register and the pin's bit in it.
#[derive(Clone, Copy)]
struct Listening {
    gpio: &'static Gpio<'static>,
    index: usize,
    mask: u32,
}

static LISTENING: Mutex<Cell<Option<Listening>>> = Mutex::new(Cell::new(None));
/// Interrupts taken, and the edges they reported.
static COUNTS: Mutex<Cell<(u32, u32)>> = Mutex::new(Cell::new((0, 0)));

/// Makes `sensor`'s edges interrupt this CPU when `platform`'s GPIO node names bank 0's
/// interrupt and the pin is in bank 0; returns the INTID. Interrupts must be started.
pub fn listen(
    gpio: &'static Gpio<'static>,
    sensor: &mut Input<'static, 'static>,
    platform: &Platform<'_>,
) -> Option<u32> {
    let intid = platform.gpio_intid?;
    let pin = sensor.pin();
    if pin >= BANK0_PINS {
        return None;
    }
    let listening = Listening {
        gpio,
        index: usize::from(pin / 32),
        mask: 1 << (pin % 32),
    };
    critical_section::with(|cs| LISTENING.borrow(cs).set(Some(listening)));
    sensor.listen(Edges::Both);
    match rtos::runtime::enable_device_interrupt(intid, on_interrupt) {
        Ok(()) => {
            println!("HIL:RTOS gpio-irq enabled intid={intid} pin={pin} edges=both");
            Some(intid)
        }
        Err(e) => {
            println!("HIL:RTOS gpio-irq not enabled intid={intid}: {e:?}");
            None
        }
    }
}

/// The interrupt handler (IRQs masked): clears the pin's event, which drops the bank's line.
fn on_interrupt(intid: u32) {
    let Some(listening) = critical_section::with(|cs| LISTENING.borrow(cs).get()) else {
        return;
    };
    let events = listening.gpio.take_events(listening.index, listening.mask);
    let (count, edges) = critical_section::with(|cs| {
        let counts = COUNTS.borrow(cs);
        let (taken, edges) = counts.get();
        let now = (
            taken.saturating_add(1),
            edges.saturating_add(events.count_ones()),
        );
        counts.set(now);
        now
    });
    if count <= REPORTED {
        let level = if listening.gpio.levels(listening.index) & listening.mask != 0 {
            "high"
        } else {
            "low"
        };
        println!(
            "HIL:RTOS gpio-irq intid={intid} count={count} events={events:#x} edges={edges} level={level}"
        );
    }
}
