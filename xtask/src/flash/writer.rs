//! Writing an image to a device: synchronous writes in chunks with progress, then a read-back
//! from the device itself (the page cache dropped first) compared by SHA-256.

use anyhow::{bail, Context, Result};
use rustix::fs::{Advice, OFlags};
use sha2::{Digest, Sha256};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// How much is written (and read back) at a time.
pub const CHUNK: usize = 4 << 20;

/// Which pass is running, for progress reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// Writing the image.
    Write,
    /// Reading it back.
    Verify,
}

/// What was written and verified.
#[derive(Debug, PartialEq, Eq)]
pub struct Written {
    /// Bytes written (the whole image).
    pub bytes: u64,
    /// SHA-256 of the image and of what was read back, in hex.
    pub sha256: String,
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `image` to the start of `target` and reads it back. `exclusive` opens a block
/// device with `O_EXCL`, which the kernel refuses while any of it is mounted or in use.
/// `progress(pass, done, total)` is called after each chunk.
pub fn write_and_verify(
    target: &Path,
    image: &[u8],
    exclusive: bool,
    progress: &mut dyn FnMut(Pass, u64, u64),
) -> Result<Written> {
    let mut flags = OFlags::SYNC;
    if exclusive {
        flags |= OFlags::EXCL;
    }
    let mut device = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(flags.bits() as i32)
        .open(target)
        .map_err(|error| {
            let hint = match (error.kind(), error.raw_os_error()) {
                (std::io::ErrorKind::PermissionDenied, _) => {
                    "writing a disk needs root: sudo target/debug/xtask flash … (the binary cargo \
                     xtask built)"
                }
                (_, Some(code)) if code == rustix::io::Errno::BUSY.raw_os_error() => {
                    "something still uses it: unmount it or close the program using it"
                }
                _ => "check the --device path",
            };
            anyhow::anyhow!(
                "opening {}: {error}; nothing was written; {hint}",
                target.display()
            )
        })?;
    let total = image.len() as u64;
    let mut done = 0;
    for chunk in image.chunks(CHUNK) {
        device
            .write_all(chunk)
            .with_context(|| format!("writing {} at byte {done}", target.display()))?;
        done += chunk.len() as u64;
        progress(Pass::Write, done, total);
    }
    device.sync_all().context("flushing the device")?;
    // Read the device, not the page cache: drop its cached pages first.
    rustix::fs::fadvise(&device, 0, None, Advice::DontNeed).context("dropping the page cache")?;
    device.seek(SeekFrom::Start(0))?;
    let (mut wrote, mut read) = (Sha256::new(), Sha256::new());
    let mut buffer = vec![0; CHUNK];
    let mut done = 0;
    for chunk in image.chunks(CHUNK) {
        let back = &mut buffer[..chunk.len()];
        device
            .read_exact(back)
            .with_context(|| format!("reading {} back at byte {done}", target.display()))?;
        wrote.update(chunk);
        read.update(&back[..]);
        done += chunk.len() as u64;
        progress(Pass::Verify, done, total);
    }
    let (wrote, read) = (hex(&wrote.finalize()), hex(&read.finalize()));
    if wrote != read {
        bail!(
            "verification failed: wrote sha256 {wrote} but read back {read}; the card may be \
             failing or fake: try another card and run the same command again"
        );
    }
    Ok(Written {
        bytes: total,
        sha256: wrote,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_is_written_at_the_start_and_verified() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("card");
        std::fs::write(&target, vec![0xee; CHUNK * 3]).unwrap();
        let image: Vec<u8> = (0..CHUNK + 1000).map(|i| (i % 251) as u8).collect();
        let mut calls = Vec::new();
        let written = write_and_verify(&target, &image, false, &mut |pass, done, total| {
            calls.push((pass, done, total))
        })
        .unwrap();
        let card = std::fs::read(&target).unwrap();
        assert_eq!(&card[..image.len()], &image[..]);
        assert!(
            card[image.len()..].iter().all(|&b| b == 0xee),
            "nothing after the image is touched"
        );
        assert_eq!(written.bytes, image.len() as u64);
        assert_eq!(written.sha256, hex(&Sha256::digest(&image)));
        let total = image.len() as u64;
        assert_eq!(
            calls,
            vec![
                (Pass::Write, CHUNK as u64, total),
                (Pass::Write, total, total),
                (Pass::Verify, CHUNK as u64, total),
                (Pass::Verify, total, total),
            ]
        );
    }

    #[test]
    fn a_target_that_cannot_be_opened_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let error =
            write_and_verify(&dir.path().join("none"), b"x", false, &mut |_, _, _| {}).unwrap_err();
        assert!(format!("{error:#}").contains("nothing was written"));
    }
}
