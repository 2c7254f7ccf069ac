//! What a partition learns from the device tree it was booted with (x0).

use fdt::Fdt;

/// Facts from the guest's device tree.
#[derive(Clone, Copy, Debug, Default)]
pub struct BootInfo<'a> {
    /// `/chosen/bootargs`.
    pub bootargs: &'a str,
    /// Base of the console PL011 (`/chosen/stdout-path`, else the first `arm,pl011`).
    pub console: Option<usize>,
}

impl<'a> BootInfo<'a> {
    /// Parses the device tree in `blob`.
    pub fn parse(blob: &'a [u8]) -> Option<Self> {
        let fdt = Fdt::new(blob).ok()?;
        let bootargs = fdt.chosen().bootargs().unwrap_or("");
        let bootargs = reborrow(blob, bootargs).unwrap_or("");
        let console = fdt
            .chosen()
            .stdout()
            .or_else(|| fdt.find_compatible(&["arm,pl011"]))
            .and_then(|node| node.reg()?.next())
            .map(|region| region.starting_address as usize);
        Some(BootInfo { bootargs, console })
    }

    /// The value of `key=value` in the boot arguments.
    pub fn arg(&self, key: &str) -> Option<&'a str> {
        self.bootargs.split_ascii_whitespace().find_map(|word| {
            let (k, v) = word.split_once('=')?;
            (k == key).then_some(v)
        })
    }
}

/// Finds `s` (a slice of `blob`) again with `blob`'s lifetime.
fn reborrow<'a>(blob: &'a [u8], s: &str) -> Option<&'a str> {
    let start = (s.as_ptr() as usize).checked_sub(blob.as_ptr() as usize)?;
    core::str::from_utf8(blob.get(start..start.checked_add(s.len())?)?).ok()
}

/// Parses a decimal or `0x` hexadecimal number.
pub fn parse_u64(text: &str) -> Option<u64> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boot_arguments_are_split_into_keys() {
        let info = BootInfo {
            bootargs: "heartbeat=5 then=off  fault-addr=0x48000000",
            console: None,
        };
        assert_eq!(info.arg("then"), Some("off"));
        assert_eq!(
            info.arg("fault-addr").and_then(parse_u64),
            Some(0x4800_0000)
        );
        assert_eq!(info.arg("missing"), None);
    }
}
