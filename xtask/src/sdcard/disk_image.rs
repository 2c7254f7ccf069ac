//! An SD card image without root or external tools: an MBR with one bootable FAT32 (LBA)
//! partition, type 0x0c, from sector 2048 (1 MiB), holding the boot files in its root folder.
//!
//! The image is reproducible: the disk signature and the volume ID are derived from the
//! files, and every time stamp is the FAT epoch (1980-01-01), so the same inputs give the same
//! bytes.

use anyhow::{Context, Result};
use fatfs::{FatType, FileSystem, FormatVolumeOptions, FsOptions};
use fscommon::{BufStream, StreamSlice};
use mbrman::{MBRPartitionEntry, BOOT_ACTIVE, CHS, MBR};
use sha2::{Digest, Sha256};
use std::io::Write;
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

const MIB: u64 = 1024 * 1024;
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
    // CHS only matters to old PCs; 255 heads × 63 sectors is the convention for LBA disks.
    let chs = |lba: u32| CHS::from_lba_exact(lba, 1023, 255, 63).unwrap_or(CHS::empty());
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
        .volume_id(volume_id);
    fatfs::format_volume(slice()?, options).context("formatting the FAT32 partition")?;
    let fs = FileSystem::new(slice()?, FsOptions::new()).context("opening the new partition")?;
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
    fs.unmount().context("closing the partition")?;
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
    fn the_same_files_give_the_same_image() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.img"), dir.path().join("b.img"));
        write(&a, &files()).unwrap();
        write(&b, &files()).unwrap();
        assert!(std::fs::read(a).unwrap() == std::fs::read(b).unwrap());
    }
}
