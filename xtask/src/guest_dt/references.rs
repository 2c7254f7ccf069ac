//! What becomes of a granted board node's properties in the partition's tree, above all the
//! references to other nodes (phandles) the partition may not be able to honour:
//!
//! | property | in the partition's tree |
//! |---|---|
//! | `interrupts` | kept when every specifier is a GIC SPI routed to the partition, or goes to an interrupt controller the partition owns; anything else is an error |
//! | `interrupt-parent` | written out explicitly (the GIC, or the owned controller) |
//! | `clocks` | a board `fixed-clock` is copied; a clock of a node the partition owns is kept; a clock of the clock manager or the firmware becomes a `fixed-clock` at the rate the firmware sets ([`clock_rates`](super::clock_rates)); an unknown one is an error |
//! | `assigned-clocks`, `assigned-clock-rates`, `assigned-clock-parents` | removed: the partition cannot change the board's clocks |
//! | `pinctrl-N`, `pinctrl-names` | kept when every pin group lies in a node the partition owns (its GPIO block), otherwise all removed: pin muxing belongs to the GPIO block's owner (or the firmware) |
//! | `gpios`, `*-gpios`, `*-gpio`, `gpio-ranges` | kept when the controller is owned, otherwise removed |
//! | `dmas`, `dma-names` | removed: the BCM2711 has no IOMMU, a DMA engine would reach all memory; drivers fall back to programmed I/O |
//! | `power-domains`, `power-domain-names`, `resets`, `reset-names`, `phys`, `phy-names` | removed: they go through the firmware's mailbox or blocks the partition does not own |
//! | `interrupts-extended` | an error (not supported) |
//! | anything else | copied as it is (the first of duplicated properties) |

use anyhow::{bail, Context, Result};

use super::clock_rates;
use super::skeleton;
use super::tree::{from_cells, to_cells, NodeId};
use super::Derivation;

/// Properties removed outright.
const REMOVED: [&str; 11] = [
    "assigned-clocks",
    "assigned-clock-rates",
    "assigned-clock-parents",
    "dmas",
    "dma-names",
    "power-domains",
    "power-domain-names",
    "resets",
    "reset-names",
    "phys",
    "phy-names",
];

/// The properties of board node `id` as the partition's tree carries them.
pub fn copy_props(d: &mut Derivation<'_>, id: NodeId) -> Result<Vec<(String, Vec<u8>)>> {
    let board = d.board;
    let path = board.path(id);
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let keep_pinctrl = pinctrl_owned(d, id);
    for (name, value) in &board.node(id).props {
        if out.iter().any(|(n, _)| n == name) {
            continue;
        }
        let name_str = name.as_str();
        let kept = match name_str {
            "interrupt-parent" => None,
            "interrupts-extended" => {
                bail!("{path}: `interrupts-extended` is not supported in derived device trees")
            }
            "interrupts" => {
                let parent = interrupts(d, id)?;
                out.push(("interrupt-parent".into(), from_cells(&[parent])));
                Some(value.clone())
            }
            "clocks" => Some(clocks(d, id, value)?),
            "gpio-ranges" => specifiers_owned(d, value, |_| Some(3)).then(|| value.clone()),
            n if n == "gpios" || n.ends_with("-gpios") || n.ends_with("-gpio") => {
                let board = d.board;
                specifiers_owned(d, value, |p| board.u32(p, "#gpio-cells")).then(|| value.clone())
            }
            n if n.starts_with("pinctrl-") => keep_pinctrl.then(|| value.clone()),
            n if REMOVED.contains(&n) => None,
            _ => Some(value.clone()),
        };
        if let Some(value) = kept {
            out.push((name.clone(), value));
        }
    }
    Ok(out)
}

/// The phandle of node `id`'s interrupt parent in the partition's tree, after checking every
/// specifier of its `interrupts`.
fn interrupts(d: &Derivation<'_>, id: NodeId) -> Result<u32> {
    let board = d.board;
    let path = board.path(id);
    let mut at = Some(id);
    let phandle = loop {
        let Some(node) = at else {
            bail!("{path}: no interrupt-parent on the way to the root");
        };
        if let Some(phandle) = board.u32(node, "interrupt-parent") {
            break phandle;
        }
        at = board.node(node).parent;
    };
    let parent = board
        .by_phandle(phandle)
        .with_context(|| format!("{path}: interrupt-parent {phandle:#x} names no node"))?;
    if parent != d.gic {
        if d.owns(parent) {
            return Ok(phandle);
        }
        bail!(
            "{path}: its interrupts go through {}, which partition \"{}\" does not own",
            board.path(parent),
            d.partition.name
        );
    }
    let cells = board.cells(id, "interrupts").unwrap_or_default();
    if !cells.len().is_multiple_of(3) {
        bail!("{path}: `interrupts` is not a list of 3-cell GIC specifiers");
    }
    for spec in cells.chunks_exact(3) {
        // Arm GIC binding: cell 0 is 0 for an SPI (INTID 32 + n), 1 for a PPI.
        if spec[0] != 0 {
            bail!(
                "{path}: interrupt <{} {} {:#x}> is a private peripheral interrupt, which no \
                 partition can be given",
                spec[0],
                spec[1],
                spec[2]
            );
        }
        let intid = 32 + spec[1];
        if !d.has_intid(intid) {
            bail!(
                "{path}: uses SPI {} (INTID {intid}), which partition \"{}\" is not routed; \
                 add {intid} to `interrupts` of its device@ node",
                spec[1],
                d.partition.name
            );
        }
    }
    Ok(d.gic_phandle)
}

/// Node `id`'s `clocks`, each specifier pointing at a clock the partition's tree has.
fn clocks(d: &mut Derivation<'_>, id: NodeId, value: &[u8]) -> Result<Vec<u8>> {
    let board = d.board;
    let path = board.path(id);
    let cells = to_cells(value);
    let mut out = Vec::new();
    let mut at = 0;
    while at < cells.len() {
        let phandle = cells[at];
        let provider = board
            .by_phandle(phandle)
            .with_context(|| format!("{path}: clock phandle {phandle:#x} names no node"))?;
        let count = board.u32(provider, "#clock-cells").unwrap_or(0) as usize;
        let Some(specifier) = cells.get(at + 1..at + 1 + count) else {
            bail!("{path}: `clocks` ends inside a specifier");
        };
        at += 1 + count;
        if d.owns(provider) {
            out.push(phandle);
            out.extend_from_slice(specifier);
        } else if board.is_compatible(provider, "fixed-clock") {
            out.push(copy_fixed_clock(d, provider, phandle));
        } else if let Some(known) =
            clock_rates::lookup(&board.strings(provider, "compatible"), specifier)
        {
            out.push(skeleton::fixed_clock(d, known.name, known.rate));
        } else {
            bail!(
                "{path}: clock {specifier:?} of {} has no known rate; add it to \
                 xtask/src/guest_dt/clock_rates.rs",
                board.path(provider)
            );
        }
    }
    Ok(from_cells(&out))
}

/// Copies the board's fixed clock `provider` into `/clocks` (once) with its own phandle.
fn copy_fixed_clock(d: &mut Derivation<'_>, provider: NodeId, phandle: u32) -> u32 {
    let key = d.board.path(provider);
    if d.fixed_clocks.iter().any(|(n, _)| *n == key) {
        return phandle;
    }
    let clocks = skeleton::clocks_node(d);
    let node = d.out.add_child(clocks, &d.board.node(provider).name);
    for (name, value) in &d.board.node(provider).props {
        d.out.set_prop(node, name, value.clone());
    }
    d.fixed_clocks.push((key, phandle));
    phandle
}

/// Whether every `pinctrl-N` of node `id` names only pin groups the partition owns.
fn pinctrl_owned(d: &Derivation<'_>, id: NodeId) -> bool {
    d.board.node(id).props.iter().all(|(name, value)| {
        name == "pinctrl-names"
            || !name.starts_with("pinctrl-")
            || to_cells(value)
                .iter()
                .all(|&p| d.board.by_phandle(p).is_some_and(|n| d.owns(n)))
    })
}

/// Whether every specifier of a phandle list (`phandle`, then `cells(provider)` cells)
/// names a node the partition owns.
fn specifiers_owned(
    d: &Derivation<'_>,
    value: &[u8],
    cells: impl Fn(NodeId) -> Option<u32>,
) -> bool {
    let list = to_cells(value);
    let mut at = 0;
    while at < list.len() {
        let Some(provider) = d.board.by_phandle(list[at]) else {
            return false;
        };
        if !d.owns(provider) {
            return false;
        }
        at += 1 + cells(provider).unwrap_or(0) as usize;
    }
    true
}
