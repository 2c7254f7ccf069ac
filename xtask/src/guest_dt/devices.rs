//! The board nodes a partition is granted: every memory-mapped node whose registers lie in
//! one of the partition's `device@` ranges, copied with its subtree under the root of the
//! partition's tree, at the addresses the partition sees.

use anyhow::{bail, Result};

use super::address::{cpu_ranges, CpuRange};
use super::references;
use super::tree::{cells64, from_cells, from_strings, NodeId};
use super::Derivation;

/// Finds the granted board nodes, then copies each one.
pub fn copy_granted(d: &mut Derivation<'_>) -> Result<()> {
    select(d)?;
    for device in &d.partition.devices {
        let matched = d.granted.iter().any(|&id| {
            cpu_ranges(d.board, id)
                .ok()
                .flatten()
                .unwrap_or_default()
                .iter()
                .any(|r| r.overlaps(device.phys.start, device.phys.size))
        });
        if !matched {
            eprintln!(
                "note: partition \"{}\": no node of the board's device tree lies in {} \
                 ([{:#x}, {:#x})); its device tree does not describe it",
                d.partition.name,
                device.node,
                device.phys.start,
                device.phys.start.saturating_add(device.phys.size)
            );
        }
    }
    for top in d.granted.clone() {
        copy_top(d, top)?;
    }
    Ok(())
}

/// Records in `d.granted` the outermost board nodes with registers in the partition's
/// devices. A node with some registers inside and some outside is an error: the partition
/// could not reach all of it.
fn select(d: &mut Derivation<'_>) -> Result<()> {
    let board = d.board;
    for id in board.ids().skip(1) {
        if id == d.gic || d.owns(id) {
            continue;
        }
        let Some(ranges) = cpu_ranges(board, id)? else {
            continue;
        };
        let touched = ranges.iter().any(|r| {
            d.partition
                .devices
                .iter()
                .any(|dev| r.overlaps(dev.phys.start, dev.phys.size))
        });
        if !touched {
            continue;
        }
        if let Some(outside) = ranges.iter().find(|r| ipa_of(d, r).is_none()) {
            bail!(
                "{}: registers [{:#x}, {:#x}) lie outside every device@ of partition \"{}\"; \
                 grant the whole of the node, or none of it",
                board.path(id),
                outside.start,
                outside.end(),
                d.partition.name
            );
        }
        d.granted.push(id);
    }
    Ok(())
}

/// Where the partition sees the CPU range `r`: inside which of its devices, at which IPA.
fn ipa_of(d: &Derivation<'_>, r: &CpuRange) -> Option<u64> {
    d.partition
        .devices
        .iter()
        .find(|dev| r.is_inside(dev.phys.start, dev.phys.size))
        .map(|dev| dev.ipa + (r.start - dev.phys.start))
}

/// Copies granted node `top` under the root: `reg` in IPAs with 2-cell addresses and sizes,
/// `status = "okay"` (the configuration gives it to this partition), the rest as
/// [`references::copy_props`] decides; its children likewise, `reg` and `status` unchanged.
fn copy_top(d: &mut Derivation<'_>, top: NodeId) -> Result<()> {
    let board = d.board;
    let ranges = cpu_ranges(board, top)?.unwrap_or_default();
    let mut reg = Vec::new();
    for r in &ranges {
        let ipa = ipa_of(d, r).unwrap_or(r.start);
        reg.extend(cells64(ipa));
        reg.extend(cells64(r.size));
    }
    let base = board.node(top).name.split('@').next().unwrap_or("device");
    let first = ranges
        .first()
        .and_then(|r| ipa_of(d, r))
        .unwrap_or_default();
    let parent = super::dma_bus::parent_for(d, top)?;
    let node = d.out.add_child(parent, &format!("{base}@{first:x}"));
    d.out.set_prop(node, "reg", from_cells(&reg));
    d.out.set_prop(node, "status", from_strings(&["okay"]));
    for (name, value) in references::copy_props(d, top)? {
        if name != "reg" && name != "status" {
            d.out.set_prop(node, &name, value);
        }
    }
    for &child in &board.node(top).children {
        copy_subtree(d, child, node)?;
    }
    Ok(())
}

fn copy_subtree(d: &mut Derivation<'_>, id: NodeId, parent: NodeId) -> Result<()> {
    let node = d.out.add_child(parent, &d.board.node(id).name);
    for (name, value) in references::copy_props(d, id)? {
        d.out.set_prop(node, &name, value);
    }
    for &child in &d.board.node(id).children {
        copy_subtree(d, child, node)?;
    }
    Ok(())
}
