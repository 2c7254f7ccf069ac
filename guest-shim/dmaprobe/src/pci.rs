//! A PCI function through sysfs: its configuration space, memory decoding and bus mastering, and
//! its BARs mapped into this process (`resource<N>`, which maps a BAR no driver claims).

use std::fs::{self, File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::PathBuf;

/// PCI command register: memory space enable, bus master enable.
const COMMAND: u64 = 0x04;
const MEMORY_SPACE: u16 = 1 << 1;
const BUS_MASTER: u16 = 1 << 2;

/// A function, named by its address (`0000:00:02.0`).
pub struct Function {
    dir: PathBuf,
}

/// A mapped BAR.
pub struct Bar {
    base: *mut u8,
    length: usize,
    _file: File,
}

impl Function {
    /// The function at `address`, which must exist and have no driver (a driver owns its BARs).
    pub fn open(address: &str) -> Result<Self, String> {
        let dir = PathBuf::from("/sys/bus/pci/devices").join(address);
        if !dir.exists() {
            return Err(format!("no PCI function {address}"));
        }
        if dir.join("driver").exists() {
            return Err(format!("{address} has a driver; unbind it first"));
        }
        Ok(Function { dir })
    }

    /// Its configuration space (as much as sysfs gives: 256 bytes, or 4 KiB for PCIe).
    pub fn config(&self) -> Result<Vec<u8>, String> {
        fs::read(self.dir.join("config")).map_err(|e| format!("config: {e}"))
    }

    /// Turns on memory decoding and bus mastering (the device's DMA).
    pub fn enable(&self) -> Result<(), String> {
        let config = OpenOptions::new()
            .read(true)
            .write(true)
            .open(self.dir.join("config"))
            .map_err(|e| format!("config: {e}"))?;
        let mut command = [0u8; 2];
        config
            .read_exact_at(&mut command, COMMAND)
            .map_err(|e| format!("command register: {e}"))?;
        let value = u16::from_le_bytes(command) | MEMORY_SPACE | BUS_MASTER;
        config
            .write_all_at(&value.to_le_bytes(), COMMAND)
            .map_err(|e| format!("command register: {e}"))
    }

    /// Maps BAR `index`.
    pub fn map_bar(&self, index: u8) -> Result<Bar, String> {
        let path = self.dir.join(format!("resource{index}"));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_SYNC)
            .open(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let length = file
            .metadata()
            .map_err(|e| format!("BAR {index}: {e}"))?
            .len() as usize;
        if length == 0 {
            return Err(format!("BAR {index} is empty"));
        }
        // SAFETY: a new shared mapping of the BAR's sysfs file, of its whole length; checked for
        // MAP_FAILED below.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                length,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(format!(
                "mmap of BAR {index}: {}",
                std::io::Error::last_os_error()
            ));
        }
        Ok(Bar {
            base: base.cast(),
            length,
            _file: file,
        })
    }
}

impl Bar {
    /// The address of `width` bytes at `offset`, if the BAR holds them and they are aligned.
    fn at(&self, offset: u64, width: usize) -> Option<*mut u8> {
        let offset = usize::try_from(offset).ok()?;
        (offset.checked_add(width)? <= self.length && offset % width == 0)
            // SAFETY: `offset + width` is inside the mapping (checked above).
            .then(|| unsafe { self.base.add(offset) })
    }

    /// Reads a register; `None` outside the BAR.
    pub fn read<T: Copy>(&self, offset: u64) -> Option<T> {
        let at = self.at(offset, std::mem::size_of::<T>())?;
        // SAFETY: inside the mapping and aligned (`at`); device memory, so volatile.
        Some(unsafe { at.cast::<T>().read_volatile() })
    }

    /// Writes a register; false outside the BAR.
    pub fn write<T: Copy>(&self, offset: u64, value: T) -> bool {
        let Some(at) = self.at(offset, std::mem::size_of::<T>()) else {
            return false;
        };
        // SAFETY: as for `read`.
        unsafe { at.cast::<T>().write_volatile(value) };
        true
    }
}
