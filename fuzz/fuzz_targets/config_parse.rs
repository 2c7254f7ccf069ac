//! The configuration reader on random DTB bytes: `Config::parse` never panics, a parsed
//! configuration stays within its capacities and validates against every board without
//! panicking, and every error formats.
#![no_main]

use std::fmt::Write;

use bulkhead_config::{validate, Config, MAX_PARTITIONS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|dtb: &[u8]| {
    let mut text = String::new();
    let config = match Config::parse(dtb) {
        Ok(config) => config,
        Err(error) => {
            write!(text, "{error}").expect("an error formats");
            assert!(!text.is_empty());
            return;
        }
    };
    assert!(config.partitions.len() <= MAX_PARTITIONS);
    for (index, partition) in config.partitions.iter().enumerate() {
        assert_eq!(
            config.partition_index(partition.name),
            Some(index).filter(|&i| {
                // Names are unique, so the first partition with this name is this one.
                config
                    .partitions
                    .iter()
                    .position(|p| p.name == partition.name)
                    == Some(i)
            })
        );
    }
    // Image sizes the loader would find: derived from the input, so the fuzzer steers them.
    let size_seed = dtb.len() as u64;
    let image_size = |name: &str| -> Option<u64> {
        (name.len() % 5 != 0).then(|| size_seed.wrapping_mul(name.len() as u64 + 1) << 12)
    };
    for facts in bulkhead_platforms::ALL {
        let board = facts.board();
        for error in validate(&config, &board, &image_size) {
            text.clear();
            write!(text, "{error}").expect("an error formats");
            assert!(!text.is_empty());
        }
    }
    // The unprotected-DMA warnings (check-config and the boot log) format.
    for warning in bulkhead_config::dma::unprotected(&config) {
        text.clear();
        write!(text, "{warning}").expect("a warning formats");
        assert!(text.starts_with("warning: partition "));
    }
});
