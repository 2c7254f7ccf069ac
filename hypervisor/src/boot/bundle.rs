//! Finding the configuration bundle `cargo xtask build` appends to the image, and the memory
//! the hypervisor keeps for itself.

use bulkhead_config::bundle::Bundle;
use bulkhead_config::range::Range;

/// The header [`Bundle::total_size_from_header`] reads.
const HEADER_LEN: usize = 64;
/// The largest bundle believed: a bigger size in a header is garbage after an image without one.
pub const MAX_BUNDLE_SIZE: u64 = 1 << 30;
/// The hypervisor's reservation is rounded out to 2 MiB, so partitions keep block mappings.
const ALIGN_2M: u64 = 2 << 20;

/// The bundle that starts right after the image, if there is one. `after_image(len)` gives the
/// first `len` bytes there, or `None` if memory ends sooner. The bundle's contents are not
/// checked here, only its header's size.
pub fn find_bundle<'a>(mut after_image: impl FnMut(usize) -> Option<&'a [u8]>) -> Option<&'a [u8]> {
    let size = Bundle::total_size_from_header(after_image(HEADER_LEN)?)?;
    if size > MAX_BUNDLE_SIZE {
        return None;
    }
    after_image(usize::try_from(size).ok()?)
}

/// What the hypervisor reserves for itself: its image `[image_start, image_end)` and the
/// `bundle_len` bytes of bundle after it, rounded out to 2 MiB boundaries.
pub fn hypervisor_reservation(image_start: u64, image_end: u64, bundle_len: u64) -> Range {
    let start = image_start & !(ALIGN_2M - 1);
    let end = image_end
        .saturating_add(bundle_len)
        .div_ceil(ALIGN_2M)
        .saturating_mul(ALIGN_2M);
    Range {
        start,
        size: end.saturating_sub(start),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bulkhead_config::write_bundle;

    #[test]
    fn a_bundle_after_the_image_is_found_at_its_declared_size() {
        let bundle = write_bundle(&[("config.dtb", b"cfg"), ("kernel.bin", &[7; 100])]);
        let mut memory = bundle.clone();
        memory.extend_from_slice(&[0xee; 4096]);
        let found = find_bundle(|len| memory.get(..len)).expect("a bundle");
        assert_eq!(found, &bundle[..]);
    }

    #[test]
    fn no_bundle_after_the_image_is_none() {
        let memory = [0u8; 4096];
        assert_eq!(find_bundle(|len| memory.get(..len)), None);
    }

    #[test]
    fn a_bundle_cut_short_by_the_end_of_memory_is_none() {
        let bundle = write_bundle(&[("kernel.bin", &[7; 1000])]);
        let memory = &bundle[..bundle.len() - 1];
        assert_eq!(find_bundle(|len| memory.get(..len)), None);
    }

    #[test]
    fn a_header_claiming_more_than_a_gibibyte_is_not_believed() {
        let mut header = write_bundle(&[("kernel.bin", &[7; 10])]);
        let huge = (MAX_BUNDLE_SIZE + 1).to_le_bytes();
        header[16..24].copy_from_slice(&huge);
        let mut asked = std::vec::Vec::new();
        assert_eq!(
            find_bundle(|len| {
                asked.push(len);
                header.get(..len.min(header.len()))
            }),
            None
        );
        assert_eq!(asked, [HEADER_LEN], "only the header was read");
    }

    #[test]
    fn the_reservation_covers_image_and_bundle_in_whole_2_mib_blocks() {
        let range = hypervisor_reservation(0x4020_0000, 0x4031_2345, 0);
        assert_eq!(range, Range::new(0x4020_0000, 0x20_0000));
        let range = hypervisor_reservation(0x4020_0000, 0x4031_2345, 0x10_0000);
        assert_eq!(range, Range::new(0x4020_0000, 0x40_0000));
        let range = hypervisor_reservation(0x4028_0000, 0x403f_ffff, 2);
        assert_eq!(range, Range::new(0x4020_0000, 0x40_0000));
    }
}
