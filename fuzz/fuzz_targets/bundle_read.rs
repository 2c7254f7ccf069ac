//! The boot-bundle reader: `Bundle::parse` on random bytes never panics and whatever it accepts
//! is consistent (entries inside the bundle, aligned, uniquely named, found by name); a bundle
//! written from random entries reads back exactly those entries.
#![no_main]

use arbitrary::Arbitrary;
use bulkhead_config::bundle::MAX_BUNDLE_ENTRIES;
use bulkhead_config::{try_write_bundle, Bundle};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Input<'a> {
    /// Bytes as the hypervisor finds them after its image.
    Raw(&'a [u8]),
    /// Entries for the writer, to read back.
    Entries(Vec<(&'a str, &'a [u8])>),
}

fn check(bundle: &Bundle<'_>) {
    let whole = bundle.as_bytes();
    let range = whole.as_ptr_range();
    assert_eq!(
        Bundle::total_size_from_header(whole),
        Some(whole.len() as u64)
    );
    assert!(bundle.len() <= MAX_BUNDLE_ENTRIES);
    assert_eq!(
        bundle.entries().count(),
        bundle.len(),
        "an accepted entry is skipped"
    );
    let mut names = Vec::new();
    for (name, data) in bundle.entries() {
        assert!(!name.is_empty() && !names.contains(&name), "{name:?}");
        names.push(name);
        let start = data.as_ptr();
        assert!(range.start <= start && start as usize + data.len() <= range.end as usize);
        assert_eq!(
            (start as usize - range.start as usize) % 4096,
            0,
            "{name} misaligned"
        );
        assert_eq!(bundle.get(name), Some(data));
    }
}

fuzz_target!(|input: Input<'_>| match input {
    Input::Raw(bytes) => {
        if let Ok(bundle) = Bundle::parse(bytes) {
            check(&bundle);
        }
    }
    Input::Entries(entries) => {
        let Ok(written) = try_write_bundle(&entries) else {
            return;
        };
        let bundle = Bundle::parse(&written).expect("the reader accepts what the writer wrote");
        check(&bundle);
        let mut expected: Vec<(&str, &[u8])> = Vec::new();
        for &(name, data) in &entries {
            if !expected.iter().any(|&(n, _)| n == name) {
                expected.push((name, data));
            }
        }
        assert_eq!(bundle.entries().collect::<Vec<_>>(), expected);
    }
});
