//! What the kernel says about a device node: `DeviceFacts`, read once from sysfs and procfs
//! (or from a fake tree in tests), so that every safety check is a pure function of it.

use std::collections::BTreeSet;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Where the kernel's views are: `/sys` and `/proc`, or a fake tree in tests.
pub struct SystemRoot {
    /// sysfs (`/sys`).
    pub sys: PathBuf,
    /// procfs (`/proc`).
    pub proc: PathBuf,
}

impl SystemRoot {
    /// The running system's.
    pub fn real() -> Self {
        Self::under(Path::new("/"))
    }

    /// `root/sys` and `root/proc`.
    pub fn under(root: &Path) -> Self {
        Self {
            sys: root.join("sys"),
            proc: root.join("proc"),
        }
    }
}

/// What kind of file the given path is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// A block device with its device number.
    BlockDevice {
        /// Major number.
        major: u32,
        /// Minor number.
        minor: u32,
    },
    /// A regular file.
    RegularFile,
    /// Nothing there.
    Missing,
    /// A directory, character device, pipe or socket.
    Other,
}

/// A mounted file system that lives on the device.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Mount {
    /// What is mounted (`/dev/sdb1`).
    pub source: String,
    /// Where (`/media/card`).
    pub target: String,
}

/// Everything the flash checks need to know about a device node.
#[derive(Clone, Debug, Default)]
pub struct DeviceFacts {
    /// The path as given.
    pub path: PathBuf,
    /// What kind of file it is (`None` only in `Default`).
    pub kind: Option<NodeKind>,
    /// The kernel's name for the node (`sdb`, `sdb1`), when sysfs lists it.
    pub name: Option<String>,
    /// The whole disk the node is or belongs to (`sdb`).
    pub disk: Option<String>,
    /// `/sys/block/<disk>/removable` is 1.
    pub removable_flag: bool,
    /// The disk is an SD card in an MMC slot (`device/type` is `SD`): removable by nature even
    /// though built-in readers report `removable` 0. Soldered eMMC reports `MMC`.
    pub sd_card_in_slot: bool,
    /// `/sys/block/<disk>/size` × 512.
    pub size_bytes: Option<u64>,
    /// `/sys/block/<disk>/device/vendor`.
    pub vendor: Option<String>,
    /// `/sys/block/<disk>/device/model`.
    pub model: Option<String>,
    /// File systems mounted from the disk, its partitions or anything built on them.
    pub mounts: Vec<Mount>,
    /// Swap areas on them (from `/proc/swaps`).
    pub swaps: Vec<String>,
    /// Devices built on the disk or its partitions (device mapper, RAID: `holders/`).
    pub holders: Vec<String>,
}

/// Mount points that make a disk the system disk.
pub const SYSTEM_MOUNTS: &[&str] = &["/", "/boot", "/boot/efi", "/boot/firmware", "/usr"];

impl DeviceFacts {
    /// Reads the facts of the node at `path` from the running system.
    pub fn read(path: &Path, root: &SystemRoot) -> Self {
        Self::read_as(path, node_kind(path), root)
    }

    /// Reads the facts of `path`, taking its kind as given (tests fake block devices this way).
    pub fn read_as(path: &Path, kind: NodeKind, root: &SystemRoot) -> Self {
        let mut facts = DeviceFacts {
            path: path.to_path_buf(),
            kind: Some(kind),
            ..Default::default()
        };
        let NodeKind::BlockDevice { major, minor } = kind else {
            return facts;
        };
        let Ok(node_dir) = root
            .sys
            .join(format!("dev/block/{major}:{minor}"))
            .canonicalize()
        else {
            return facts;
        };
        let disk_dir = if node_dir.join("partition").exists() {
            node_dir.parent().map(Path::to_path_buf).unwrap_or_default()
        } else {
            node_dir.clone()
        };
        facts.name = file_name(&node_dir);
        facts.disk = file_name(&disk_dir);
        facts.removable_flag = read_trimmed(&disk_dir.join("removable")).as_deref() == Some("1");
        facts.sd_card_in_slot =
            read_trimmed(&disk_dir.join("device/type")).as_deref() == Some("SD");
        facts.size_bytes = read_trimmed(&disk_dir.join("size"))
            .and_then(|s| s.parse::<u64>().ok())
            .map(|sectors| sectors * 512);
        facts.vendor = read_trimmed(&disk_dir.join("device/vendor")).filter(|s| !s.is_empty());
        facts.model = read_trimmed(&disk_dir.join("device/model")).filter(|s| !s.is_empty());

        let mut members = vec![disk_dir.clone()];
        members.extend(partitions(&disk_dir));
        let mut holders = Vec::new();
        collect_holders(&members, root, &mut holders, 0);
        let names: BTreeSet<String> = members
            .iter()
            .chain(&holders)
            .filter_map(|d| file_name(d))
            .collect();
        let numbers: BTreeSet<String> = members
            .iter()
            .chain(&holders)
            .filter_map(|d| read_trimmed(&d.join("dev")))
            .collect();
        facts.holders = holders.iter().filter_map(|d| file_name(d)).collect();
        facts.mounts = mounts(root, &names, &numbers);
        facts.swaps = swaps(root, &names);
        facts
    }

    /// The mount points among [`SYSTEM_MOUNTS`] that live on the device.
    pub fn system_mounts(&self) -> Vec<&str> {
        self.mounts
            .iter()
            .map(|m| m.target.as_str())
            .filter(|t| SYSTEM_MOUNTS.contains(t))
            .collect()
    }
}

/// The kind of file at `path`, following symlinks (`/dev/disk/by-id/...`).
pub fn node_kind(path: &Path) -> NodeKind {
    match std::fs::metadata(path) {
        Err(_) => NodeKind::Missing,
        Ok(meta) if meta.file_type().is_block_device() => NodeKind::BlockDevice {
            major: rustix::fs::major(meta.rdev()),
            minor: rustix::fs::minor(meta.rdev()),
        },
        Ok(meta) if meta.is_file() => NodeKind::RegularFile,
        Ok(_) => NodeKind::Other,
    }
}

fn file_name(path: &Path) -> Option<String> {
    path.file_name().map(|n| n.to_string_lossy().into_owned())
}

fn read_trimmed(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// The partitions of a disk: its sysfs subfolders that have a `partition` file.
fn partitions(disk_dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(disk_dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("partition").is_file())
        .collect();
    found.sort();
    found
}

/// Everything built on `devices` (`holders/`, recursively: LVM on dm-crypt on a partition).
fn collect_holders(devices: &[PathBuf], root: &SystemRoot, out: &mut Vec<PathBuf>, depth: u32) {
    if depth > 8 {
        return;
    }
    let mut found = Vec::new();
    for device in devices {
        for entry in std::fs::read_dir(device.join("holders"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = entry.file_name();
            let dir = root.sys.join("block").join(&name);
            let dir = dir.canonicalize().unwrap_or(dir);
            if !out.contains(&dir) && !found.contains(&dir) {
                found.push(dir);
            }
        }
    }
    out.extend(found.iter().cloned());
    if !found.is_empty() {
        collect_holders(&found, root, out, depth + 1);
    }
}

/// Undoes the octal escapes of `/proc/*/mountinfo` and `/proc/mounts` (`\040` is a space).
pub fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (bytes[i], octal) {
            (b'\\', Some(d)) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The kernel name a mount source like `/dev/sdb1` refers to.
fn dev_name(source: &str) -> Option<&str> {
    source
        .strip_prefix("/dev/")
        .map(|n| n.rsplit('/').next().unwrap_or(n))
}

/// Mounts whose device number or source is one of the device's.
fn mounts(root: &SystemRoot, names: &BTreeSet<String>, numbers: &BTreeSet<String>) -> Vec<Mount> {
    let mut found = BTreeSet::new();
    let mountinfo = std::fs::read_to_string(root.proc.join("self/mountinfo")).unwrap_or_default();
    for line in mountinfo.lines() {
        // id parent major:minor root target options [optional...] - fstype source super-options
        let fields: Vec<&str> = line.split_whitespace().collect();
        let Some(dash) = fields.iter().position(|f| *f == "-") else {
            continue;
        };
        let (Some(number), Some(target), Some(source)) =
            (fields.get(2), fields.get(4), fields.get(dash + 2))
        else {
            continue;
        };
        let source = unescape(source);
        if numbers.contains(*number) || dev_name(&source).is_some_and(|n| names.contains(n)) {
            found.insert(Mount {
                source,
                target: unescape(target),
            });
        }
    }
    let proc_mounts = std::fs::read_to_string(root.proc.join("mounts")).unwrap_or_default();
    for line in proc_mounts.lines() {
        let mut fields = line.split_whitespace();
        let (Some(source), Some(target)) = (fields.next(), fields.next()) else {
            continue;
        };
        let source = unescape(source);
        if dev_name(&source).is_some_and(|n| names.contains(n)) {
            found.insert(Mount {
                source,
                target: unescape(target),
            });
        }
    }
    found.into_iter().collect()
}

/// Swap areas on the device (`/proc/swaps`).
fn swaps(root: &SystemRoot, names: &BTreeSet<String>) -> Vec<String> {
    let text = std::fs::read_to_string(root.proc.join("swaps")).unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .map(unescape)
        .filter(|s| dev_name(s).is_some_and(|n| names.contains(n)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_table_escapes_are_undone() {
        assert_eq!(unescape("/media/my\\040card"), "/media/my card");
        assert_eq!(unescape("a\\011b\\134c"), "a\tb\\c");
        assert_eq!(unescape("trailing\\04"), "trailing\\04");
    }

    #[test]
    fn node_kinds_of_real_paths() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("card.img");
        std::fs::write(&file, b"x").unwrap();
        assert_eq!(node_kind(&file), NodeKind::RegularFile);
        assert_eq!(node_kind(&dir.path().join("none")), NodeKind::Missing);
        assert_eq!(node_kind(dir.path()), NodeKind::Other);
        assert_eq!(node_kind(Path::new("/dev/null")), NodeKind::Other);
    }

    #[test]
    fn a_regular_file_has_no_sysfs_facts() {
        let facts = DeviceFacts::read_as(
            Path::new("x.img"),
            NodeKind::RegularFile,
            &SystemRoot::real(),
        );
        assert_eq!(facts.name, None);
        assert!(facts.mounts.is_empty());
    }
}
