//! `bulkheadctl`: partition management from Linux userspace in the `privileged` partition.
//!
//! EL0 cannot issue HVC and Debian's kernel offers no userspace SMCCC interface, so the
//! hypervisor gives the privileged partition a management window (`docs/guest-abi.md`, "The
//! management window"): a 4 KiB register page no driver claims, mapped here through
//! `/dev/mem`. Each command writes a management call's function ID and arguments, rings
//! CALL and reads the results; partition names are resolved through BULKHEAD_MGMT_LIST.
//!
//! ```text
//! bulkheadctl [--window ADDR] list | free | start NAME | stop NAME | restart NAME
//! ```
//! Without `--window` the address comes from the device tree node whose `compatible` is
//! `bulkhead,management` (under `/proc/device-tree`).

mod record;
mod window;

use std::process::ExitCode;

use bulkhead_abi::{error, mgmt, vendor};

use record::Record;
use window::Window;

fn usage() -> String {
    "usage: bulkheadctl [--window ADDR] list | free | start NAME | stop NAME | restart NAME"
        .to_string()
}

/// The words an error code is printed as.
fn error_name(x0: u64) -> String {
    let code = x0 as i64;
    let name = match code {
        c if c == i64::from(error::vendor::DENIED) => "DENIED",
        c if c == i64::from(error::vendor::WRONG_STATE) => "WRONG_STATE",
        c if c == i64::from(error::vendor::INVALID_PARAMETER) => "INVALID_PARAMETER",
        c if c == i64::from(error::vendor::NOT_SUPPORTED) => "NOT_SUPPORTED",
        _ => "ERROR",
    };
    format!("{name} ({code})")
}

/// Every partition's record, through as many LIST calls as it takes.
fn list(window: &Window) -> Result<Vec<Record>, String> {
    let mut records = Vec::new();
    loop {
        let first = records.len() as u64;
        let data = window.data_ipa();
        let [x0, count, written, size] = window.call(
            vendor::MGMT_LIST | 0x4000_0000,
            [data, bulkhead_abi::window::DATA_SIZE as u64, first],
        );
        if x0 != 0 {
            return Err(format!("list: {}", error_name(x0)));
        }
        if size != mgmt::RECORD_SIZE as u64 {
            return Err(format!("list: unexpected record size {size}"));
        }
        for i in 0..written as usize {
            records.push(Record::parse(&window.data_record(i)));
        }
        if written == 0 || records.len() as u64 >= count {
            return Ok(records);
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let (address, rest) = match args {
        [flag, address, rest @ ..] if flag == "--window" => (Some(parse_address(address)?), rest),
        rest => (None, rest),
    };
    let address = match address {
        Some(address) => address,
        None => window::from_device_tree()?,
    };
    let window = Window::open(address)?;
    match rest {
        [command] if command == "list" => {
            for record in list(&window)? {
                println!("{record}");
            }
            Ok(())
        }
        [command] if command == "free" => {
            let [x0, ram, free, total] = window.call(vendor::MGMT_FREE_MEMORY, [0; 3]);
            if x0 != 0 {
                return Err(format!("free: {}", error_name(x0)));
            }
            println!("free ram={ram} tables-free={free} tables-total={total}");
            Ok(())
        }
        [command, name] => {
            let function = match command.as_str() {
                "start" => vendor::MGMT_START,
                "stop" => vendor::MGMT_STOP,
                "restart" => vendor::MGMT_RESTART,
                _ => return Err(usage()),
            };
            let id = list(&window)?
                .iter()
                .find(|r| r.name == *name)
                .map(|r| r.id)
                .ok_or_else(|| format!("{command}: no partition called {name:?}"))?;
            let [x0, ..] = window.call(function, [u64::from(id), 0, 0]);
            if x0 != 0 {
                return Err(format!("{command} {name}: {}", error_name(x0)));
            }
            println!("{command} {name}: ok");
            Ok(())
        }
        _ => Err(usage()),
    }
}

fn parse_address(text: &str) -> Result<u64, String> {
    let digits = text.trim_start_matches("0x").replace('_', "");
    u64::from_str_radix(&digits, 16).map_err(|_| format!("bad window address {text:?}"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bulkheadctl: error: {message}");
            ExitCode::FAILURE
        }
    }
}
