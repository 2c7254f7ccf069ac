//! An SD card image without root or external tools: an MBR with one bootable FAT32 (LBA)
//! partition, type 0x0c, from sector 2048 (1 MiB), holding the boot files in its root folder.
//!
//! The image is reproducible: the disk signature and the volume ID are derived from the
//! files, and every time stamp is the FAT epoch (1980-01-01 00:00), so the same inputs give the
//! same bytes.

use anyhow::{Context, Result};
use fatfs::{
    Date, DateTime, FatType, FileSystem, FormatVolumeOptions, FsOptions, Time, TimeProvider,
};
use fscommon::{BufStream, StreamSlice};
use mbrman::{MBRPartitionEntry, BOOT_ACTIVE, CHS, MBR};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::boot_files::BootFile;

/// Sector size of SD cards and of the MBR.
pub const SECTOR: u64 = 512;
/// First sector of the partition (1 MiB, the usual alignment for flash erase blocks).
pub const START_SECTOR: u64 = 2048;
/// MBR partition type: FAT32 with LBA addressing, which the Pi's boot loader reads.
pub const FAT32_LBA: u8 = 0x0c;
/// The FAT volume label (11 bytes, space-padded).
pub const LABEL: [u8; 11] = *b"BULKHEAD   ";

/// The CHS geometry of LBA disks (only old PCs look at it), in the MBR and the FAT boot sector.
const HEADS: u8 = 255;
const SECTORS_PER_TRACK: u8 = 63;
/// Offset of `BPB_HiddSec` (sectors before the volume) in a FAT boot sector.
const BPB_HIDDEN_SECTORS: u64 = 0x1c;
/// Offset of `BPB_BkBootSec` (where FAT32 keeps its backup boot sector).
const BPB_BACKUP_BOOT_SECTOR: u64 = 0x32;
/// Offset of `BPB_FSInfo` (the FAT32 FSInfo sector number).
const BPB_FS_INFO: u64 = 0x30;
/// Offset of `FSI_Free_Count` in the FSInfo sector.
const FSI_FREE_COUNT: u64 = 0x1e8;

const MIB: u64 = 1024 * 1024;

/// Time stamps for every file: the FAT epoch, a valid date (fatfs' default without a clock
/// writes month 0).
#[derive(Debug)]
struct FatEpoch;

impl TimeProvider for FatEpoch {
    fn get_current_date(&self) -> Date {
        Date {
            year: 1980,
            month: 1,
            day: 1,
        }
    }
    fn get_current_date_time(&self) -> DateTime {
        DateTime {
            date: self.get_current_date(),
            time: Time {
                hour: 0,
                min: 0,
                sec: 0,
                millis: 0,
            },
        }
    }
}

static FAT_EPOCH: FatEpoch = FatEpoch;
/// The smallest partition: FAT32 needs at least 65 525 clusters (32 MiB of 512-byte ones).
const MIN_PARTITION: u64 = 64 * MIB;

/// Where the partition lies in the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// First sector of the partition.
    pub start_sector: u64,
    /// Its length in sectors.
    pub sectors: u64,
}

impl Layout {
    /// The image's total size in bytes.
    pub fn image_bytes(&self) -> u64 {
        (self.start_sector + self.sectors) * SECTOR
    }
}

/// The partition size for `content` bytes of files: a quarter and 8 MiB to spare, rounded up
/// to 4 MiB, at least [`MIN_PARTITION`].
pub fn partition_bytes(content: u64) -> u64 {
    let wanted = content + content / 4 + 8 * MIB;
    wanted.next_multiple_of(4 * MIB).max(MIN_PARTITION)
}

/// The first bytes of the SHA-256 of every file, as the disk signature and volume ID.
fn fingerprint(files: &[BootFile]) -> [u8; 4] {
    let mut hash = Sha256::new();
    for file in files {
        hash.update(file.name.as_bytes());
        hash.update(&file.data);
    }
    let digest = hash.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

fn write_partition_table(
    image: &mut std::fs::File,
    layout: Layout,
    signature: [u8; 4],
) -> Result<()> {
    let mut mbr = MBR::new_from(image, SECTOR as u32, signature).context("creating the MBR")?;
    let (start, sectors) = (layout.start_sector as u32, layout.sectors as u32);
    let chs =
        |lba: u32| CHS::from_lba_exact(lba, 1023, HEADS, SECTORS_PER_TRACK).unwrap_or(CHS::empty());
    mbr[1] = MBRPartitionEntry {
        boot: BOOT_ACTIVE,
        first_chs: chs(start),
        sys: FAT32_LBA,
        last_chs: chs(start + sectors - 1),
        starting_lba: start,
        sectors,
    };
    mbr.write_into(image).context("writing the MBR")
}

fn write_file_system(
    image: &std::fs::File,
    layout: Layout,
    files: &[BootFile],
    volume_id: u32,
) -> Result<()> {
    let start = layout.start_sector * SECTOR;
    let end = start + layout.sectors * SECTOR;
    let slice = || -> Result<BufStream<StreamSlice<std::fs::File>>> {
        Ok(BufStream::new(StreamSlice::new(
            image.try_clone()?,
            start,
            end,
        )?))
    };
    let options = FormatVolumeOptions::new()
        .fat_type(FatType::Fat32)
        .volume_label(LABEL)
        .volume_id(volume_id)
        .heads(HEADS.into())
        .sectors_per_track(SECTORS_PER_TRACK.into());
    fatfs::format_volume(slice()?, options).context("formatting the FAT32 partition")?;
    set_hidden_sectors(image, start, layout.start_sector as u32)?;
    let options = FsOptions::new().time_provider(&FAT_EPOCH);
    let fs = FileSystem::new(slice()?, options).context("opening the new partition")?;
    for file in files {
        let mut out = fs
            .root_dir()
            .create_file(file.name)
            .with_context(|| format!("creating {} on the partition", file.name))?;
        out.truncate()?;
        out.write_all(&file.data)
            .with_context(|| format!("writing {} to the partition (is it full?)", file.name))?;
        out.flush()?;
    }
    let free = fs.stats()?.free_clusters();
    fs.unmount().context("closing the partition")?;
    set_free_count(image, start, free)
}

/// Records in the boot sector and its FAT32 backup how many sectors precede the volume, as
/// `mkfs.fat --offset` does (fatfs always writes 0).
fn set_hidden_sectors(image: &std::fs::File, volume: u64, sectors: u32) -> Result<()> {
    let mut backup = [0u8; 2];
    image.read_exact_at(&mut backup, volume + BPB_BACKUP_BOOT_SECTOR)?;
    let backup = u64::from(u16::from_le_bytes(backup));
    for boot_sector in [0, backup] {
        image.write_all_at(
            &sectors.to_le_bytes(),
            volume + boot_sector * SECTOR + BPB_HIDDEN_SECTORS,
        )?;
    }
    Ok(())
}

/// Records the free cluster count in the FSInfo sector (fatfs leaves it "unknown", which
/// `fsck.fat` reports).
fn set_free_count(image: &std::fs::File, volume: u64, free: u32) -> Result<()> {
    let mut sector = [0u8; 2];
    image.read_exact_at(&mut sector, volume + BPB_FS_INFO)?;
    let fs_info = volume + u64::from(u16::from_le_bytes(sector)) * SECTOR;
    image.write_all_at(&free.to_le_bytes(), fs_info + FSI_FREE_COUNT)?;
    Ok(())
}

/// Writes the SD card image of `files` to `path` and returns where its partition is.
pub fn write(path: &Path, files: &[BootFile]) -> Result<Layout> {
    let content: u64 = files
        .iter()
        .map(|f| (f.data.len() as u64).next_multiple_of(4096))
        .sum();
    let layout = Layout {
        start_sector: START_SECTOR,
        sectors: partition_bytes(content) / SECTOR,
    };
    let signature = fingerprint(files);
    let mut image = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    image.set_len(layout.image_bytes())?;
    write_partition_table(&mut image, layout, signature)?;
    write_file_system(&image, layout, files, u32::from_le_bytes(signature))?;
    image.sync_all()?;
    Ok(layout)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn files() -> Vec<BootFile> {
        vec![
            BootFile {
                name: "config.txt",
                data: b"arm_64bit=1\n".to_vec(),
                source: None,
            },
            BootFile {
                name: "bulkhead.img",
                data: (0..300_000u32).map(|i| (i * 7) as u8).collect(),
                source: None,
            },
        ]
    }

    #[test]
    fn partition_size_grows_with_the_content_and_has_a_floor() {
        assert_eq!(partition_bytes(0), 64 * MIB);
        assert_eq!(partition_bytes(40 * MIB), 60 * MIB + 4 * MIB);
        assert_eq!(partition_bytes(200 * MIB), 260 * MIB);
        assert_eq!(partition_bytes(201 * MIB) % (4 * MIB), 0);
    }

    #[test]
    fn image_has_one_bootable_fat32_lba_partition_at_1_mib() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sd.img");
        let layout = write(&path, &files()).unwrap();
        let mut image = std::fs::File::open(&path).unwrap();
        assert_eq!(image.metadata().unwrap().len(), layout.image_bytes());
        let mbr = MBR::read_from(&mut image, 512).unwrap();
        let used: Vec<_> = mbr.iter().filter(|(_, p)| p.is_used()).collect();
        assert_eq!(used.len(), 1);
        let (_, partition) = used[0];
        assert_eq!((partition.sys, partition.boot), (FAT32_LBA, BOOT_ACTIVE));
        assert_eq!(u64::from(partition.starting_lba), START_SECTOR);
        assert_eq!(u64::from(partition.sectors), layout.sectors);
    }

    #[test]
    fn every_file_reads_back_identical_from_the_fat32_volume() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sd.img");
        let layout = write(&path, &files()).unwrap();
        let image = std::fs::File::options()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let start = layout.start_sector * SECTOR;
        let slice = StreamSlice::new(image, start, start + layout.sectors * SECTOR).unwrap();
        let fs = FileSystem::new(slice, FsOptions::new()).unwrap();
        assert_eq!(fs.fat_type(), FatType::Fat32);
        assert_eq!(fs.volume_label(), "BULKHEAD");
        for file in files() {
            let mut data = Vec::new();
            fs.root_dir()
                .open_file(file.name)
                .unwrap()
                .read_to_end(&mut data)
                .unwrap();
            assert_eq!(data, file.data, "{}", file.name);
        }
    }

    #[test]
    fn boot_sectors_count_the_sectors_before_the_volume_and_dates_are_valid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sd.img");
        let layout = write(&path, &files()).unwrap();
        let image = std::fs::read(&path).unwrap();
        let volume = (layout.start_sector * SECTOR) as usize;
        let backup = u16::from_le_bytes([image[volume + 0x32], image[volume + 0x33]]) as usize;
        assert_ne!(backup, 0, "FAT32 keeps a backup boot sector");
        for sector in [0, backup] {
            let at = volume + sector * SECTOR as usize + 0x1c;
            assert_eq!(
                image[at..at + 4],
                2048u32.to_le_bytes(),
                "boot sector {sector}"
            );
        }
        let fs_info = u16::from_le_bytes([image[volume + 0x30], image[volume + 0x31]]) as usize;
        let at = volume + fs_info * SECTOR as usize + 0x1e8;
        assert_ne!(
            image[at..at + 4],
            [0xff; 4],
            "the free cluster count is known"
        );
        let file = std::fs::File::options()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let start = layout.start_sector * SECTOR;
        let slice = StreamSlice::new(file, start, start + layout.sectors * SECTOR).unwrap();
        let fs = FileSystem::new(slice, FsOptions::new()).unwrap();
        for entry in fs.root_dir().iter() {
            let date = entry.unwrap().modified().date;
            assert_eq!((date.year, date.month, date.day), (1980, 1, 1));
        }
    }

    #[test]
    fn the_same_files_give_the_same_image() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.img"), dir.path().join("b.img"));
        write(&a, &files()).unwrap();
        write(&b, &files()).unwrap();
        assert!(std::fs::read(a).unwrap() == std::fs::read(b).unwrap());
    }
}
