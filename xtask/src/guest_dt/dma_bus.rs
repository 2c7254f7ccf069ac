//! Where a granted DMA master sits in a derived device tree: inside a bus that keeps the
//! board's `dma-ranges`.
//!
//! A granted node is copied under the partition tree's root with its `reg` translated to CPU
//! addresses. The `dma-ranges` of the bus it sat on would be lost, and with them the bus
//! addresses the device must be given for memory: on the Raspberry Pi 4, EMMC2 and the legacy
//! peripherals see RAM at bus 0xc000_0000 (`/emmc2bus` and `/soc`: bus 0xc0000000 = CPU 0,
//! 1 GiB), and Linux programs them with those addresses only when their bus says so. So a
//! granted DMA master (by `compatible`, [`bulkhead_config::dma::KNOWN_DMA_MASTERS`]) whose board
//! bus, a child of the root, has `dma-ranges` goes into a bus node of the same name under the
//! partition's root: `simple-bus`, 2-cell addresses and sizes, identity `ranges` (its children's
//! `reg` are CPU addresses already) and the board bus's `dma-ranges` with the same cell sizes.
//! The CPU addresses in them are physical ones, which is right for the only partitions a DMA
//! master may be in: direct-mapped ones (docs/configuration.md, "DMA").

use anyhow::{bail, Result};

use super::tree::{cells64, from_cells, from_strings, to_cells, NodeId};
use super::Derivation;

/// The node of the partition's tree a granted board node `top` is copied under: the root, or
/// the bus node that keeps its board bus's `dma-ranges` (made on first use).
pub fn parent_for(d: &mut Derivation<'_>, top: NodeId) -> Result<NodeId> {
    let board = d.board;
    let is_dma_master =
        bulkhead_config::dma::known_in(board.strings(top, "compatible").iter().map(String::as_str))
            .is_some();
    let Some(bus) = board.node(top).parent else {
        return Ok(0);
    };
    let Some(dma_ranges) = board.prop(bus, "dma-ranges") else {
        return Ok(0);
    };
    if !is_dma_master || bus == 0 || board.node(bus).parent != Some(0) || dma_ranges.is_empty() {
        return Ok(0);
    }
    let name = board.node(bus).name.clone();
    if let Some(&existing) = d
        .out
        .node(0)
        .children
        .iter()
        .find(|&&c| d.out.node(c).name == name)
    {
        return Ok(existing);
    }
    let child_cells = board.u32(bus, "#address-cells").unwrap_or(2) as usize;
    let size_cells = board.u32(bus, "#size-cells").unwrap_or(1) as usize;
    let parent_cells = board.u32(0, "#address-cells").unwrap_or(2) as usize;
    let ranges = translate(&to_cells(dma_ranges), child_cells, parent_cells, size_cells)
        .map_err(|why| anyhow::anyhow!("{}: dma-ranges {why}", board.path(bus)))?;
    let node = d.out.add_child(0, &name);
    d.out
        .set_prop(node, "compatible", from_strings(&["simple-bus"]));
    d.out.set_prop(node, "#address-cells", from_cells(&[2]));
    d.out.set_prop(node, "#size-cells", from_cells(&[2]));
    d.out.set_prop(node, "ranges", Vec::new());
    d.out.set_prop(node, "dma-ranges", from_cells(&ranges));
    Ok(node)
}

/// A `dma-ranges` of `child`-cell bus addresses, `parent`-cell CPU addresses and `size`-cell
/// sizes, re-encoded with two cells each.
fn translate(cells: &[u32], child: usize, parent: usize, size: usize) -> Result<Vec<u32>> {
    let entry = child + parent + size;
    if entry == 0 || !cells.len().is_multiple_of(entry) || child > 2 || parent > 2 || size > 2 {
        bail!("does not fit #address-cells/#size-cells ({child}, {parent}, {size})");
    }
    let value = |c: &[u32]| c.iter().fold(0u64, |acc, &x| (acc << 32) | u64::from(x));
    let mut out = Vec::new();
    for e in cells.chunks(entry) {
        let (bus, rest) = e.split_at(child);
        let (cpu, length) = rest.split_at(parent);
        out.extend(cells64(value(bus)));
        out.extend(cells64(value(cpu)));
        out.extend(cells64(value(length)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::translate;

    #[test]
    fn the_emmc2bus_and_soc_windows_keep_their_meaning_in_two_cells() {
        // /emmc2bus: <0x0 0xc0000000  0x0 0x0  0x40000000> (2, 2, 1 cells).
        assert_eq!(
            translate(&[0, 0xc000_0000, 0, 0, 0x4000_0000], 2, 2, 1).unwrap(),
            [0, 0xc000_0000, 0, 0, 0, 0x4000_0000]
        );
        // /soc: <0xc0000000  0x0 0x0  0x40000000> (1, 2, 1 cells).
        assert_eq!(
            translate(&[0xc000_0000, 0, 0, 0x4000_0000], 1, 2, 1).unwrap(),
            [0, 0xc000_0000, 0, 0, 0, 0x4000_0000]
        );
        assert!(translate(&[1, 2, 3], 1, 2, 1).is_err());
    }
}
