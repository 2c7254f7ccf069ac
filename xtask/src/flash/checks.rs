//! Whether `cargo xtask flash` may write to a device: a pure function of its `DeviceFacts`.
//! Every reason to refuse is reported, each with what to do about it.

use std::fmt;

use super::facts::{DeviceFacts, NodeKind};

/// A reason not to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Nothing exists at the path.
    Missing,
    /// A regular file, directory or character device.
    NotABlockDevice {
        /// What it is instead.
        what: &'static str,
    },
    /// A block device the kernel does not list in `/sys/dev/block`.
    NotInSysfs,
    /// A partition rather than a whole disk.
    Partition {
        /// The disk it belongs to.
        disk: String,
    },
    /// `removable` is 0 and it is no SD card in a slot: an internal disk, a loop device, ...
    NotRemovable {
        /// The disk.
        disk: String,
    },
    /// The running system lives on it.
    SystemDisk {
        /// Its system mount points.
        mountpoints: Vec<String>,
    },
    /// A file system on it is mounted.
    Mounted {
        /// The mounted device.
        source: String,
        /// Where.
        target: String,
    },
    /// A swap area on it is active.
    Swap {
        /// The swap device.
        device: String,
    },
    /// Something is built on it (device mapper, RAID, LVM).
    Held {
        /// The device built on it.
        holder: String,
    },
    /// The reader reports no medium (size 0).
    NoMedium,
    /// The image does not fit.
    TooSmall {
        /// The device's size.
        device_bytes: u64,
        /// The image's size.
        image_bytes: u64,
    },
}

/// Every reason not to write `image_bytes` to the device `facts` describe; empty when it is
/// safe.
pub fn refusals(facts: &DeviceFacts, image_bytes: u64) -> Vec<Refusal> {
    let what = match facts.kind {
        Some(NodeKind::BlockDevice { .. }) => None,
        Some(NodeKind::Missing) => return vec![Refusal::Missing],
        Some(NodeKind::RegularFile) => Some("a regular file"),
        Some(NodeKind::Other) | None => Some("not a file or a block device"),
    };
    if let Some(what) = what {
        return vec![Refusal::NotABlockDevice { what }];
    }
    let (Some(name), Some(disk)) = (&facts.name, &facts.disk) else {
        return vec![Refusal::NotInSysfs];
    };
    let mut out = Vec::new();
    if name != disk {
        out.push(Refusal::Partition { disk: disk.clone() });
    }
    if !facts.removable_flag && !facts.sd_card_in_slot {
        out.push(Refusal::NotRemovable { disk: disk.clone() });
    }
    let system = facts.system_mounts();
    if !system.is_empty() {
        out.push(Refusal::SystemDisk {
            mountpoints: system.iter().map(|s| s.to_string()).collect(),
        });
    }
    out.extend(facts.mounts.iter().map(|m| Refusal::Mounted {
        source: m.source.clone(),
        target: m.target.clone(),
    }));
    out.extend(
        facts
            .swaps
            .iter()
            .map(|s| Refusal::Swap { device: s.clone() }),
    );
    out.extend(
        facts
            .holders
            .iter()
            .map(|h| Refusal::Held { holder: h.clone() }),
    );
    match facts.size_bytes {
        Some(0) => out.push(Refusal::NoMedium),
        Some(device_bytes) if device_bytes < image_bytes => out.push(Refusal::TooSmall {
            device_bytes,
            image_bytes,
        }),
        _ => {}
    }
    out
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const LIST: &str = "lsblk -o NAME,SIZE,RM,TYPE,MODEL,MOUNTPOINTS";
        match self {
            Refusal::Missing => write!(f, "it does not exist; `{LIST}` lists the disks"),
            Refusal::NotABlockDevice { what } => write!(
                f,
                "{what}, not a block device: flash writes whole SD cards (/dev/sdX, /dev/mmcblkN); \
                 `{LIST}` lists them (an image file is made with `cargo xtask sdcard --out FILE`)"
            ),
            Refusal::NotInSysfs => write!(
                f,
                "the kernel does not list it in /sys/dev/block, so it cannot be checked; use the \
                 disk's /dev node from `{LIST}`"
            ),
            Refusal::Partition { disk } => write!(
                f,
                "it is a partition of {disk}; the image holds its own partition table, so write \
                 the whole card: --device /dev/{disk}"
            ),
            Refusal::NotRemovable { disk } => write!(
                f,
                "it is not removable (/sys/block/{disk}/removable is 0): an internal disk or a \
                 loop device, not an SD card; check the RM column of `{LIST}`"
            ),
            Refusal::SystemDisk { mountpoints } => write!(
                f,
                "the running system lives on it (mounted at {}); never write to it",
                mountpoints.join(", ")
            ),
            Refusal::Mounted { source, target } => write!(
                f,
                "{source} is mounted at {target}; unmount it first: umount {target}"
            ),
            Refusal::Swap { device } => {
                write!(f, "{device} is in use as swap; first: swapoff {device}")
            }
            Refusal::Held { holder } => write!(
                f,
                "{holder} (device mapper, RAID or LVM) is built on it; stop it first (`{LIST}` shows it)"
            ),
            Refusal::NoMedium => write!(f, "the reader reports no medium (size 0); insert the SD card"),
            Refusal::TooSmall {
                device_bytes,
                image_bytes,
            } => write!(
                f,
                "the image ({} MiB) is larger than the card ({} MiB)",
                image_bytes >> 20,
                device_bytes >> 20
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flash::fake_system::FakeSystem;
    use std::path::PathBuf;

    const IMAGE: u64 = 80 << 20;
    const SDB: (u32, u32) = (8, 16);
    const SDB1: (u32, u32) = (8, 17);
    /// 32 GB.
    const CARD_SECTORS: u64 = 62_333_952;

    fn card_reader() -> FakeSystem {
        let system = FakeSystem::new();
        system
            .disk("sdb", SDB, true, CARD_SECTORS)
            .partition("sdb", "sdb1", SDB1)
            .device_field("sdb", "vendor", "Generic-")
            .device_field("sdb", "model", "SD/MMC");
        system
    }

    #[test]
    fn an_unmounted_removable_card_may_be_written() {
        let system = card_reader();
        let facts = system.facts("sdb", SDB);
        assert_eq!(refusals(&facts, IMAGE), vec![]);
        assert_eq!(facts.model.as_deref(), Some("SD/MMC"));
        assert_eq!(facts.size_bytes, Some(CARD_SECTORS * 512));
    }

    #[test]
    fn a_regular_file_is_refused_and_nothing_else_is_checked() {
        let facts = DeviceFacts {
            path: PathBuf::from("card.img"),
            kind: Some(NodeKind::RegularFile),
            ..Default::default()
        };
        assert_eq!(
            refusals(&facts, IMAGE),
            vec![Refusal::NotABlockDevice {
                what: "a regular file"
            }]
        );
    }

    #[test]
    fn a_missing_path_is_refused() {
        let facts = DeviceFacts {
            kind: Some(NodeKind::Missing),
            ..Default::default()
        };
        assert_eq!(refusals(&facts, IMAGE), vec![Refusal::Missing]);
    }

    #[test]
    fn a_block_device_unknown_to_sysfs_is_refused() {
        let facts = FakeSystem::new().facts("sdz", (8, 250));
        assert_eq!(refusals(&facts, IMAGE), vec![Refusal::NotInSysfs]);
    }

    #[test]
    fn a_partition_is_refused_naming_its_disk() {
        let facts = card_reader().facts("sdb1", SDB1);
        assert_eq!(
            refusals(&facts, IMAGE),
            vec![Refusal::Partition { disk: "sdb".into() }]
        );
    }

    #[test]
    fn a_non_removable_disk_is_refused() {
        let system = FakeSystem::new();
        system.disk("sdc", (8, 32), false, CARD_SECTORS);
        assert_eq!(
            refusals(&system.facts("sdc", (8, 32)), IMAGE),
            vec![Refusal::NotRemovable { disk: "sdc".into() }]
        );
    }

    #[test]
    fn an_sd_card_in_a_built_in_slot_counts_as_removable_but_emmc_does_not() {
        let system = FakeSystem::new();
        system
            .disk("mmcblk0", (179, 0), false, CARD_SECTORS)
            .device_field("mmcblk0", "type", "SD")
            .disk("mmcblk1", (179, 8), false, CARD_SECTORS)
            .device_field("mmcblk1", "type", "MMC");
        assert_eq!(refusals(&system.facts("mmcblk0", (179, 0)), IMAGE), vec![]);
        assert_eq!(
            refusals(&system.facts("mmcblk1", (179, 8)), IMAGE),
            vec![Refusal::NotRemovable {
                disk: "mmcblk1".into()
            }]
        );
    }

    #[test]
    fn a_mounted_partition_refuses_the_whole_disk() {
        let system = card_reader();
        system.mountinfo(SDB1, "/dev/sdb1", "/media/user/BOOT");
        assert_eq!(
            refusals(&system.facts("sdb", SDB), IMAGE),
            vec![Refusal::Mounted {
                source: "/dev/sdb1".into(),
                target: "/media/user/BOOT".into()
            }]
        );
    }

    #[test]
    fn a_mount_listed_only_in_proc_mounts_is_found_and_unescaped() {
        let system = card_reader();
        system.proc_mount("/dev/sdb1", "/media/my\\040card");
        assert_eq!(
            refusals(&system.facts("sdb", SDB), IMAGE),
            vec![Refusal::Mounted {
                source: "/dev/sdb1".into(),
                target: "/media/my card".into()
            }]
        );
    }

    #[test]
    fn the_system_disk_is_refused_even_if_it_claims_to_be_removable() {
        let system = card_reader();
        system
            .mountinfo(SDB1, "/dev/sdb1", "/")
            .mountinfo(SDB1, "/dev/sdb1", "/boot");
        let found = refusals(&system.facts("sdb", SDB), IMAGE);
        assert_eq!(
            found.first(),
            Some(&Refusal::SystemDisk {
                mountpoints: vec!["/".into(), "/boot".into()]
            })
        );
    }

    #[test]
    fn a_root_on_device_mapper_over_the_card_makes_it_the_system_disk() {
        let system = card_reader();
        system
            .holder("sdb/sdb1", "dm-0", (254, 0))
            .mountinfo((254, 0), "/dev/mapper/root", "/");
        let found = refusals(&system.facts("sdb", SDB), IMAGE);
        assert!(found.contains(&Refusal::SystemDisk {
            mountpoints: vec!["/".into()]
        }));
        assert!(found.contains(&Refusal::Held {
            holder: "dm-0".into()
        }));
    }

    #[test]
    fn an_active_swap_partition_is_refused() {
        let system = card_reader();
        system.swap("/dev/sdb1");
        assert_eq!(
            refusals(&system.facts("sdb", SDB), IMAGE),
            vec![Refusal::Swap {
                device: "/dev/sdb1".into()
            }]
        );
    }

    #[test]
    fn mounts_of_other_disks_do_not_matter() {
        let system = card_reader();
        system
            .disk("vda", (254, 0), false, CARD_SECTORS)
            .mountinfo((254, 0), "/dev/vda", "/")
            .proc_mount("/dev/vda", "/");
        assert_eq!(refusals(&system.facts("sdb", SDB), IMAGE), vec![]);
    }

    #[test]
    fn an_empty_reader_and_a_too_small_card_are_refused() {
        let system = FakeSystem::new();
        system
            .disk("sdd", (8, 48), true, 0)
            .disk("sde", (8, 64), true, 1024);
        assert_eq!(
            refusals(&system.facts("sdd", (8, 48)), IMAGE),
            vec![Refusal::NoMedium]
        );
        assert_eq!(
            refusals(&system.facts("sde", (8, 64)), IMAGE),
            vec![Refusal::TooSmall {
                device_bytes: 1024 * 512,
                image_bytes: IMAGE
            }]
        );
    }

    #[test]
    fn every_refusal_says_what_to_do() {
        let mounted = Refusal::Mounted {
            source: "/dev/sdb1".into(),
            target: "/media/x".into(),
        };
        assert!(mounted.to_string().contains("umount /media/x"));
        assert!(Refusal::Partition { disk: "sdb".into() }
            .to_string()
            .contains("--device /dev/sdb"));
        assert!(Refusal::Swap {
            device: "/dev/sdb2".into()
        }
        .to_string()
        .contains("swapoff /dev/sdb2"));
        assert!(Refusal::NotRemovable {
            disk: "loop0".into()
        }
        .to_string()
        .contains("/sys/block/loop0/removable"));
    }
}
