//! Where a node is in the configuration tree, for error reports.

use crate::error::{ConfigError, ErrorKind};

/// Deepest node an error names: `/partitions/<partition>/<child>/<grandchild>`
/// (channels go one level less deep).
const MAX_PATH: usize = 4;

/// A node's place: the partition it belongs to, if any, and its path from
/// the root. The default is the root.
#[derive(Clone, Copy, Default)]
pub(super) struct At<'a> {
    partition: Option<usize>,
    names: [&'a str; MAX_PATH],
    len: usize,
}

impl<'a> At<'a> {
    /// The root node.
    pub(super) fn root() -> Self {
        Self::default()
    }

    /// `/partitions`.
    pub(super) fn partitions() -> Self {
        Self::root().child("partitions")
    }

    /// `/channels`.
    pub(super) fn channels() -> Self {
        Self::root().child("channels")
    }

    /// The child `name` of this node. The parser never looks deeper than
    /// [`MAX_PATH`] levels; past that the path stays at this node.
    pub(super) fn child(mut self, name: &'a str) -> Self {
        if let Some(slot) = self.names.get_mut(self.len) {
            *slot = name;
            self.len = self.len.saturating_add(1);
        }
        self
    }

    /// This node, in (or as) the partition at `index`.
    pub(super) fn in_partition(mut self, index: usize) -> Self {
        self.partition = Some(index);
        self
    }

    /// An error at this node.
    pub(super) fn err(&self, kind: ErrorKind) -> ConfigError {
        let path = self.names.get(..self.len).unwrap_or_default();
        ConfigError::at(self.partition, path, kind)
    }
}
