//! Translation tables for the EL2 map and every partition's stage 2, from one static pool.

use crate::pagetable::{Table, TablePool, ENTRIES, PAGE_SIZE};

/// How many 4 KiB tables the hypervisor can build (EL2 map plus all stage-2 maps).
pub const POOL_TABLES: usize = 64;

#[repr(C, align(4096))]
struct Tables([Table; POOL_TABLES]);

/// A bump allocator of zeroed tables. The hypervisor identity-maps its memory, so a table's
/// address is its physical address.
///
/// Tables are handed out once and never given back, and no table is reachable before it is
/// handed out ([`TablePool::table`] refuses it), so each one still holds the zeros the pool was
/// created with: `alloc` does not clear it again (clearing the eight tables of a boot with
/// 8-byte stores cost 12,000 instructions).
pub struct StaticPool {
    tables: Tables,
    used: usize,
}

impl StaticPool {
    /// An empty pool.
    pub const fn new() -> Self {
        StaticPool {
            tables: Tables([[0; ENTRIES]; POOL_TABLES]),
            used: 0,
        }
    }

    fn base(&self) -> u64 {
        self.tables.0.as_ptr() as u64
    }

    /// Tables handed out so far.
    pub fn used(&self) -> usize {
        self.used
    }
}

/// Tables the boot handed out, published once the boot is done (the pool is owned by the boot
/// alone and never grows after it): what the management calls report.
static USED_AFTER_BOOT: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

/// Publishes how many tables the boot used (with the MMU on: a plain store either way).
pub fn publish_used(used: usize) {
    USED_AFTER_BOOT.store(used, core::sync::atomic::Ordering::Release);
}

/// The tables the boot used, as [`publish_used`] left it.
pub fn used_after_boot() -> usize {
    USED_AFTER_BOOT.load(core::sync::atomic::Ordering::Acquire)
}

impl Default for StaticPool {
    fn default() -> Self {
        Self::new()
    }
}

impl TablePool for StaticPool {
    fn used_span(&self) -> (u64, u64) {
        (self.base(), (self.used as u64) * PAGE_SIZE)
    }

    fn alloc(&mut self) -> Option<u64> {
        let index = self.used;
        let table = self.tables.0.get_mut(index)?;
        self.used += 1;
        Some(table.as_ptr() as u64)
    }

    fn table(&mut self, pa: u64) -> Option<&mut Table> {
        let offset = pa.checked_sub(self.base())?;
        if offset % PAGE_SIZE != 0 {
            return None;
        }
        let index = (offset / PAGE_SIZE) as usize;
        if index >= self.used {
            return None;
        }
        self.tables.0.get_mut(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pagetable::{stage2, PageTable};

    #[test]
    fn pool_tables_are_page_aligned_and_exhaust_cleanly() {
        let mut pool = std::boxed::Box::new(StaticPool::new());
        let first = pool.alloc().unwrap();
        assert_eq!(first % PAGE_SIZE, 0);
        let mut pt = PageTable::new(&mut *pool).unwrap();
        pt.map(&mut *pool, 0x4000_0000, 0x4000_0000, 0x1000, stage2::RAM)
            .unwrap();
        while pool.alloc().is_some() {}
        assert_eq!(pool.used(), POOL_TABLES);
        assert!(pt
            .map(&mut *pool, 0x8000_0000, 0x8000_0000, 0x1000, stage2::RAM)
            .is_err());
    }

    #[test]
    fn handed_out_tables_are_zero_and_distinct() {
        let mut pool = std::boxed::Box::new(StaticPool::new());
        let mut seen = std::vec::Vec::new();
        while let Some(pa) = pool.alloc() {
            let table = pool.table(pa).unwrap();
            assert!(table.iter().all(|&desc| desc == 0), "{pa:#x} is zero");
            // Dirty it: a later table must not be this one.
            table.fill(u64::MAX);
            assert!(!seen.contains(&pa), "{pa:#x} handed out twice");
            seen.push(pa);
        }
        assert_eq!(seen.len(), POOL_TABLES);
    }

    #[test]
    fn only_tables_handed_out_are_found_by_their_address() {
        let mut pool = std::boxed::Box::<StaticPool>::default();
        assert_eq!(pool.used_span().1, 0);
        let first = pool.alloc().unwrap();
        assert!(pool.table(first).is_some());
        assert!(pool.table(first + 8).is_none(), "not a table's start");
        assert!(
            pool.table(first + PAGE_SIZE).is_none(),
            "not handed out yet"
        );
        assert!(pool.table(first - PAGE_SIZE).is_none(), "below the pool");
        assert_eq!(pool.used_span(), (first, PAGE_SIZE));
    }
}
