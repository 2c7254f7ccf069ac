//! A page of this process's memory that stays put, and the physical address the partition sees
//! it at (for Linux in a partition: its IPA, the address its devices' DMA is translated from).

use std::fs::File;
use std::os::unix::fs::FileExt;

/// The page size of Debian's arm64 kernel.
pub const PAGE: usize = 4096;

/// One locked, zeroed page.
pub struct PinnedPage {
    base: *mut u8,
    physical: u64,
}

impl PinnedPage {
    /// Maps, locks and touches a page, then reads its frame from `/proc/self/pagemap` (root
    /// only: others read frame 0).
    pub fn new() -> Result<Self, String> {
        // SAFETY: a new private anonymous mapping; checked for MAP_FAILED below.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                PAGE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_LOCKED | libc::MAP_POPULATE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(format!("mmap: {}", std::io::Error::last_os_error()));
        }
        let base = base.cast::<u8>();
        // SAFETY: the page was just mapped read-write; writing it makes it present.
        unsafe { base.write_bytes(0, PAGE) };
        let pagemap = File::open("/proc/self/pagemap").map_err(|e| format!("pagemap: {e}"))?;
        let mut entry = [0u8; 8];
        pagemap
            .read_exact_at(&mut entry, (base as u64 / PAGE as u64) * 8)
            .map_err(|e| format!("pagemap: {e}"))?;
        let entry = u64::from_le_bytes(entry);
        let frame = entry & ((1 << 55) - 1);
        if entry >> 63 == 0 || frame == 0 {
            return Err(format!("pagemap gives no frame ({entry:#x}): not root?"));
        }
        Ok(PinnedPage {
            base,
            physical: frame * PAGE as u64,
        })
    }

    /// The page's physical address.
    pub fn physical(&self) -> u64 {
        self.physical
    }

    /// The page's memory (the device reads and writes it behind the compiler's back, so every
    /// access is volatile).
    pub fn ptr(&self) -> *mut u8 {
        self.base
    }
}
