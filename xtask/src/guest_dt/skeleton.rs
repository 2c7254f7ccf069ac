//! The part of a derived device tree every partition has: the board's identity, the
//! partition's memory and vCPUs, PSCI, the GIC as the vGICv2 presents it, the timer, the
//! virtual console and `/chosen`; and merging the template over it.

use anyhow::{bail, Context, Result};

use super::address::cpu_ranges;
use super::clock_rates;
use super::tree::{cells64, from_cells, from_strings, NodeId, Tree};
use super::{Derivation, DERIVE_FROM};

/// GIC-400 compatibles the vGICv2 emulation presents (Arm GIC binding, `arm,gic.yaml`).
const GICV2: [&str; 3] = ["arm,gic-400", "arm,cortex-a15-gic", "arm,cortex-a7-gic"];

/// Builds the skeleton into `d.out`.
pub fn build(d: &mut Derivation<'_>) -> Result<()> {
    identity(d);
    chosen(d);
    memory(d);
    cpus(d)?;
    psci(d);
    timer(d)?;
    gic(d)?;
    console(d)?;
    Ok(())
}

/// The root: the board's `compatible` and `model`, 2-cell addresses and sizes, the GIC as
/// interrupt parent.
fn identity(d: &mut Derivation<'_>) {
    let out = &mut d.out;
    for name in ["compatible", "model"] {
        if let Some(value) = d.board.prop(0, name) {
            out.set_prop(0, name, value.to_vec());
        }
    }
    out.set_prop(0, "#address-cells", from_cells(&[2]));
    out.set_prop(0, "#size-cells", from_cells(&[2]));
    out.set_prop(0, "interrupt-parent", from_cells(&[d.gic_phandle]));
}

fn chosen(d: &mut Derivation<'_>) {
    let chosen = d.out.add_child(0, "chosen");
    if let Some(console) = d.partition.console {
        let path = format!("/serial@{:x}", console.start);
        d.out
            .set_prop(chosen, "stdout-path", from_strings(&[&path]));
    }
}

fn memory(d: &mut Derivation<'_>) {
    for region in &d.partition.memory {
        let node = d
            .out
            .add_child(0, &format!("memory@{:x}", region.ipa.start));
        d.out
            .set_prop(node, "device_type", from_strings(&["memory"]));
        let reg = [cells64(region.ipa.start), cells64(region.ipa.size)].concat();
        d.out.set_prop(node, "reg", from_cells(&reg));
    }
}

/// One `cpu@N` per vCPU N, with the `compatible` of the physical CPU behind it.
fn cpus(d: &mut Derivation<'_>) -> Result<()> {
    let board_cpus = d
        .board
        .find("/cpus")
        .context("the board device tree has no /cpus")?;
    let cpus = d.out.add_child(0, "cpus");
    d.out.set_prop(cpus, "#address-cells", from_cells(&[1]));
    d.out.set_prop(cpus, "#size-cells", from_cells(&[0]));
    for (vcpu, &mpidr) in d.partition.cpus.iter().enumerate() {
        let physical = d
            .board
            .node(board_cpus)
            .children
            .iter()
            .copied()
            .find(|&c| {
                let reg = d.board.cells(c, "reg").unwrap_or_default();
                reg.iter().fold(0u64, |acc, &x| (acc << 32) | u64::from(x)) == mpidr
                    && d.board.strings(c, "device_type") == ["cpu"]
            });
        let Some(physical) = physical else {
            bail!("the board device tree has no CPU with MPIDR {mpidr:#x}");
        };
        let node = d.out.add_child(cpus, &format!("cpu@{vcpu:x}"));
        d.out.set_prop(node, "device_type", from_strings(&["cpu"]));
        if let Some(compatible) = d.board.prop(physical, "compatible") {
            d.out.set_prop(node, "compatible", compatible.to_vec());
        }
        d.out.set_prop(node, "reg", from_cells(&[vcpu as u32]));
        d.out
            .set_prop(node, "enable-method", from_strings(&["psci"]));
    }
    Ok(())
}

/// PSCI through `hvc`: Bulkhead answers it (docs/guest-abi.md).
fn psci(d: &mut Derivation<'_>) {
    let node = d.out.add_child(0, "psci");
    d.out.set_prop(
        node,
        "compatible",
        from_strings(&["arm,psci-1.0", "arm,psci-0.2"]),
    );
    d.out.set_prop(node, "method", from_strings(&["hvc"]));
}

/// The board's architected timer node as it is (its PPIs are each vCPU's own).
fn timer(d: &mut Derivation<'_>) -> Result<()> {
    let board = d.board;
    let source = board
        .ids()
        .find(|&id| board.is_compatible(id, "arm,armv8-timer"))
        .context("the board device tree has no arm,armv8-timer node")?;
    let node = d.out.add_child(0, "timer");
    for (name, value) in &board.node(source).props {
        if !matches!(
            name.as_str(),
            "phandle" | "linux,phandle" | "interrupt-parent"
        ) {
            d.out.set_prop(node, name, value.clone());
        }
    }
    Ok(())
}

/// The GIC as the vGICv2 presents it: the board's distributor (trapped and emulated) and CPU
/// interface (the hardware's virtual CPU interface) at their board addresses. The
/// hypervisor's interface (GICH), the hardware GICV frame and the maintenance interrupt stay
/// out: they are the hypervisor's.
fn gic(d: &mut Derivation<'_>) -> Result<()> {
    let board = d.board;
    if !GICV2.iter().any(|c| board.is_compatible(d.gic, c)) {
        bail!(
            "{}: only a GICv2 (GIC-400) can be described in a derived device tree",
            board.path(d.gic)
        );
    }
    let regs = cpu_ranges(board, d.gic)?.unwrap_or_default();
    let [distributor, cpu_interface, ..] = regs.as_slice() else {
        bail!(
            "{}: expected the distributor and CPU interface in `reg`",
            board.path(d.gic)
        );
    };
    let node = d
        .out
        .add_child(0, &format!("interrupt-controller@{:x}", distributor.start));
    for name in ["compatible", "#interrupt-cells"] {
        if let Some(value) = board.prop(d.gic, name) {
            d.out.set_prop(node, name, value.to_vec());
        }
    }
    d.out.set_prop(node, "interrupt-controller", Vec::new());
    let reg = [
        cells64(distributor.start),
        cells64(distributor.size),
        cells64(cpu_interface.start),
        cells64(cpu_interface.size),
    ]
    .concat();
    d.out.set_prop(node, "reg", from_cells(&reg));
    d.out
        .set_prop(node, "phandle", from_cells(&[d.gic_phandle]));
    Ok(())
}

/// The partition's virtual PL011. Its reference clock is a fixed clock at the PL011's usual
/// rate (the virtual UART ignores baud rates). Its interrupt is the virtual PL011's, SPI
/// `CONSOLE_INTID - 32` (a purely virtual SPI of the partition's virtual GIC, whatever the
/// board's own PL011 uses), level-triggered, so Linux's `amba-pl011` driver runs it
/// interrupt-driven.
fn console(d: &mut Derivation<'_>) -> Result<()> {
    let Some(console) = d.partition.console else {
        return Ok(());
    };
    let uart = clock_rates::by_name("uart").context("no uart clock rate")?;
    let clock = fixed_clock(d, uart.name, uart.rate);
    let node = d.out.add_child(0, &format!("serial@{:x}", console.start));
    d.out.set_prop(
        node,
        "compatible",
        from_strings(&["arm,pl011", "arm,primecell"]),
    );
    let reg = [cells64(console.start), cells64(console.size)].concat();
    d.out.set_prop(node, "reg", from_cells(&reg));
    // GIC binding: <SPI number IRQ_TYPE_LEVEL_HIGH>.
    let spi = bulkhead_config::CONSOLE_INTID - 32;
    d.out.set_prop(node, "interrupts", from_cells(&[0, spi, 4]));
    d.out.set_prop(node, "clocks", from_cells(&[clock, clock]));
    d.out
        .set_prop(node, "clock-names", from_strings(&["uartclk", "apb_pclk"]));
    Ok(())
}

/// The phandle of the fixed clock `name` at `rate` Hz under `/clocks`, created on first use.
pub fn fixed_clock(d: &mut Derivation<'_>, name: &str, rate: u32) -> u32 {
    if let Some((_, phandle)) = d.fixed_clocks.iter().find(|(n, _)| n == name) {
        return *phandle;
    }
    let phandle = d.new_phandle();
    let clocks = clocks_node(d);
    let node = d.out.add_child(clocks, &format!("clock-{name}"));
    d.out
        .set_prop(node, "compatible", from_strings(&["fixed-clock"]));
    d.out.set_prop(node, "#clock-cells", from_cells(&[0]));
    d.out.set_prop(node, "clock-frequency", from_cells(&[rate]));
    d.out
        .set_prop(node, "clock-output-names", from_strings(&[name]));
    d.out.set_prop(node, "phandle", from_cells(&[phandle]));
    d.fixed_clocks.push((name.to_string(), phandle));
    phandle
}

/// The `/clocks` node of the partition's tree, created on first use.
pub fn clocks_node(d: &mut Derivation<'_>) -> NodeId {
    match d.clocks_node {
        Some(node) => node,
        None => {
            let node = d.out.add_child(0, "clocks");
            d.clocks_node = Some(node);
            node
        }
    }
}

/// Root properties the template cannot change: they come from the board and the partition.
const DERIVED_ROOT: [&str; 5] = [
    "compatible",
    "model",
    "#address-cells",
    "#size-cells",
    "interrupt-parent",
];

/// Merges `template`'s node `from` into `out`'s node `into`: its properties replace or join
/// the derived ones (except the root's identity and cell sizes), its children merge by name.
pub fn merge_template(out: &mut Tree, template: &Tree, from: NodeId, into: NodeId) {
    for (name, value) in &template.node(from).props {
        let protected = from == 0 && (DERIVED_ROOT.contains(&name.as_str()) || name == DERIVE_FROM);
        if !protected {
            out.set_prop(into, name, value.clone());
        }
    }
    for &child in &template.node(from).children {
        let name = &template.node(child).name;
        let existing = out
            .node(into)
            .children
            .iter()
            .copied()
            .find(|&c| &out.node(c).name == name);
        let target = existing.unwrap_or_else(|| out.add_child(into, name));
        merge_template(out, template, child, target);
    }
}
