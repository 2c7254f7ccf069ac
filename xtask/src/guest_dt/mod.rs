//! Partition device trees derived from the board's device tree.
//!
//! A guest device tree source whose root says `bulkhead,derive-from = "board";` is a
//! *template*. For the partition whose `dtb` names it, xtask builds the real device tree from
//! three inputs:
//!
//! - the board's device tree (on the Raspberry Pi 4, Debian's `bcm2711-rpi-4-b.dtb`): its root
//!   `compatible` and `model`, the CPUs' `compatible`, the GIC, the architected timer, and every
//!   node the partition is granted;
//! - the partition's configuration: its memory, vCPUs, console and `device@` nodes;
//! - the template: `/chosen` (boot arguments) and anything else it adds.
//!
//! What the partition gets ([`skeleton`]): memory at its IPAs, one `cpu@N` per vCPU
//! (`enable-method = "psci"`), `/psci` with `method = "hvc"`, the GIC-400 as the vGICv2
//! presents it (the board's distributor and CPU interface addresses, nothing of the
//! hypervisor's interface), the board's timer, its virtual PL011 console and `/chosen`.
//! Then every board node whose registers lie in a `device@` range of the partition
//! ([`devices`]), with its subtree and properties, its `reg` translated through the board's
//! `ranges` into the addresses the partition sees, and references it cannot honour replaced
//! or removed ([`references`]). Nothing else of the board appears.
//!
//! docs/configuration.md ("Derived device trees") is the user's description.

pub mod address;
pub mod clock_rates;
pub mod devices;
pub mod dma_bus;
pub mod references;
pub mod skeleton;
pub mod tree;

#[cfg(test)]
mod tests;

use anyhow::{bail, Context, Result};
use bulkhead_config::model::PartitionConfig;
use std::path::PathBuf;

use tree::{NodeId, Tree};

/// The root property that makes a guest device tree a template.
pub const DERIVE_FROM: &str = "bulkhead,derive-from";

/// Whether `blob` is a template (its root has [`DERIVE_FROM`]).
pub fn is_template(blob: &[u8]) -> bool {
    Tree::parse(blob).is_ok_and(|t| t.prop(0, DERIVE_FROM).is_some())
}

/// The board device tree templates of board `board` derive from.
pub fn board_dtb(board: &str) -> Result<PathBuf> {
    match board {
        "rpi4" => crate::raspi4b::board_dtb(),
        other => bail!(
            "board {other} has no device tree for xtask to derive partition device trees from \
             (only rpi4 has: Debian's bcm2711-rpi-4-b.dtb); write the guest device tree in full"
        ),
    }
}

/// Derives the device tree of `partition` from the board's (`board`) and the template.
pub fn derive(board: &[u8], template: &[u8], partition: &PartitionConfig<'_>) -> Result<Vec<u8>> {
    let board = Tree::parse(board).context("the board device tree")?;
    let template = Tree::parse(template).context("the template")?;
    match template.strings(0, DERIVE_FROM).first().map(String::as_str) {
        Some("board") => {}
        other => bail!("{DERIVE_FROM} = {other:?}: the only source is \"board\""),
    }
    let mut derivation = Derivation::new(&board, partition)?;
    skeleton::build(&mut derivation)?;
    devices::copy_granted(&mut derivation)?;
    skeleton::merge_template(&mut derivation.out, &template, 0, 0);
    derivation.out.to_dtb()
}

/// The state of one derivation: the board, the partition and the tree being built.
pub struct Derivation<'a> {
    /// The board's device tree.
    pub board: &'a Tree,
    /// The partition.
    pub partition: &'a PartitionConfig<'a>,
    /// The partition's device tree.
    pub out: Tree,
    /// The board's GIC node.
    pub gic: NodeId,
    /// The phandle of the GIC in both trees (the guest's GIC keeps the board's phandle).
    pub gic_phandle: u32,
    /// Board nodes granted to the partition (each copied with its subtree).
    pub granted: Vec<NodeId>,
    /// Fixed clocks in the partition's tree: (name or board path, phandle).
    pub fixed_clocks: Vec<(String, u32)>,
    /// The `/clocks` node of the partition's tree, once there is one.
    pub clocks_node: Option<NodeId>,
    /// The next free phandle for generated nodes.
    pub next_phandle: u32,
}

impl<'a> Derivation<'a> {
    fn new(board: &'a Tree, partition: &'a PartitionConfig<'a>) -> Result<Self> {
        let gic_phandle = board
            .u32(0, "interrupt-parent")
            .context("the board device tree has no root interrupt-parent (its GIC)")?;
        let gic = board
            .by_phandle(gic_phandle)
            .context("the board's root interrupt-parent names no node")?;
        Ok(Derivation {
            board,
            partition,
            out: Tree::new(),
            gic,
            gic_phandle,
            granted: Vec::new(),
            fixed_clocks: Vec::new(),
            clocks_node: None,
            next_phandle: board.max_phandle() + 1,
        })
    }

    /// A fresh phandle for a generated node.
    pub fn new_phandle(&mut self) -> u32 {
        let phandle = self.next_phandle;
        self.next_phandle += 1;
        phandle
    }

    /// Whether board node `id` is copied into the partition's tree (lies in a granted subtree).
    pub fn owns(&self, id: NodeId) -> bool {
        self.granted
            .iter()
            .any(|&top| self.board.is_within(id, top))
    }

    /// Whether the partition is routed GIC INTID `intid` (through one of its `device@`s).
    pub fn has_intid(&self, intid: u32) -> bool {
        self.partition
            .devices
            .iter()
            .any(|d| d.interrupts.contains(&intid))
    }
}
