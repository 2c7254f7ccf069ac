//! Turning a linked ELF into the flat binary a boot loader loads.

use anyhow::{bail, Context, Result};
use object::{Object, ObjectSegment, ObjectSymbol};
use std::path::Path;

/// The bytes from the lowest loadable address up to `end_symbol` (zero-filled where no segment
/// has data, e.g. .bss), or up to the end of the last segment's file data.
pub fn flatten(path: &Path, end_symbol: Option<&str>) -> Result<(u64, Vec<u8>)> {
    let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let file =
        object::File::parse(&*data).with_context(|| format!("parsing {}", path.display()))?;
    let segments: Vec<_> = file.segments().filter(|s| s.size() > 0).collect();
    let Some(base) = segments.iter().map(|s| s.address()).min() else {
        bail!("{} has no loadable segments", path.display());
    };
    let file_end = segments
        .iter()
        .map(|s| s.address() + s.data().map(|d| d.len() as u64).unwrap_or(0))
        .max()
        .unwrap_or(base);
    let end = match end_symbol {
        Some(name) => file
            .symbols()
            .find(|s| s.name() == Ok(name))
            .map(|s| s.address())
            .with_context(|| format!("{} has no symbol {name}", path.display()))?,
        None => file_end,
    };
    if end < file_end {
        bail!(
            "{}: {end_symbol:?} lies before the end of the loaded data",
            path.display()
        );
    }
    let mut image = vec![0u8; (end - base) as usize];
    for segment in segments {
        let bytes = segment.data()?;
        let offset = (segment.address() - base) as usize;
        image[offset..offset + bytes.len()].copy_from_slice(bytes);
    }
    Ok((base, image))
}
