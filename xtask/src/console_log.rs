//! `cargo xtask run --console-log DIR`: the console goes to the terminal as it comes, and each
//! partition's lines (the multiplexer's `[name] ` tag removed) also to `DIR/<name>.log`, the
//! hypervisor's own untagged lines to `DIR/hypervisor.log` (docs/console.md).

use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::shell;

/// Which log a console line belongs to, and its text there: `[name] text` goes to `name`
/// (a partition name: `a-z`, `0-9`, `-`, `_`), anything else to `hypervisor`.
pub fn route(line: &str) -> (&str, &str) {
    if let Some(rest) = line.strip_prefix('[') {
        if let Some((name, text)) = rest.split_once("] ") {
            let valid = !name.is_empty()
                && name.len() <= 31
                && name.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                });
            if valid {
                return (name, text);
            }
        }
    }
    ("hypervisor", line)
}

/// Splits a byte stream into lines and appends each to its log in `dir`.
pub struct Splitter {
    dir: PathBuf,
    files: HashMap<String, File>,
    line: Vec<u8>,
}

impl Splitter {
    /// Logs into `dir` (created if missing).
    pub fn new(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Splitter {
            dir: dir.to_path_buf(),
            files: HashMap::new(),
            line: Vec::new(),
        })
    }

    /// Takes the next bytes of the console.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<()> {
        for &byte in bytes {
            match byte {
                b'\n' => {
                    let line = String::from_utf8_lossy(&self.line).into_owned();
                    self.line.clear();
                    let (name, text) = route(&line);
                    let file = match self.files.get_mut(name) {
                        Some(file) => file,
                        None => {
                            let path = self.dir.join(format!("{name}.log"));
                            let file = File::create(&path)
                                .with_context(|| format!("creating {}", path.display()))?;
                            self.files.entry(name.to_string()).or_insert(file)
                        }
                    };
                    writeln!(file, "{text}")?;
                }
                b'\r' => {}
                _ => self.line.push(byte),
            }
        }
        Ok(())
    }
}

/// Runs `command` (QEMU with the console on stdio), passing its output to the terminal and
/// splitting it into `dir`'s logs; the terminal's input goes to QEMU unchanged.
pub fn run(command: &mut Command, dir: &Path) -> Result<()> {
    shell::show(command);
    let mut splitter = Splitter::new(dir)?;
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start {:?}", command.get_program()))?;
    let mut output = child.stdout.take().context("QEMU's output")?;
    let mut terminal = std::io::stdout();
    let mut buffer = [0u8; 4096];
    loop {
        let n = output.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        let chunk = &buffer[..n];
        terminal.write_all(chunk)?;
        terminal.flush()?;
        splitter.feed(chunk)?;
    }
    let status = child.wait()?;
    eprintln!("console logs in {}", dir.display());
    if !status.success() {
        bail!("{:?} failed with {status}", command.get_program());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagged_lines_go_to_their_partition_and_the_rest_to_the_hypervisor() {
        assert_eq!(route("[linux] 42"), ("linux", "42"));
        assert_eq!(route("[rtos] [linux] fake"), ("rtos", "[linux] fake"));
        assert_eq!(
            route("HIL:PART rtos UP"),
            ("hypervisor", "HIL:PART rtos UP")
        );
        assert_eq!(route("[ 0.000] no"), ("hypervisor", "[ 0.000] no"));
        assert_eq!(
            route("[../x] no"),
            ("hypervisor", "[../x] no"),
            "never a path"
        );
    }

    #[test]
    fn a_console_stream_is_split_into_one_log_per_partition() {
        let dir = std::env::temp_dir().join(format!("bulkhead-console-log-{}", std::process::id()));
        let mut splitter = Splitter::new(&dir).unwrap();
        splitter
            .feed(b"HIL:BOOT x\r\n[linux] a\r\n[rtos] b\r")
            .unwrap();
        splitter.feed(b"\n[linux] c\r\n").unwrap();
        drop(splitter);
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
        assert_eq!(read("linux.log"), "a\nc\n");
        assert_eq!(read("rtos.log"), "b\n");
        assert_eq!(read("hypervisor.log"), "HIL:BOOT x\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
