//! An owned device tree: nodes with their properties, read from a DTB with the `fdt` crate and
//! written back to a DTB with `vm-fdt`. The derivation edits this tree, never raw blobs.

use anyhow::{anyhow, Context, Result};

/// Index of a node in its [`Tree`]; the root is 0.
pub type NodeId = usize;

/// One node: its name (with unit address), its properties in order and its children.
#[derive(Clone, Debug, Default)]
pub struct Node {
    /// The node name, e.g. `i2c@7e804000` (empty for the root).
    pub name: String,
    /// Properties in the order they appear.
    pub props: Vec<(String, Vec<u8>)>,
    /// Child nodes, in order.
    pub children: Vec<NodeId>,
    /// The parent (`None` for the root).
    pub parent: Option<NodeId>,
}

/// A whole device tree. Node 0 is the root.
#[derive(Clone, Debug)]
pub struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    /// A tree holding only an empty root node.
    pub fn new() -> Self {
        Tree {
            nodes: vec![Node::default()],
        }
    }

    /// Reads a flattened device tree.
    pub fn parse(blob: &[u8]) -> Result<Self> {
        let fdt = fdt::Fdt::new(blob).map_err(|e| anyhow!("not a device tree blob: {e:?}"))?;
        let mut tree = Tree::new();
        let root = fdt
            .find_node("/")
            .context("the device tree has no root node")?;
        tree.read_node(0, root);
        Ok(tree)
    }

    fn read_node(&mut self, id: NodeId, node: fdt::node::FdtNode<'_, '_>) {
        for prop in node.properties() {
            self.nodes[id]
                .props
                .push((prop.name.to_string(), prop.value.to_vec()));
        }
        for child in node.children() {
            let child_id = self.add_child(id, child.name);
            self.read_node(child_id, child);
        }
    }

    /// Adds an empty child called `name` under `parent` and returns it.
    pub fn add_child(&mut self, parent: NodeId, name: &str) -> NodeId {
        let id = self.nodes.len();
        self.nodes.push(Node {
            name: name.to_string(),
            parent: Some(parent),
            ..Node::default()
        });
        self.nodes[parent].children.push(id);
        id
    }

    /// The node `id`.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// Every node id, parents before children.
    pub fn ids(&self) -> impl Iterator<Item = NodeId> {
        0..self.nodes.len()
    }

    /// The value of property `name` of node `id`.
    pub fn prop(&self, id: NodeId, name: &str) -> Option<&[u8]> {
        self.nodes[id]
            .props
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// Sets property `name` of node `id`, replacing an existing value in place.
    pub fn set_prop(&mut self, id: NodeId, name: &str, value: Vec<u8>) {
        let props = &mut self.nodes[id].props;
        match props.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = value,
            None => props.push((name.to_string(), value)),
        }
    }

    /// Property `name` of node `id` as big-endian 32-bit cells.
    pub fn cells(&self, id: NodeId, name: &str) -> Option<Vec<u32>> {
        self.prop(id, name).map(to_cells)
    }

    /// Property `name` of node `id` as one cell.
    pub fn u32(&self, id: NodeId, name: &str) -> Option<u32> {
        match self.cells(id, name)?.as_slice() {
            [value] => Some(*value),
            _ => None,
        }
    }

    /// Property `name` of node `id` as a list of strings.
    pub fn strings(&self, id: NodeId, name: &str) -> Vec<String> {
        self.prop(id, name)
            .map(|v| {
                v.split(|&b| b == 0)
                    .filter(|s| !s.is_empty())
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether node `id`'s `compatible` lists `what`.
    pub fn is_compatible(&self, id: NodeId, what: &str) -> bool {
        self.strings(id, "compatible").iter().any(|c| c == what)
    }

    /// The node at absolute `path` (`/soc/gpio@7e200000`).
    pub fn find(&self, path: &str) -> Option<NodeId> {
        let mut id = 0;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            id = *self.nodes[id]
                .children
                .iter()
                .find(|&&c| self.nodes[c].name == part)?;
        }
        Some(id)
    }

    /// The absolute path of node `id`.
    pub fn path(&self, id: NodeId) -> String {
        let mut parts = Vec::new();
        let mut at = Some(id);
        while let Some(node) = at.filter(|&n| n != 0) {
            parts.push(self.nodes[node].name.as_str());
            at = self.nodes[node].parent;
        }
        parts.reverse();
        format!("/{}", parts.join("/"))
    }

    /// The node whose `phandle` is `phandle`.
    pub fn by_phandle(&self, phandle: u32) -> Option<NodeId> {
        self.ids().find(|&id| {
            self.u32(id, "phandle") == Some(phandle)
                || self.u32(id, "linux,phandle") == Some(phandle)
        })
    }

    /// The largest phandle in use (0 if none).
    pub fn max_phandle(&self) -> u32 {
        self.ids()
            .filter_map(|id| self.u32(id, "phandle"))
            .max()
            .unwrap_or(0)
    }

    /// Whether `id` is `ancestor` or lies below it.
    pub fn is_within(&self, id: NodeId, ancestor: NodeId) -> bool {
        let mut at = Some(id);
        while let Some(node) = at {
            if node == ancestor {
                return true;
            }
            at = self.nodes[node].parent;
        }
        false
    }

    /// `#address-cells` of node `id` (2 when absent, as the specification says).
    pub fn address_cells(&self, id: NodeId) -> u32 {
        self.u32(id, "#address-cells").unwrap_or(2)
    }

    /// `#size-cells` of node `id` (1 when absent, as the specification says).
    pub fn size_cells(&self, id: NodeId) -> u32 {
        self.u32(id, "#size-cells").unwrap_or(1)
    }

    /// Writes the tree as a flattened device tree blob.
    pub fn to_dtb(&self) -> Result<Vec<u8>> {
        let mut writer = vm_fdt::FdtWriter::new().map_err(|e| anyhow!("{e}"))?;
        self.write_node(&mut writer, 0)?;
        writer.finish().map_err(|e| anyhow!("{e}"))
    }

    fn write_node(&self, writer: &mut vm_fdt::FdtWriter, id: NodeId) -> Result<()> {
        let node = &self.nodes[id];
        let handle = writer
            .begin_node(&node.name)
            .map_err(|e| anyhow!("node {}: {e}", self.path(id)))?;
        for (name, value) in &node.props {
            writer
                .property(name, value)
                .map_err(|e| anyhow!("{}: property {name}: {e}", self.path(id)))?;
        }
        for &child in &node.children {
            self.write_node(writer, child)?;
        }
        writer.end_node(handle).map_err(|e| anyhow!("{e}"))
    }
}

/// Big-endian 32-bit cells of a property value (a trailing partial cell is dropped).
pub fn to_cells(value: &[u8]) -> Vec<u32> {
    value
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// A property value made of big-endian 32-bit cells.
pub fn from_cells(cells: &[u32]) -> Vec<u8> {
    cells.iter().flat_map(|c| c.to_be_bytes()).collect()
}

/// A string-list property value (each string NUL-terminated).
pub fn from_strings(strings: &[&str]) -> Vec<u8> {
    strings
        .iter()
        .flat_map(|s| s.bytes().chain(std::iter::once(0)))
        .collect()
}

/// A 64-bit value as two cells, high first.
pub fn cells64(value: u64) -> [u32; 2] {
    [(value >> 32) as u32, value as u32]
}
