//! `cargo xtask defmt-decode`: turns the `DEFMT:` lines of a console log back into messages.
//!
//! The RTOS partition logs with defmt: each frame leaves it as `DEFMT:` plus the frame's bytes
//! in base64 (at most 96 bytes per line, so a line-based console such as Bulkhead's carries it;
//! a longer frame continues on the next `DEFMT:` line). This filter reads a log on standard
//! input, decodes those lines with the defmt table of the ELF that made them, and prints each
//! message in their place with its timestamp, level and source location, keeping the prefix
//! the hypervisor added (`[rtos] `). Every other line passes through unchanged, line by line,
//! so it can sit behind a live console:
//!
//! ```text
//! cargo xtask run --config rtos-periodic | cargo xtask defmt-decode
//! [rtos] 3011.236 INFO  window 0: 10000 ms from tick 3011231753 (guest-shim/rtos-app/src/periodic.rs:123)
//! ```

use anyhow::{Context, Result};
use defmt_decoder::{DecodeError, Locations, StreamDecoder, Table};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;

use crate::paths;

/// What starts a line that carries defmt bytes (after the hypervisor's `[name] ` prefix).
const MARKER: &str = "DEFMT:";

/// Arguments of `cargo xtask defmt-decode`.
#[derive(clap::Args)]
pub struct DecodeArgs {
    /// The ELF whose defmt table decodes the log (default: the RTOS partition,
    /// target/aarch64-unknown-none-softfloat/release/rtos-app).
    #[arg(long)]
    pub elf: Option<PathBuf>,
}

/// The RTOS partition's ELF, as `cargo xtask build` leaves it.
pub fn default_elf() -> PathBuf {
    paths::target()
        .join(paths::BARE_TARGET)
        .join("release")
        .join("rtos-app")
}

/// `cargo xtask defmt-decode`.
pub fn run(args: &DecodeArgs) -> Result<()> {
    let path = args.elf.clone().unwrap_or_else(default_elf);
    let elf = std::fs::read(&path).with_context(|| {
        format!(
            "reading {} (build it with `cargo xtask build --config rtos-periodic`)",
            path.display()
        )
    })?;
    let table = Table::parse(&elf)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        .with_context(|| format!("{} has no defmt table", path.display()))?;
    let locations = table
        .get_locations(&elf)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut decoder = LogDecoder::new(&table, &locations);
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    let mut line = Vec::new();
    let mut input = stdin.lock();
    while input.read_until(b'\n', &mut line)? > 0 {
        let text = String::from_utf8_lossy(&line);
        for out in decoder.line(text.trim_end_matches(['\n', '\r'])) {
            writeln!(stdout, "{out}")?;
        }
        stdout.flush()?;
        line.clear();
    }
    Ok(())
}

/// Decodes the `DEFMT:` lines of a log, one defmt stream per line prefix (partition).
pub struct LogDecoder<'t> {
    table: &'t Table,
    locations: &'t Locations,
    streams: BTreeMap<String, Box<dyn StreamDecoder + Send + Sync + 't>>,
}

impl<'t> LogDecoder<'t> {
    /// A decoder for logs made by the ELF of `table` and `locations`.
    pub fn new(table: &'t Table, locations: &'t Locations) -> Self {
        LogDecoder {
            table,
            locations,
            streams: BTreeMap::new(),
        }
    }

    /// What to print for one input line: the line itself, or the messages it completes
    /// (none while a frame continues on the next line).
    pub fn line(&mut self, line: &str) -> Vec<String> {
        let Some((prefix, payload)) = split_defmt_line(line) else {
            return vec![line.to_string()];
        };
        let Some(bytes) = base64_decode(payload) else {
            return vec![format!("{prefix}(defmt: not base64: {payload})")];
        };
        let table = self.table;
        let stream = self
            .streams
            .entry(prefix.to_string())
            .or_insert_with(|| table.new_stream_decoder());
        stream.received(&bytes);
        let mut out = Vec::new();
        loop {
            match stream.decode() {
                Ok(frame) => {
                    let location = self
                        .locations
                        .get(&frame.index())
                        .map(|l| format!(" ({}:{})", relative(&l.file), l.line))
                        .unwrap_or_default();
                    out.push(format!("{prefix}{}{location}", frame.display(false)));
                }
                Err(DecodeError::UnexpectedEof) => break,
                Err(DecodeError::Malformed) => out.push(format!(
                    "{prefix}(defmt: malformed frame; was the ELF rebuilt?)"
                )),
            }
        }
        out
    }
}

/// A source path relative to the repository, as people write it.
fn relative(path: &std::path::Path) -> String {
    path.strip_prefix(paths::root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// `("[rtos] ", payload)` for a `DEFMT:` line, whatever prefix the console added.
fn split_defmt_line(line: &str) -> Option<(&str, &str)> {
    let at = line.find(MARKER)?;
    let (prefix, rest) = line.split_at(at);
    // Only a console prefix may come before the marker: `[name] ` or nothing.
    let prefix_ok = prefix.is_empty() || (prefix.starts_with('[') && prefix.ends_with("] "));
    prefix_ok.then(|| (prefix, rest[MARKER.len()..].trim()))
}

/// Decodes standard, padded base64 (RFC 4648); `None` if `text` is not that.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for quad in bytes.chunks(4) {
        let padding = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if padding > 2 {
            return None;
        }
        let mut n = 0u32;
        for &c in &quad[..4 - padding] {
            n = n << 6 | value(c)?;
        }
        n <<= 6 * padding as u32;
        let decoded = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&decoded[..3 - padding]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_the_rfc_4648_vectors() {
        for (text, bytes) in [
            ("", &b""[..]),
            ("Zg==", b"f"),
            ("Zm8=", b"fo"),
            ("Zm9v", b"foo"),
            ("Zm9vYmFy", b"foobar"),
            ("/wD+", &[0xff, 0x00, 0xfe]),
        ] {
            assert_eq!(base64_decode(text).as_deref(), Some(bytes), "{text}");
        }
        assert_eq!(base64_decode("Zm9"), None);
        assert_eq!(base64_decode("Z!==",), None);
    }

    #[test]
    fn defmt_lines_are_found_behind_a_partition_prefix_only() {
        assert_eq!(split_defmt_line("DEFMT:AQA="), Some(("", "AQA=")));
        assert_eq!(
            split_defmt_line("[rtos] DEFMT:AQA=\r"),
            Some(("[rtos] ", "AQA="))
        );
        assert_eq!(split_defmt_line("[linux] echo DEFMT:AQA="), None);
        assert_eq!(split_defmt_line("HIL:RTOS start"), None);
    }

    /// Against the RTOS's ELF, when it has been built (the scenarios in hil-tests/test_rtos.py
    /// decode whole runs and check the messages and their source locations).
    #[test]
    fn other_lines_pass_through_and_defmt_output_keeps_its_prefix() {
        let Ok(elf) = std::fs::read(default_elf()) else {
            eprintln!("{} not built: skipped", default_elf().display());
            return;
        };
        let table = Table::parse(&elf).unwrap().unwrap();
        let locations = table.get_locations(&elf).unwrap();
        let mut decoder = LogDecoder::new(&table, &locations);
        assert_eq!(
            decoder.line("[linux] some line"),
            ["[linux] some line"],
            "other lines pass through"
        );
        let out = decoder.line("[rtos] DEFMT:AAAAAAAA");
        assert!(
            out.iter().all(|l| l.starts_with("[rtos] ")),
            "messages keep their prefix: {out:?}"
        );
    }
}
