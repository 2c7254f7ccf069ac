//! A Linux initramfs in the `newc` cpio format (Linux Documentation/driver-api/early-userspace/
//! buffer-format.rst), written by xtask so no root, no cpio tool and no fakeroot are needed.

/// One archive member.
pub enum Member<'a> {
    /// A directory.
    Dir(&'a str),
    /// A regular file with its permission bits.
    File(&'a str, u32, &'a [u8]),
    /// A symbolic link to a target.
    Symlink(&'a str, &'a str),
    /// A character device node (major, minor).
    CharDevice(&'a str, u32, u32),
}

const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;
const S_IFCHR: u32 = 0o020000;

fn header(out: &mut Vec<u8>, ino: u32, mode: u32, size: usize, rdev: (u32, u32), name: &str) {
    let fields = [
        ino,
        mode,
        0,
        0,
        1,
        0,
        size as u32,
        0,
        0,
        rdev.0,
        rdev.1,
        name.len() as u32 + 1,
        0,
    ];
    out.extend_from_slice(b"070701");
    for field in fields {
        out.extend_from_slice(format!("{field:08x}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad(out);
}

fn pad(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

/// The archive holding `members`, in order, with its trailer.
pub fn cpio(members: &[Member<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (index, member) in members.iter().enumerate() {
        let ino = index as u32 + 1;
        match member {
            Member::Dir(path) => header(&mut out, ino, S_IFDIR | 0o755, 0, (0, 0), path),
            Member::File(path, perm, data) => {
                header(&mut out, ino, S_IFREG | perm, data.len(), (0, 0), path);
                out.extend_from_slice(data);
                pad(&mut out);
            }
            Member::Symlink(path, target) => {
                header(&mut out, ino, S_IFLNK | 0o777, target.len(), (0, 0), path);
                out.extend_from_slice(target.as_bytes());
                pad(&mut out);
            }
            Member::CharDevice(path, major, minor) => {
                header(&mut out, ino, S_IFCHR | 0o600, 0, (*major, *minor), path)
            }
        }
    }
    header(&mut out, 0, 0, 0, (0, 0), "TRAILER!!!");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newc_headers_are_110_bytes_and_members_are_4_byte_aligned() {
        let archive = cpio(&[
            Member::File("init", 0o755, b"#!/bin/sh\n"),
            Member::CharDevice("dev/console", 5, 1),
        ]);
        assert!(archive.starts_with(b"070701"));
        assert_eq!(archive.len() % 4, 0);
        // Header (110) + "init\0" (5) padded to 116, then 10 data bytes padded to 12.
        assert_eq!(&archive[116..126], b"#!/bin/sh\n");
        assert_eq!(&archive[128..134], b"070701");
        let text = String::from_utf8_lossy(&archive);
        assert!(text.contains("TRAILER!!!"));
        // rdevmajor and rdevminor of the console node.
        assert!(text.contains("0000000500000001"));
    }

    #[test]
    fn archive_is_readable_by_cpio() {
        let archive = cpio(&[
            Member::Dir("bin"),
            Member::File("bin/hello", 0o644, b"hi"),
            Member::Symlink("bin/sh", "busybox"),
        ]);
        let dir = std::env::temp_dir().join(format!("bulkhead-cpio-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let list = std::process::Command::new("cpio")
            .args(["-t", "--quiet"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn();
        let Ok(mut child) = list else { return };
        use std::io::Write;
        child.stdin.take().unwrap().write_all(&archive).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .collect::<Vec<_>>(),
            ["bin", "bin/hello", "bin/sh"]
        );
    }
}
