//! The boot arguments (`/chosen/bootargs`, or QEMU's `-append` bare):
//! - `mode=periodic` (default): the task set, in measurement windows;
//! - `mode=bench`: the timer-interrupt-to-task latency benchmark, then power off;
//! - `windows=N`: how many windows (0, the default, for ever), then power off;
//! - `window-ms=T`: each window's length in guest milliseconds (default 10000);
//! - `delay-ms=D`: guest milliseconds before the first window (default 0), e.g. to let a
//!   neighbouring partition boot first;
//! - `console=deferred` (default): console output waits until the window ends, so the
//!   measurement never touches the (possibly shared) console; `console=live`: sent when idle;
//! - `load=N`: bare metal only, start N more CPUs running a CPU, memory and timer load (the
//!   same number of busy vCPUs as a loaded Linux partition beside the RTOS);
//! - `iterations=N` (default 10000) and `period-us=P` (default 1000): the benchmark's job count
//!   and period;
//! - `watchdog-ms=T` (default 1000): with an SBSA generic watchdog in the device tree, its
//!   offset (WOR): the first signal T ms after the last refresh, the second (the partition's
//!   `on-stop`) T ms later; `watchdog-pets=N` (0, the default, for ever): refresh it N times,
//!   then stop (a stuck partition).
//! - `crash-restarts=C` and `reset-restarts=R` (default 0; under Bulkhead only): while the
//!   partition's restart count (BULKHEAD_MGMT_SELF) is below C, fault at boot (a store outside
//!   its memory); while it is below C + R, call PSCI SYSTEM_RESET at boot; then run as usual
//!   (scenario `restart_loop`).
#![forbid(unsafe_code)]

/// What the RTOS runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The periodic task set.
    Periodic,
    /// The latency benchmark.
    Bench,
}

/// When the console is sent out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsolePolicy {
    /// Between windows only.
    Deferred,
    /// Whenever the main loop is idle.
    Live,
}

/// The parsed boot arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// What to run.
    pub mode: Mode,
    /// Windows to run (0: for ever).
    pub windows: u32,
    /// Window length, guest milliseconds.
    pub window_ms: u64,
    /// Time before the first window, guest milliseconds.
    pub delay_ms: u64,
    /// When console output goes out.
    pub console: ConsolePolicy,
    /// Load CPUs to start (bare metal).
    pub load: usize,
    /// Benchmark jobs.
    pub iterations: u64,
    /// Benchmark period, microseconds.
    pub period_us: u64,
    /// The watchdog's offset, milliseconds.
    pub watchdog_ms: u64,
    /// Watchdog refreshes before stopping (0: for ever).
    pub watchdog_pets: u64,
    /// Boots that fault at once (counted by the hypervisor's restart count).
    pub crash_restarts: u64,
    /// Boots after those that reset at once.
    pub reset_restarts: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            mode: Mode::Periodic,
            windows: 0,
            window_ms: 10_000,
            delay_ms: 0,
            console: ConsolePolicy::Deferred,
            load: 0,
            iterations: 10_000,
            period_us: 1_000,
            watchdog_ms: 1_000,
            watchdog_pets: 0,
            crash_restarts: 0,
            reset_restarts: 0,
        }
    }
}

/// A boot argument with a value the RTOS does not accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgError<'a> {
    /// The key.
    pub key: &'static str,
    /// What it was given.
    pub value: &'a str,
}

fn number<'a>(key: &'static str, value: &'a str) -> Result<u64, ArgError<'a>> {
    value.parse().map_err(|_| ArgError { key, value })
}

/// What a boot does before its mode, given the restart count and the settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootAction {
    /// Fault at once.
    Crash,
    /// PSCI SYSTEM_RESET at once.
    Reset,
    /// Run the mode.
    Run,
}

impl Settings {
    /// What boot number `restarts` (0 = the first) does.
    pub fn boot_action(&self, restarts: u64) -> BootAction {
        if restarts < self.crash_restarts {
            BootAction::Crash
        } else if restarts < self.crash_restarts.saturating_add(self.reset_restarts) {
            BootAction::Reset
        } else {
            BootAction::Run
        }
    }

    /// Reads the settings through `arg` (the value of `key=value` in the boot arguments).
    pub fn parse<'a>(arg: impl Fn(&str) -> Option<&'a str>) -> Result<Settings, ArgError<'a>> {
        let mut settings = Settings::default();
        if let Some(value) = arg("mode") {
            settings.mode = match value {
                "periodic" => Mode::Periodic,
                "bench" => Mode::Bench,
                _ => return Err(ArgError { key: "mode", value }),
            };
        }
        if let Some(value) = arg("console") {
            settings.console = match value {
                "deferred" => ConsolePolicy::Deferred,
                "live" => ConsolePolicy::Live,
                _ => {
                    return Err(ArgError {
                        key: "console",
                        value,
                    })
                }
            };
        }
        if let Some(value) = arg("windows") {
            settings.windows = u32::try_from(number("windows", value)?).map_err(|_| ArgError {
                key: "windows",
                value,
            })?;
        }
        if let Some(value) = arg("window-ms") {
            settings.window_ms = number("window-ms", value)?.max(1);
        }
        if let Some(value) = arg("delay-ms") {
            settings.delay_ms = number("delay-ms", value)?;
        }
        if let Some(value) = arg("load") {
            settings.load = usize::try_from(number("load", value)?).unwrap_or(usize::MAX);
        }
        if let Some(value) = arg("iterations") {
            settings.iterations = number("iterations", value)?.max(1);
        }
        if let Some(value) = arg("period-us") {
            settings.period_us = number("period-us", value)?.max(10);
        }
        if let Some(value) = arg("watchdog-ms") {
            settings.watchdog_ms = number("watchdog-ms", value)?.max(1);
        }
        if let Some(value) = arg("watchdog-pets") {
            settings.watchdog_pets = number("watchdog-pets", value)?;
        }
        if let Some(value) = arg("crash-restarts") {
            settings.crash_restarts = number("crash-restarts", value)?;
        }
        if let Some(value) = arg("reset-restarts") {
            settings.reset_restarts = number("reset-restarts", value)?;
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &'static str) -> Result<Settings, ArgError<'static>> {
        Settings::parse(|key| {
            args.split_whitespace().find_map(|word| {
                let (k, v) = word.split_once('=')?;
                (k == key).then_some(v)
            })
        })
    }

    #[test]
    fn defaults_run_the_task_set_for_ever_with_deferred_output() {
        assert_eq!(parse(""), Ok(Settings::default()));
        assert_eq!(Settings::default().window_ms, 10_000);
    }

    #[test]
    fn every_setting_is_read() {
        let s = parse("mode=bench windows=2 window-ms=500 delay-ms=3 console=live load=2 iterations=7 period-us=250 watchdog-ms=300 watchdog-pets=5")
            .unwrap();
        assert_eq!(
            s,
            Settings {
                mode: Mode::Bench,
                windows: 2,
                window_ms: 500,
                delay_ms: 3,
                console: ConsolePolicy::Live,
                load: 2,
                iterations: 7,
                period_us: 250,
                watchdog_ms: 300,
                watchdog_pets: 5,
                ..Settings::default()
            }
        );
    }

    #[test]
    fn a_bad_value_names_its_key() {
        assert_eq!(
            parse("mode=fast"),
            Err(ArgError {
                key: "mode",
                value: "fast"
            })
        );
        assert_eq!(
            parse("window-ms=ten"),
            Err(ArgError {
                key: "window-ms",
                value: "ten"
            })
        );
    }

    #[test]
    fn crash_and_reset_restarts_pick_the_boot_action() {
        let settings = parse("crash-restarts=2 reset-restarts=3").unwrap();
        let actions: Vec<_> = (0..6).map(|n| settings.boot_action(n)).collect();
        use BootAction::*;
        assert_eq!(actions, [Crash, Crash, Reset, Reset, Reset, Run]);
        assert_eq!(Settings::default().boot_action(0), Run);
        let huge = parse("crash-restarts=18446744073709551615 reset-restarts=5").unwrap();
        assert_eq!(huge.boot_action(u64::MAX - 1), Crash);
    }
}
