//! The management window mapped from `/dev/mem`, and where the device tree says it is.
//!
//! `/dev/mem` with STRICT_DEVMEM and IO_STRICT_DEVMEM (Debian's kernel) still maps a physical
//! range that is not RAM and that no driver claims: the window's node has no driver.

use std::fs::{self, File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use bulkhead_abi::{mgmt, window};

/// The window, mapped.
pub struct Window {
    base: *mut u8,
    ipa: u64,
    _file: File,
}

impl Window {
    /// Maps the window at physical address `address`, checking its IDENT register.
    pub fn open(address: u64) -> Result<Self, String> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_SYNC)
            .open("/dev/mem")
            .map_err(|e| format!("/dev/mem: {e}"))?;
        let offset =
            libc::off_t::try_from(address).map_err(|_| format!("bad address {address:#x}"))?;
        // SAFETY: a new shared mapping of one page of /dev/mem (nothing else is mapped over);
        // the result is checked for MAP_FAILED below.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                window::SIZE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                offset,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(format!(
                "mmap of /dev/mem at {address:#x}: {}",
                std::io::Error::last_os_error()
            ));
        }
        let window = Window {
            base: base.cast(),
            ipa: address,
            _file: file,
        };
        let ident = window.read32(window::IDENT);
        if ident != window::IDENT_VALUE {
            return Err(format!(
                "no management window at {address:#x} (IDENT reads {ident:#x})"
            ));
        }
        Ok(window)
    }

    fn read32(&self, offset: usize) -> u32 {
        assert!(offset + 4 <= window::SIZE && offset.is_multiple_of(4));
        // SAFETY: inside the mapped page, aligned (asserted); device memory, so volatile.
        unsafe { self.base.add(offset).cast::<u32>().read_volatile() }
    }

    fn write32(&self, offset: usize, value: u32) {
        assert!(offset + 4 <= window::SIZE && offset.is_multiple_of(4));
        // SAFETY: as for `read32`.
        unsafe { self.base.add(offset).cast::<u32>().write_volatile(value) }
    }

    fn read64(&self, offset: usize) -> u64 {
        assert!(offset + 8 <= window::SIZE && offset.is_multiple_of(8));
        // SAFETY: as for `read32`, 8-byte aligned.
        unsafe { self.base.add(offset).cast::<u64>().read_volatile() }
    }

    fn write64(&self, offset: usize, value: u64) {
        assert!(offset + 8 <= window::SIZE && offset.is_multiple_of(8));
        // SAFETY: as for `read64`.
        unsafe { self.base.add(offset).cast::<u64>().write_volatile(value) }
    }

    /// The guest-physical address of the DATA area (a LIST buffer must lie there).
    pub fn data_ipa(&self) -> u64 {
        self.ipa + window::DATA as u64
    }

    /// Makes management call `function` with X1..X3 = `args`: X0..X3.
    pub fn call(&self, function: u32, args: [u64; 3]) -> [u64; 4] {
        self.write32(window::FUNCTION, function);
        for (i, arg) in args.into_iter().enumerate() {
            self.write64(window::ARG1 + 8 * i, arg);
        }
        self.write32(window::CALL, 1);
        std::array::from_fn(|i| self.read64(window::RESULT0 + 8 * i))
    }

    /// LIST record `index` of the DATA area.
    pub fn data_record(&self, index: usize) -> [u8; mgmt::RECORD_SIZE] {
        let mut record = [0u8; mgmt::RECORD_SIZE];
        let start = window::DATA + index * mgmt::RECORD_SIZE;
        for (i, chunk) in record.chunks_exact_mut(4).enumerate() {
            if start + 4 * i + 4 <= window::DATA + window::DATA_SIZE {
                chunk.copy_from_slice(&self.read32(start + 4 * i).to_le_bytes());
            }
        }
        record
    }
}

impl Drop for Window {
    fn drop(&mut self) {
        // SAFETY: the page `open` mapped, unmapped once.
        unsafe {
            libc::munmap(self.base.cast(), window::SIZE);
        }
    }
}

/// The window's address from the device tree: the first `reg` cell pair of the node whose
/// `compatible` is `bulkhead,management` (two address cells).
pub fn from_device_tree() -> Result<u64, String> {
    find(Path::new("/proc/device-tree"), 0).ok_or_else(|| {
        "no bulkhead,management node in /proc/device-tree; pass --window ADDR".to_string()
    })
}

fn find(dir: &Path, depth: usize) -> Option<u64> {
    if depth > 8 {
        return None;
    }
    if let Ok(compatible) = fs::read(dir.join("compatible")) {
        let matches = compatible
            .split(|&b| b == 0)
            .any(|c| c == window::COMPATIBLE.as_bytes());
        if matches {
            let reg = fs::read(dir.join("reg")).ok()?;
            let cells: [u8; 8] = reg.get(..8)?.try_into().ok()?;
            return Some(u64::from_be_bytes(cells));
        }
    }
    for entry in fs::read_dir(dir).ok()?.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            if let Some(address) = find(&entry.path(), depth + 1) {
                return Some(address);
            }
        }
    }
    None
}
