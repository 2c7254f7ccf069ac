//! Rules shared by every node: the properties accepted anywhere, partition
//! names, and decoders that turn a property value into a number, range, CPU
//! list or file name, or say why it cannot be one. The node a problem is at
//! is added by the caller, and only when there is a problem.

use crate::cells;
use crate::error::ErrorKind;
use crate::limits::{MAX_CPUS, MAX_FILE_NAME, MAX_NAME, MAX_SMC_ALLOW, MAX_STREAM_IDS};
use crate::model::{RestartLimit, MAX_RESTART_COUNT, MAX_RESTART_WINDOW_S};
use crate::range::Range;
use crate::text::bounded;
use heapless::Vec;

/// A [`ErrorKind::BadProperty`] for the property `name`.
pub(super) fn bad(name: &'static str, why: &'static str) -> ErrorKind {
    ErrorKind::BadProperty { name, why }
}

const WHY_RANGE: &str = "must be 4 cells: <addr-hi addr-lo size-hi size-lo>";
const WHY_ADDR: &str = "must be 2 cells: <hi lo>";
/// Why a property that must be a string is not.
pub(super) const WHY_STRING: &str = "must be a single non-empty string";
const WHY_ZERO: &str = "size must not be zero";
const WHY_WRAP: &str = "range wraps past the end of the 64-bit address space";

/// Accepts the properties every node may carry (`#address-cells` and
/// `#size-cells` only as `<2>`; `phandle`, `linux,phandle` and `name`
/// ignored); anything else is unknown here, where `allowed` lists what is.
pub(super) fn check_ignored(
    name: &str,
    value: &[u8],
    allowed: &'static str,
) -> Result<(), ErrorKind> {
    let cell_size = match name {
        "#address-cells" => "#address-cells",
        "#size-cells" => "#size-cells",
        "phandle" | "linux,phandle" | "name" => return Ok(()),
        _ => {
            return Err(ErrorKind::UnknownProperty {
                name: bounded(name),
                allowed,
            })
        }
    };
    if cells::u32_cell(value) != Some(2) {
        return Err(bad(
            cell_size,
            "must be <2>: addresses and sizes are written as two cells",
        ));
    }
    Ok(())
}

/// Checks the name of a partition or channel (`what`): 1 to [`MAX_NAME`]
/// bytes of `a-z`, `0-9`, `-` and `_`.
pub(super) fn check_name(name: &str, what: &'static str) -> Result<(), ErrorKind> {
    let why = if name.is_empty() {
        "must not be empty"
    } else if name.len() > MAX_NAME {
        "longer than 31 bytes"
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        "only a-z, 0-9, '-' and '_' are allowed"
    } else {
        return Ok(());
    };
    Err(ErrorKind::BadName { what, why })
}

/// Decodes `cpus`: a non-empty list of cells, at most [`MAX_CPUS`].
pub(super) fn cpus(value: &[u8]) -> Result<Vec<u64, MAX_CPUS>, ErrorKind> {
    let list = cells::u32_list(value)
        .filter(|_| !value.is_empty())
        .ok_or_else(|| {
            bad(
                "cpus",
                "must be a non-empty list of cells, one MPIDR affinity value per CPU",
            )
        })?;
    let mut cpus = Vec::new();
    for mpidr in list {
        cpus.push(u64::from(mpidr))
            .map_err(|_| ErrorKind::TooMany {
                what: "CPUs in a partition",
                max: MAX_CPUS,
            })?;
    }
    Ok(cpus)
}

/// Decodes `smc-allow`: a non-empty list of cells, one SMCCC function ID
/// each, at most [`MAX_SMC_ALLOW`]. Which IDs may be listed is checked by
/// [`crate::validate()`].
pub(super) fn smc_allow(value: &[u8]) -> Result<Vec<u32, MAX_SMC_ALLOW>, ErrorKind> {
    let list = cells::u32_list(value)
        .filter(|_| !value.is_empty())
        .ok_or_else(|| {
            bad(
                "smc-allow",
                "must be a non-empty list of cells, one SMCCC function ID each",
            )
        })?;
    let mut functions = Vec::new();
    for function in list {
        functions.push(function).map_err(|_| ErrorKind::TooMany {
            what: "function IDs in `smc-allow`",
            max: MAX_SMC_ALLOW,
        })?;
    }
    Ok(functions)
}

/// Decodes `max-restarts`: two cells `<count seconds>`, count 1..=32, seconds 1..=86400.
pub(super) fn max_restarts(value: &[u8]) -> Result<RestartLimit, ErrorKind> {
    let mut list = cells::u32_list(value).ok_or_else(|| bad("max-restarts", WHY_RESTARTS))?;
    let (Some(count), Some(seconds), None) = (list.next(), list.next(), list.next()) else {
        return Err(bad("max-restarts", WHY_RESTARTS));
    };
    if !(1..=MAX_RESTART_COUNT).contains(&count) {
        return Err(bad(
            "max-restarts",
            "the count must be 1..=32 (for no limit, leave the property out)",
        ));
    }
    if !(1..=MAX_RESTART_WINDOW_S).contains(&seconds) {
        return Err(bad("max-restarts", "the window must be 1..=86400 seconds"));
    }
    Ok(RestartLimit { count, seconds })
}

const WHY_RESTARTS: &str =
    "must be 2 cells: <count seconds>, at most `count` restarts in any `seconds` seconds";

/// Decodes a boolean property such as `privileged`: present and empty.
pub(super) fn flag(value: &[u8], name: &'static str) -> Result<(), ErrorKind> {
    if value.is_empty() {
        Ok(())
    } else {
        Err(bad(name, "takes no value: write `privileged;`"))
    }
}

/// Decodes a flag property other than `privileged` (`direct-map;`, `dma-master;`,
/// `unprotected-dma;`): it takes no value.
pub(super) fn flag_property(value: &[u8], name: &'static str) -> Result<(), ErrorKind> {
    if value.is_empty() {
        Ok(())
    } else {
        Err(bad(
            name,
            "takes no value: write the property's name alone, e.g. `direct-map;`",
        ))
    }
}

/// Decodes a device's `stream-ids`: a non-empty list of cells, each an SMMU stream ID, at
/// most [`MAX_STREAM_IDS`].
pub(super) fn stream_ids(value: &[u8]) -> Result<Vec<u32, MAX_STREAM_IDS>, ErrorKind> {
    let why = "must be a non-empty list of cells, one SMMU stream ID each";
    let list = cells::u32_list(value)
        .filter(|_| !value.is_empty())
        .ok_or_else(|| bad("stream-ids", why))?;
    let mut ids = Vec::new();
    for id in list {
        ids.push(id).map_err(|_| ErrorKind::TooMany {
            what: "stream IDs on a device",
            max: MAX_STREAM_IDS,
        })?;
    }
    Ok(ids)
}

/// Decodes a channel's `partitions`: exactly two non-empty strings. Whether
/// they name partitions, two different ones, is checked by [`crate::validate()`].
pub(super) fn channel_partitions(value: &[u8]) -> Result<[&str; 2], ErrorKind> {
    let why = "must be two strings, the names of the partitions the channel joins";
    let mut list = cells::string_list(value).ok_or_else(|| bad("partitions", why))?;
    match (list.next(), list.next(), list.next()) {
        (Some(a), Some(b), None) if !a.is_empty() && !b.is_empty() => Ok([a, b]),
        _ => Err(bad("partitions", why)),
    }
}

/// Decodes a channel's `interrupts`: exactly two cells, the doorbell INTID of
/// each end. Which INTIDs are allowed is checked by [`crate::validate()`].
pub(super) fn channel_interrupts(value: &[u8]) -> Result<[u32; 2], ErrorKind> {
    let why = "must be 2 cells: the doorbell INTID of each partition, in the order of `partitions`";
    let mut list = cells::u32_list(value).ok_or_else(|| bad("interrupts", why))?;
    match (list.next(), list.next(), list.next()) {
        (Some(a), Some(b), None) => Ok([a, b]),
        _ => Err(bad("interrupts", why)),
    }
}

/// Decodes a channel's `kind`: `"doorbell"` or `"serial"`.
pub(super) fn channel_kind(value: &[u8]) -> Result<crate::model::ChannelKind, ErrorKind> {
    use crate::model::ChannelKind;
    match cells::string(value) {
        Some("doorbell") => Ok(ChannelKind::Doorbell),
        Some("serial") => Ok(ChannelKind::Serial),
        Some("vsock") => Ok(ChannelKind::Vsock),
        _ => Err(bad("kind", "must be \"doorbell\", \"serial\" or \"vsock\"")),
    }
}

/// Decodes a serial channel's `port-name`: 1 to 31 bytes of `[A-Za-z0-9._-]` (it becomes
/// `/dev/virtio-ports/<name>` in Linux).
pub(super) fn port_name(value: &[u8]) -> Result<&str, ErrorKind> {
    let why = "must be a string of 1 to 31 characters from A-Z a-z 0-9 . _ -";
    let name = cells::string(value).ok_or_else(|| bad("port-name", why))?;
    let fits = (1..=31).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    fits.then_some(name).ok_or_else(|| bad("port-name", why))
}

/// Decodes a virtio channel's `virtio-windows`: two 2-cell addresses, the device window of
/// each end.
pub(super) fn virtio_windows(value: &[u8]) -> Result<[u64; 2], ErrorKind> {
    let why = "must be 4 cells: the 64-bit IPA of each partition's virtio-mmio window, in the \
               order of `partitions`";
    match (value.get(..8), value.get(8..), value.len()) {
        (Some(a), Some(b), 16) => match (cells::u64_cells(a), cells::u64_cells(b)) {
            (Some(a), Some(b)) => Ok([a, b]),
            _ => Err(bad("virtio-windows", why)),
        },
        _ => Err(bad("virtio-windows", why)),
    }
}

/// Decodes a `reg` property: four cells, non-zero size, no wrap-around.
pub(super) fn reg(value: &[u8]) -> Result<Range, ErrorKind> {
    let range = cells::range_cells(value).ok_or_else(|| bad("reg", WHY_RANGE))?;
    if range.size == 0 {
        return Err(bad("reg", WHY_ZERO));
    }
    if range.checked_end().is_none() {
        return Err(bad("reg", WHY_WRAP));
    }
    Ok(range)
}

/// Decodes a two-cell address property such as `load` or `entry`.
pub(super) fn address(value: &[u8], name: &'static str) -> Result<u64, ErrorKind> {
    cells::u64_cells(value).ok_or_else(|| bad(name, WHY_ADDR))
}

/// Decodes a two-cell address property (`phys`, `ipa`) that starts a range of
/// `size` bytes.
pub(super) fn start(value: &[u8], size: u64, name: &'static str) -> Result<u64, ErrorKind> {
    let start = address(value, name)?;
    if Range::new(start, size).checked_end().is_none() {
        return Err(bad(name, WHY_WRAP));
    }
    Ok(start)
}

/// Decodes `file`: a string of at most [`MAX_FILE_NAME`] bytes, not the name
/// reserved for the configuration itself.
pub(super) fn file(value: &[u8]) -> Result<&str, ErrorKind> {
    let file = cells::string(value).ok_or_else(|| bad("file", WHY_STRING))?;
    if file.len() > MAX_FILE_NAME {
        return Err(bad(
            "file",
            "longer than 48 bytes, the longest bundle entry name",
        ));
    }
    if file == crate::bundle::CONFIG_ENTRY {
        return Err(bad(
            "file",
            "\"config.dtb\" is reserved for the configuration itself",
        ));
    }
    Ok(file)
}
