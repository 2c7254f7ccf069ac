//! Where a board device tree node's registers are for the CPU: its `reg` read with its parent's
//! cell sizes and translated through every `ranges` on the way to the root (Devicetree
//! Specification v0.4, 2.3.6 "reg" and 2.3.8 "ranges").

use anyhow::{bail, Result};

use super::tree::{NodeId, Tree};

/// One register range in CPU physical addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuRange {
    /// First byte.
    pub start: u64,
    /// Length in bytes.
    pub size: u64,
}

impl CpuRange {
    /// One past the last byte.
    pub fn end(&self) -> u64 {
        self.start.saturating_add(self.size)
    }

    /// Whether `self` lies wholly inside `[start, start + size)`.
    pub fn is_inside(&self, start: u64, size: u64) -> bool {
        self.start >= start && self.end() <= start.saturating_add(size)
    }

    /// Whether `self` and `[start, start + size)` share a byte.
    pub fn overlaps(&self, start: u64, size: u64) -> bool {
        self.start < start.saturating_add(size) && start < self.end()
    }
}

/// Reads `count` cells (at most 2) starting at `cells[at]` as one number.
fn number(cells: &[u32], at: usize, count: usize) -> u64 {
    cells[at..at + count]
        .iter()
        .fold(0, |acc, &c| (acc << 32) | u64::from(c))
}

/// The `reg` entries of node `id` in its parent's address space, or `None` when it has none
/// or its addresses are not plain numbers (more than 2 cells, as on PCI).
fn raw_reg(tree: &Tree, id: NodeId) -> Result<Option<Vec<(u64, u64)>>> {
    let (Some(cells), Some(parent)) = (tree.cells(id, "reg"), tree.node(id).parent) else {
        return Ok(None);
    };
    let (a, s) = (
        tree.address_cells(parent) as usize,
        tree.size_cells(parent) as usize,
    );
    if a > 2 || s > 2 {
        // PCI (3 address cells) and such: not plain memory-mapped registers.
        return Ok(None);
    }
    if a == 0 || cells.len() % (a + s) != 0 {
        bail!(
            "{}: `reg` does not fit #address-cells = {a}, #size-cells = {s}",
            tree.path(id)
        );
    }
    Ok(Some(
        cells
            .chunks_exact(a + s)
            .map(|entry| (number(entry, 0, a), number(entry, a, s)))
            .collect(),
    ))
}

/// Translates `address`, an address on the bus that node `bus` provides, one level up.
/// `None` when `bus` has no `ranges` (its children are not memory-mapped) or no range covers
/// the address.
fn up_one(tree: &Tree, bus: NodeId, address: u64) -> Result<Option<u64>> {
    let Some(ranges) = tree.cells(bus, "ranges") else {
        return Ok(None);
    };
    if ranges.is_empty() {
        return Ok(Some(address));
    }
    let parent = tree.node(bus).parent.unwrap_or(0);
    let (child, up, size) = (
        tree.address_cells(bus) as usize,
        tree.address_cells(parent) as usize,
        tree.size_cells(bus) as usize,
    );
    let entry = child + up + size;
    if child > 2 || up > 2 || size > 2 {
        return Ok(None);
    }
    if ranges.len() % entry != 0 {
        bail!("{}: `ranges` does not fit its cell sizes", tree.path(bus));
    }
    for range in ranges.chunks_exact(entry) {
        let child_base = number(range, 0, child);
        let parent_base = number(range, child, up);
        let length = number(range, child + up, size);
        if address >= child_base && address - child_base < length {
            return Ok(Some(parent_base + (address - child_base)));
        }
    }
    Ok(None)
}

/// The CPU physical ranges of node `id`'s registers; `None` when the node has no `reg` or is
/// not memory-mapped (some bus on its way to the root has no `ranges`, as on I2C or SPI).
pub fn cpu_ranges(tree: &Tree, id: NodeId) -> Result<Option<Vec<CpuRange>>> {
    let Some(entries) = raw_reg(tree, id)? else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for (mut address, size) in entries {
        let mut bus = tree.node(id).parent.unwrap_or(0);
        while bus != 0 {
            match up_one(tree, bus, address)? {
                Some(translated) => address = translated,
                None => return Ok(None),
            }
            bus = tree.node(bus).parent.unwrap_or(0);
        }
        out.push(CpuRange {
            start: address,
            size,
        });
    }
    Ok(Some(out))
}
