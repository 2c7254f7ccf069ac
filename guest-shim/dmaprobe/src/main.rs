//! `dmaprobe`: drives a passed-through virtio-blk-pci function from Linux userspace with a data
//! buffer at any physical address, to show what the device's DMA can reach (scenario
//! `dma_isolation`). The function must have no driver (its scenario does not load virtio_pci).
//!
//! ```text
//! dmaprobe FUNCTION read SECTOR [ADDR]    the device writes SECTOR into ADDR
//! dmaprobe FUNCTION write SECTOR [ADDR]   the device reads 512 bytes at ADDR into SECTOR
//! ```
//! Without ADDR the buffer is a page of this process's own (`read` prints what arrived; `write`
//! sends `DMAPROBE-WROTE-<sector>`). Addresses are the partition's own physical addresses, which
//! is what its devices' DMA is translated from (by the SMMU, through the partition's stage 2).
//! One line reports each request: `HIL:DMA <op> sector=S addr=A buffer=own|given
//! result=completed status=N|needs-reset|timeout`.

mod caps;
mod pci;
mod pinned;
mod virtio_blk;

use std::process::ExitCode;
use std::time::Duration;

use pinned::PinnedPage;
use virtio_blk::{Outcome, VirtioBlk, SECTOR, T_IN, T_OUT};

const USAGE: &str = "usage: dmaprobe FUNCTION read|write SECTOR [ADDR]";

fn number(text: &str) -> Result<u64, String> {
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|_| format!("not a number: {text}"))
}

/// What the report shows of a sector that arrived: its printable bytes up to the first NUL.
fn printable(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take_while(|&&b| b != 0)
        .filter(|b| b.is_ascii_graphic())
        .map(|&b| char::from(b))
        .collect()
}

fn run(args: &[String]) -> Result<(), String> {
    let [function, op, sector, rest @ ..] = args else {
        return Err(USAGE.into());
    };
    let kind = match op.as_str() {
        "read" => T_IN,
        "write" => T_OUT,
        _ => return Err(USAGE.into()),
    };
    let sector = number(sector)?;
    let given = match rest {
        [] => None,
        [addr] => Some(number(addr)?),
        _ => return Err(USAGE.into()),
    };
    let function = pci::Function::open(function)?;
    let caps = caps::parse(&function.config()?).map_err(String::from)?;
    let mut blk = VirtioBlk::new(&function, &caps)?;
    let own = PinnedPage::new()?;
    if kind == T_OUT && given.is_none() {
        let text = format!("DMAPROBE-WROTE-{sector}\n");
        // SAFETY: the page is ours and a page long; the text is shorter.
        unsafe { own.ptr().copy_from(text.as_ptr(), text.len()) };
    }
    let addr = given.unwrap_or(own.physical());
    let outcome = blk.request(kind, sector, addr, Duration::from_secs(2))?;
    let result = match outcome {
        Outcome::Completed(status) => format!("completed status={status}"),
        Outcome::NeedsReset => format!("needs-reset device-status={:#x}", blk.status()),
        Outcome::TimedOut => format!("timeout device-status={:#x}", blk.status()),
    };
    let mut line = format!(
        "HIL:DMA {op} sector={sector} addr={addr:#x} buffer={} result={result}",
        if given.is_some() { "given" } else { "own" }
    );
    if kind == T_IN && given.is_none() && matches!(outcome, Outcome::Completed(0)) {
        let mut data = [0u8; SECTOR as usize];
        // SAFETY: the page is ours; a sector is shorter than a page.
        unsafe { own.ptr().copy_to(data.as_mut_ptr(), data.len()) };
        line.push_str(&format!(" data={}", printable(&data)));
    }
    println!("{line}");
    blk.reset()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            println!("HIL:DMA error {why}");
            ExitCode::FAILURE
        }
    }
}
