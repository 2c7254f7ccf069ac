//! `control`: the 1 kHz loop. Reads the sensor pin (the set-point's sign), steps a PI controller
//! on a simulated first-order plant, and queues the output for `filter`.
#![forbid(unsafe_code)]

use embedded_hal::digital::InputPin;
use rtos::{Context, Task};

use super::{Sample, Samples};

/// Plant steps per job: the job's computing load (about 2,000 instructions).
pub const STEPS: u32 = 100;

/// The control loop's state.
pub struct Control<P> {
    sensor: P,
    samples: &'static Samples,
    plant: i64,
    integral: i64,
    /// Samples `filter` did not take in time (queue full).
    pub lost: u64,
}

impl<P: InputPin> Control<P> {
    /// A controller reading `sensor` and queueing into `samples`.
    pub fn new(sensor: P, samples: &'static Samples) -> Self {
        Control {
            sensor,
            samples,
            plant: 0,
            integral: 0,
            lost: 0,
        }
    }

    /// One controller step towards `setpoint`; returns the plant's output.
    fn step(&mut self, setpoint: i64) -> i64 {
        for _ in 0..STEPS {
            let error = setpoint - self.plant;
            self.integral = (self.integral + error).clamp(-100_000, 100_000);
            let drive = error / 4 + self.integral / 64;
            self.plant += (drive - self.plant) / 16;
        }
        self.plant
    }
}

impl<P: InputPin> Task for Control<P> {
    fn run(&mut self, cx: &mut Context<'_>) {
        let setpoint = if self.sensor.is_high().unwrap_or(false) {
            1_000
        } else {
            -1_000
        };
        let value = self
            .step(setpoint)
            .clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
        let sample = Sample {
            at: cx.job().release,
            value,
        };
        if self.samples.send(cx, sample).is_err() {
            self.lost += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::fake;
    use embedded_hal_mock::eh1::digital::{Mock, State, Transaction};

    #[test]
    fn each_job_reads_the_sensor_once_and_queues_a_sample() {
        let samples: &'static Samples = Box::leak(Box::default());
        let sensor = Mock::new(&[
            Transaction::get(State::High),
            Transaction::get(State::High),
            Transaction::get(State::Low),
        ]);
        let mut control = Control::new(sensor, samples);
        let services = fake::Services;
        for job in 0..3 {
            control.run(&mut fake::context(&services, job));
        }
        let values: Vec<i32> = std::iter::from_fn(|| samples.try_recv().map(|s| s.value)).collect();
        assert_eq!(values.len(), 3);
        assert!(
            values[1] > values[0] && values[0] > 0,
            "rising towards +1000"
        );
        assert!(values[2] < values[1], "turning towards -1000");
        assert_eq!(control.lost, 0);
        control.sensor.done();
    }

    #[test]
    fn a_full_queue_counts_lost_samples() {
        let samples: &'static Samples = Box::leak(Box::default());
        let reads = vec![Transaction::get(State::Low); 33];
        let mut control = Control::new(Mock::new(&reads), samples);
        let services = fake::Services;
        for job in 0..33 {
            control.run(&mut fake::context(&services, job));
        }
        assert_eq!((samples.len(), control.lost), (32, 1));
        control.sensor.done();
    }
}
