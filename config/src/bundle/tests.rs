extern crate std;

use super::*;
use std::vec::Vec;

fn sample() -> Vec<u8> {
    write_bundle(&[
        (CONFIG_ENTRY, b"dtb bytes".as_slice()),
        ("test-guest.bin", &[0xaa; 5000]),
        ("empty", &[]),
    ])
}

fn parse_err(data: &[u8]) -> BundleError {
    match Bundle::parse(data) {
        Err(e) => e,
        Ok(b) => panic!("parsed: {b:?}"),
    }
}

fn set_u64(data: &mut [u8], at: usize, v: u64) {
    data[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// Offset of field `field_at` of entry `index`'s record.
fn record(index: usize, field_at: usize) -> usize {
    HEADER_LEN + index * ENTRY_LEN + field_at
}

#[test]
fn bundle_round_trips_names_and_data() {
    let data = sample();
    let bundle = Bundle::parse(&data).expect("parses");
    assert_eq!(bundle.len(), 3);
    assert_eq!(bundle.get(CONFIG_ENTRY), Some(b"dtb bytes".as_slice()));
    assert_eq!(bundle.get("test-guest.bin"), Some([0xaa; 5000].as_slice()));
    assert_eq!(bundle.get("empty"), Some([].as_slice()));
    assert_eq!(bundle.get("nope"), None);
    let names: Vec<&str> = bundle.entries().map(|(n, _)| n).collect();
    assert_eq!(names, [CONFIG_ENTRY, "test-guest.bin", "empty"]);
}

#[test]
fn entries_are_4k_aligned_and_total_size_is_padded() {
    let data = sample();
    assert_eq!(data.len() % 4096, 0);
    assert_eq!(
        Bundle::total_size_from_header(&data),
        Some(data.len() as u64)
    );
    for (name, bytes) in Bundle::parse(&data).expect("parses").entries() {
        let offset = bytes.as_ptr() as usize - data.as_ptr() as usize;
        assert_eq!(offset % 4096, 0, "{name}");
    }
    // Header+table, config, 5000-byte image padded to two pages.
    assert_eq!(data.len(), 4096 * 4);
}

#[test]
fn header_fields_are_little_endian() {
    let data = sample();
    assert_eq!(&data[..8], b"BLKHDBDL");
    assert_eq!(data[8..12], 1u32.to_le_bytes());
    assert_eq!(data[12..16], 3u32.to_le_bytes());
    assert_eq!(data[16..24], (data.len() as u64).to_le_bytes());
    assert_eq!(&data[24..24 + 11], b"config.dtb\0");
    assert_eq!(data[record(0, 48)..record(0, 56)], 4096u64.to_le_bytes());
    assert_eq!(data[record(0, 56)..record(0, 64)], 9u64.to_le_bytes());
}

#[test]
fn bundle_may_be_followed_by_other_bytes() {
    let mut data = sample();
    let total = data.len();
    data.extend_from_slice(&[0xff; 100]);
    let bundle = Bundle::parse(&data).expect("parses");
    assert_eq!(bundle.as_bytes().len(), total);
}

#[test]
fn empty_bundle_round_trips() {
    let data = write_bundle(&[]);
    let bundle = Bundle::parse(&data).expect("parses");
    assert!(bundle.is_empty());
    assert_eq!(bundle.entries().count(), 0);
}

#[test]
fn identical_duplicate_entries_are_stored_once() {
    let data = write_bundle(&[("a", b"x".as_slice()), ("a", b"x".as_slice())]);
    assert_eq!(Bundle::parse(&data).expect("parses").len(), 1);
}

#[test]
fn conflicting_duplicate_entries_are_refused() {
    let e = try_write_bundle(&[("a", b"x".as_slice()), ("a", b"y".as_slice())]);
    assert!(matches!(e, Err(BundleWriteError::Conflict { .. })));
}

#[test]
fn bad_entry_names_are_refused_by_the_writer() {
    let long = "n".repeat(49);
    for name in ["", "a\0b", long.as_str()] {
        let e = try_write_bundle(&[(name, b"x".as_slice())]);
        assert!(
            matches!(e, Err(BundleWriteError::BadName { .. })),
            "{name:?}"
        );
    }
    let exactly_48 = "n".repeat(48);
    let data = write_bundle(&[(exactly_48.as_str(), b"x".as_slice())]);
    assert_eq!(
        Bundle::parse(&data).expect("parses").get(&exactly_48),
        Some(b"x".as_slice())
    );
}

#[test]
#[should_panic(expected = "cannot write boot bundle")]
fn write_bundle_panics_on_bad_names() {
    let _ = write_bundle(&[("", b"x".as_slice())]);
}

#[test]
fn too_many_entries_are_refused_by_the_writer() {
    let names: Vec<std::string::String> = (0..=MAX_BUNDLE_ENTRIES)
        .map(|i| std::format!("e{i}"))
        .collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), [].as_slice())).collect();
    assert!(matches!(
        try_write_bundle(&entries),
        Err(BundleWriteError::TooManyEntries { count: 65 })
    ));
}

#[test]
fn short_input_is_rejected() {
    let data = sample();
    assert_eq!(parse_err(&data[..23]), BundleError::TooShort { len: 23 });
    assert_eq!(parse_err(&[]), BundleError::TooShort { len: 0 });
    assert_eq!(Bundle::total_size_from_header(&data[..23]), None);
}

#[test]
fn wrong_magic_is_rejected() {
    let mut data = sample();
    data[0] = b'X';
    assert_eq!(
        parse_err(&data),
        BundleError::BadMagic {
            found: *b"XLKHDBDL"
        }
    );
    assert_eq!(Bundle::total_size_from_header(&data), None);
}

#[test]
fn wrong_version_is_rejected() {
    let mut data = sample();
    data[8] = 2;
    assert_eq!(parse_err(&data), BundleError::BadVersion { found: 2 });
    assert_eq!(Bundle::total_size_from_header(&data), None);
}

#[test]
fn total_size_beyond_input_is_rejected() {
    let data = sample();
    let len = data.len();
    assert_eq!(
        parse_err(&data[..len - 1]),
        BundleError::Truncated {
            total_size: len as u64,
            len: len - 1
        }
    );
    let mut huge = data.clone();
    set_u64(&mut huge, 16, u64::MAX);
    assert!(matches!(parse_err(&huge), BundleError::Truncated { .. }));
}

#[test]
fn absurd_entry_count_is_rejected() {
    let mut data = sample();
    data[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(
        parse_err(&data),
        BundleError::TooManyEntries {
            count: u32::MAX,
            max: MAX_BUNDLE_ENTRIES
        }
    );
}

#[test]
fn entry_table_beyond_total_size_is_rejected() {
    let mut data = sample();
    set_u64(&mut data, 16, 100);
    assert_eq!(
        parse_err(&data),
        BundleError::TableOutside {
            count: 3,
            total_size: 100
        }
    );
}

#[test]
fn entry_beyond_total_size_is_rejected() {
    let mut data = sample();
    set_u64(&mut data, record(1, 56), u64::MAX);
    assert!(matches!(
        parse_err(&data),
        BundleError::EntryOutside {
            index: 1,
            size: u64::MAX,
            ..
        }
    ));
    let mut data = sample();
    set_u64(&mut data, record(2, 48), 0xffff_ffff_ffff_f000);
    assert!(matches!(
        parse_err(&data),
        BundleError::EntryOutside { index: 2, .. }
    ));
}

#[test]
fn misaligned_entry_is_rejected() {
    let mut data = sample();
    set_u64(&mut data, record(0, 48), 4097);
    assert_eq!(
        parse_err(&data),
        BundleError::Misaligned {
            index: 0,
            offset: 4097
        }
    );
}

#[test]
fn entry_inside_the_table_is_rejected() {
    let mut data = sample();
    set_u64(&mut data, record(0, 48), 0);
    assert_eq!(
        parse_err(&data),
        BundleError::EntryOverlapsTable {
            index: 0,
            offset: 0
        }
    );
}

#[test]
fn malformed_names_are_rejected() {
    let mut data = sample();
    data[record(1, 0)] = 0;
    assert_eq!(
        parse_err(&data),
        BundleError::BadName {
            index: 1,
            why: "empty name"
        }
    );
    let mut data = sample();
    data[record(0, 0)] = 0xff;
    assert_eq!(
        parse_err(&data),
        BundleError::BadName {
            index: 0,
            why: "name is not UTF-8"
        }
    );
    let mut data = sample();
    data[record(0, 40)] = b'x';
    assert_eq!(
        parse_err(&data),
        BundleError::BadName {
            index: 0,
            why: "bytes after the NUL padding"
        }
    );
}

#[test]
fn duplicate_names_are_rejected() {
    let mut data = sample();
    let first: Vec<u8> = data[record(0, 0)..record(0, 48)].to_vec();
    data[record(2, 0)..record(2, 48)].copy_from_slice(&first);
    assert_eq!(
        parse_err(&data),
        BundleError::DuplicateName { index: 2, first: 0 }
    );
}

#[test]
fn every_single_byte_corruption_of_the_table_is_handled() {
    let data = sample();
    for i in 0..record(3, 0) {
        for v in [0u8, 1, 0x10, 0x80, 0xff] {
            let mut copy = data.clone();
            copy[i] = v;
            if let Ok(b) = Bundle::parse(&copy) {
                for (_, bytes) in b.entries() {
                    assert!(bytes.len() <= copy.len());
                }
            }
        }
    }
}

#[test]
fn bundle_errors_display_their_evidence() {
    assert_eq!(
        std::format!(
            "{}",
            BundleError::Misaligned {
                index: 2,
                offset: 0x1001
            }
        ),
        "bundle entry 2: offset 0x1001 is not 4096-aligned"
    );
    assert_eq!(
        std::format!("{}", BundleError::BadVersion { found: 7 }),
        "bundle: version 7 is not supported (expected 1)"
    );
}
