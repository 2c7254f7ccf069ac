//! A fake `/sys` and `/proc` in a temporary folder, shaped like the kernel's, so the flash
//! checks are tested on disks, partitions, mounts and holders that do not exist.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use super::facts::{DeviceFacts, NodeKind, SystemRoot};

/// A fake system: add disks and mounts, then read a device's facts from it.
pub struct FakeSystem {
    dir: tempfile::TempDir,
}

impl FakeSystem {
    /// An empty system: no disks, nothing mounted, no swap.
    pub fn new() -> Self {
        let fake = Self {
            dir: tempfile::tempdir().expect("temporary folder"),
        };
        for dir in [
            "sys/block",
            "sys/dev/block",
            "sys/devices/block",
            "proc/self",
        ] {
            std::fs::create_dir_all(fake.path(dir)).expect("fake tree");
        }
        fake.write("proc/self/mountinfo", "");
        fake.write("proc/mounts", "");
        fake.write("proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n");
        fake
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn write(&self, relative: &str, text: &str) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("fake tree");
        std::fs::write(path, text).expect("fake tree");
    }

    fn append(&self, relative: &str, line: &str) {
        let old = std::fs::read_to_string(self.path(relative)).unwrap_or_default();
        self.write(relative, &format!("{old}{line}\n"));
    }

    fn link_dev(&self, number: (u32, u32), target: &str) {
        let link = self.path(&format!("sys/dev/block/{}:{}", number.0, number.1));
        symlink(Path::new("../..").join(target), link).expect("fake tree");
    }

    /// A whole disk `name` with device number `number`, its `removable` flag and size.
    pub fn disk(&self, name: &str, number: (u32, u32), removable: bool, sectors: u64) -> &Self {
        let dir = format!("devices/block/{name}");
        self.write(
            &format!("sys/{dir}/dev"),
            &format!("{}:{}\n", number.0, number.1),
        );
        self.write(
            &format!("sys/{dir}/removable"),
            if removable { "1\n" } else { "0\n" },
        );
        self.write(&format!("sys/{dir}/size"), &format!("{sectors}\n"));
        std::fs::create_dir_all(self.path(&format!("sys/{dir}/holders"))).expect("fake tree");
        symlink(
            Path::new("..").join(&dir),
            self.path(&format!("sys/block/{name}")),
        )
        .expect("fake tree");
        self.link_dev(number, &dir);
        self
    }

    /// Sets a disk's `device/<field>` (vendor, model, type).
    pub fn device_field(&self, disk: &str, field: &str, value: &str) -> &Self {
        self.write(
            &format!("sys/devices/block/{disk}/device/{field}"),
            &format!("{value}\n"),
        );
        self
    }

    /// A partition `name` of `disk`.
    pub fn partition(&self, disk: &str, name: &str, number: (u32, u32)) -> &Self {
        let dir = format!("devices/block/{disk}/{name}");
        self.write(
            &format!("sys/{dir}/dev"),
            &format!("{}:{}\n", number.0, number.1),
        );
        self.write(&format!("sys/{dir}/partition"), "1\n");
        std::fs::create_dir_all(self.path(&format!("sys/{dir}/holders"))).expect("fake tree");
        self.link_dev(number, &dir);
        self
    }

    /// A device-mapper device `holder` built on `under` (a disk, or `disk/partition`).
    pub fn holder(&self, under: &str, holder: &str, number: (u32, u32)) -> &Self {
        self.disk(holder, number, false, 1024);
        symlink(
            self.path(&format!("sys/block/{holder}")),
            self.path(&format!("sys/devices/block/{under}/holders/{holder}")),
        )
        .expect("fake tree");
        self
    }

    /// A `/proc/self/mountinfo` line for a mount of device `number`.
    pub fn mountinfo(&self, number: (u32, u32), source: &str, target: &str) -> &Self {
        let line = format!(
            "30 1 {}:{} / {target} rw,relatime - ext4 {source} rw",
            number.0, number.1
        );
        self.append("proc/self/mountinfo", &line);
        self
    }

    /// A `/proc/mounts` line.
    pub fn proc_mount(&self, source: &str, target: &str) -> &Self {
        self.append("proc/mounts", &format!("{source} {target} vfat rw 0 0"));
        self
    }

    /// An active swap area.
    pub fn swap(&self, device: &str) -> &Self {
        self.append("proc/swaps", &format!("{device}\tpartition\t1024\t0\t-2"));
        self
    }

    /// The facts of `/dev/<node>`, a block device numbered `number`.
    pub fn facts(&self, node: &str, number: (u32, u32)) -> DeviceFacts {
        DeviceFacts::read_as(
            &PathBuf::from(format!("/dev/{node}")),
            NodeKind::BlockDevice {
                major: number.0,
                minor: number.1,
            },
            &SystemRoot::under(self.dir.path()),
        )
    }
}
