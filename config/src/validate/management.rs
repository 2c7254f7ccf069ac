//! Checking a partition's `management` window: only in the `privileged` partition, exactly
//! one page-aligned 4 KiB page, apart from the partition's memory, devices, console and
//! watchdog frames.

use crate::error::{ConfigError, ErrorKind};
use crate::model::{PartitionConfig, MANAGEMENT_WINDOW_SIZE};
use crate::report::Report;

use super::PAGE_SIZE;

/// Checks the management window of partition `index` (`partition`), if it has one.
pub(super) fn check(index: usize, partition: &PartitionConfig<'_>, report: &mut Report) {
    let Some(window) = partition.management else {
        return;
    };
    let error = |kind| {
        ConfigError::at(
            Some(index),
            &["partitions", partition.name, "management"],
            kind,
        )
    };
    if !partition.privileged {
        report.push(error(ErrorKind::ManagementUnprivileged));
    }
    let bad = |why| error(ErrorKind::BadManagementWindow { why, range: window });
    if window.size != MANAGEMENT_WINDOW_SIZE {
        report.push(bad("is not 4 KiB (0x1000 bytes)"));
    }
    if !window.start.is_multiple_of(PAGE_SIZE) {
        report.push(bad("is not page-aligned"));
    }
    let memory = partition.memory.iter().map(|r| ("overlaps memory", r.ipa));
    let devices = partition
        .devices
        .iter()
        .map(|d| ("overlaps a device", d.ipa_range()));
    let console = partition.console.map(|c| ("overlaps the console", c));
    let watchdog = partition.watchdog.into_iter().flat_map(|w| {
        [
            ("overlaps the watchdog's control frame", w.control),
            ("overlaps the watchdog's refresh frame", w.refresh),
        ]
    });
    for (why, other) in memory.chain(devices).chain(console).chain(watchdog) {
        if other.overlaps(&window) {
            report.push(bad(why));
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use crate::error::ErrorKind;
    use crate::test_support::{
        config_with_channels, messages, validation_errors, with_parsed, LINUX, RTOS,
    };
    use std::format;
    use std::string::String;

    /// LINUX (partition 0), `privileged` or not, with `extra` before its kernel node, beside
    /// RTOS.
    fn config(privileged: bool, extra: &str) -> String {
        let flag = if privileged { "privileged;" } else { "" };
        let linux = LINUX
            .replace("cpus = <0x0 0x1>;", &format!("cpus = <0x0 0x1>; {flag}"))
            .replace("kernel {", &format!("{extra} kernel {{"));
        config_with_channels(&format!("{linux}{RTOS}"), "")
    }

    const WINDOW: &str = "management { reg = <0x0 0x0a4f0000 0x0 0x1000>; };";

    #[test]
    fn a_privileged_partition_may_have_a_window_and_it_is_parsed() {
        let text = config(true, WINDOW);
        let errors = validation_errors(&text);
        assert!(errors.is_empty(), "{}", messages(&errors));
        let window = with_parsed(&text, |c| c.partitions[0].management.unwrap());
        assert_eq!((window.start, window.size), (0x0a4f_0000, 0x1000));
    }

    #[test]
    fn an_unprivileged_partition_gets_no_window() {
        let errors = validation_errors(&config(false, WINDOW));
        let text = messages(&errors);
        assert!(text.contains("/partitions/linux/management"), "{text}");
        assert!(
            errors
                .iter()
                .any(|e| matches!(e.kind, ErrorKind::ManagementUnprivileged)),
            "{text}"
        );
    }

    #[test]
    fn a_window_must_be_one_aligned_page_of_its_own() {
        let errors = validation_errors(&config(
            true,
            "management { reg = <0x0 0x40000800 0x0 0x2000>; };",
        ));
        let text = messages(&errors);
        for why in [
            "is not 4 KiB (0x1000 bytes)",
            "is not page-aligned",
            "overlaps memory",
        ] {
            assert!(
                errors.iter().any(|e| matches!(
                    e.kind,
                    ErrorKind::BadManagementWindow { why: w, .. } if w == why
                )),
                "{why}: {text}"
            );
        }
    }
}
