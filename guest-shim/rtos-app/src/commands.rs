//! The console's command reader: a line typed at the partition's console (through the virtual
//! PL011's receive interrupt, [`rtos::console::input`]) is a command, answered on the console.
//!
//! - `help`: lists the commands.
//! - `stats`: uptime, windows run, interrupts, console input, then each task's counts in the
//!   current window so far (`RTOS stats task=NAME rel=... done=... miss=...`).
//!
//! Anything else is answered with `RTOS unknown command "..." (try help)`. Answers start with
//! `RTOS ` rather than `HIL:RTOS ` so the scenarios' parsers of the window reports never
//! mistake them for report lines.
#![forbid(unsafe_code)]

use core::cell::RefCell;

use critical_section::Mutex;
use rtos::arch::cpu;
use rtos::console::input::{LineReader, INPUT};
use rtos::runtime::{self, KERNEL};
use rtos::{println, TaskId};

/// The line being typed.
static READER: Mutex<RefCell<LineReader>> = Mutex::new(RefCell::new(LineReader::new()));

/// What [`serve`] needs to answer.
pub struct Status<'a> {
    /// The tasks, in report order.
    pub tasks: &'a [TaskId],
    /// Windows completed.
    pub windows: u32,
}

/// Whether input waits (for the main loop's idle condition).
pub fn pending() -> bool {
    INPUT.pending()
}

/// Answers every complete line of input; sends the answers out. Returns how many commands.
pub fn serve(status: &Status<'_>) -> usize {
    let mut served = 0;
    while let Some(line) = critical_section::with(|cs| READER.borrow_ref_mut(cs).poll(&INPUT)) {
        answer(line.trim(), status);
        served += 1;
    }
    if served > 0 {
        runtime::flush_console();
    }
    served
}

fn answer(command: &str, status: &Status<'_>) {
    match command {
        "help" => {
            println!("RTOS commands: help (this list), stats (uptime, interrupts, task counts)");
        }
        "stats" => {
            let frequency = cpu::frequency();
            let uptime_ms = cpu::now().0 / (frequency.0 / 1000).max(1);
            println!(
                "RTOS stats uptime-ms={uptime_ms} windows={} interrupts={} stray-irqs={} input-dropped={}",
                status.windows,
                runtime::interrupts_taken(),
                runtime::stray_interrupts(),
                INPUT.dropped()
            );
            let snapshot = KERNEL.snapshot();
            for &task in status.tasks {
                if let (Some(config), Some(stats)) = (snapshot.config(task), snapshot.stats(task)) {
                    println!(
                        "RTOS stats task={} rel={} done={} miss={}",
                        config.name, stats.releases, stats.completed, stats.misses
                    );
                }
            }
        }
        other => {
            println!("RTOS unknown command \"{other}\" (try help)");
        }
    }
}
